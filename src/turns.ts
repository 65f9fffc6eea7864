// Long synchronous work split into turns of the event loop, so that other installs' requests
// are served in between (spec section 18). One 8 MiB body's decoding, checking and parsing,
// or the encoding of its values for the database, each take tens of milliseconds; run back
// to back they held the loop for up to 210 ms (bench/README.md, "noisy").

/** Lets the event loop serve what is waiting (I/O, timers) before going on. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Work of at most this many bytes is done in one turn. */
export const BYTES_PER_TURN = 256 * 1024;

/** Work measured in time (schema validation) is done in turns of at most about this long. */
export const MS_PER_TURN = 10;
