// Watchers: the open watch streams of this process and the one listener that wakes them.
//
// - One listener per process (Database.listen: LISTEN ext_storage_changes on PostgreSQL, in
//   process on the embedded database) fans a notification out to the streams of its
//   install. A notification is a hint: each woken stream reads its feed (changes.list) from
//   its own cursor, so nothing is lost or repeated whatever notifications do.
// - A poll (STORAGE_WATCH_POLL_MS, one changes.heads for every watched install) wakes the
//   streams whose install moved without a notification reaching us: on Citus, where a
//   notification raised on a worker does not reach the coordinator's listeners, and while
//   the listener reconnects.
// - Writes notify only for installs some process watches (changes.notify reads
//   ext_storage_watched): a stream takes a lease on its install before its first read, and
//   the poll renews the leases of the installs still watched. A write that missed a lease
//   taken while it ran is read by the poll.
// - An idle stream holds no database connection: it is a cursor and a callback; it runs a
//   statement only when woken, one at a time.
// - A stream whose client reads too slowly (its buffer full) is closed after the events it
//   already holds, each with its id: the client resumes from the last one it got.
// - Two bounds on open streams: per install (maxPerInstall; the install's to mind) and per
//   process (maxStreams, all installs together; about 10 KiB each), so that many installs
//   cannot open streams until the process runs out of memory.
import type { Database } from "../db/client.ts";
import type { Logger } from "../log.ts";
import {
  type ChangeFilter,
  type ChangesResult,
  decodePosition,
  type FeedItem,
  MAX_CHANGES_LIMIT,
  type Position,
  readChanges,
} from "./changes.ts";
import type { Install } from "./install.ts";

type Scope = Pick<Install, "tenantId" | "installId">;

/** Where a stream's events go. put returns false when the stream's buffer is full. */
export type WatchSink = {
  put(item: FeedItem): boolean;
  /** the cursor is older than what is kept: tell the client to reset, then close */
  reset(): void;
  /** close the stream (drain, purge, a slow client, a failure) */
  close(why: "drain" | "purge" | "slow" | "failed"): void;
};

export type WatchOptions = { buffer: number; maxPerInstall: number; maxStreams: number; pollMs: number };
/** Why a stream was not opened: its install's limit, the process's, or the process draining. */
export type WatchRefusal = "install" | "process" | "draining";
/** Told of every stream the server ends, and why (the metrics' countStreamEnd). */
export type StreamEndObserver = (why: Parameters<WatchSink["close"]>[0] | "reset") => void;

type Watcher = {
  install: Scope;
  filter: ChangeFilter;
  values: boolean;
  cursor: string;
  position: Position;
  sink: WatchSink;
  reading: boolean;
  again: boolean;
  /** when it was last woken (performance.now()): a shared read sent before then may predate the change */
  wokenAt: number;
  /** reads failed in a row (the database away): retried with a growing pause, then closed */
  failures: number;
  closed: boolean;
};

// A read that fails (a connection cut, a restart) is tried again rather than closing the
// stream at once, so that a database blip does not send every client reconnecting together:
// after 0.25, 0.5, 1, 2 s; the fifth failure in a row closes the stream (the client resumes
// from its last id).
const READ_TRIES = 5;

/** A pause that keeps no process alive (the app also runs under Deno: no Bun.sleep). */
const pause = (ms: number) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    (timer as { unref?: () => void }).unref?.();
  });

type SharedRead = { sentAt: number; result: Promise<ChangesResult> };

export type Watchers = ReturnType<typeof createWatchers>;

// A lease outlives three renewals, so one failed renewal costs nothing.
const LEASE_SECONDS = 60;
const RENEW_AFTER_MS = 20_000;

export function createWatchers(
  db: Database,
  options: WatchOptions,
  log: Logger,
  observeEnd: StreamEndObserver = () => {},
) {
  const byInstall = new Map<string, Set<Watcher>>();
  /** the streams open, all installs together (the sum of byInstall's sets) */
  let openCount = 0;
  let listening: Promise<(() => Promise<void>) | undefined> | undefined;
  let poller: ReturnType<typeof setInterval> | undefined;
  let polling = false;
  let draining = false;
  /** when this process last leased each watched install (performance.now()) */
  const leased = new Map<string, number>();
  // Streams of one install that are caught up share a cursor, so a change wakes them all at
  // the same position: one read serves every stream with the same position, filter and
  // values, provided it was sent after the stream was woken (so its snapshot holds the change).
  const shared = new Map<string, SharedRead>();
  function readShared(w: Watcher, limit: number): Promise<ChangesResult> {
    const key = JSON.stringify([w.install.installId, w.install.tenantId, w.filter, w.values, w.position, limit]);
    const found = shared.get(key);
    if (found !== undefined && found.sentAt >= w.wokenAt) return found.result;
    const read: SharedRead = {
      sentAt: performance.now(),
      result: readChanges(db, w.install, { ...w.filter, since: w.position, limit, values: w.values }),
    };
    shared.set(key, read);
    const forget = () => {
      if (shared.get(key) === read) shared.delete(key);
    };
    read.result.then(forget, forget);
    return read.result;
  }

  /** Leases the installs not leased within RENEW_AFTER_MS; never throws (the poll covers). */
  async function lease(installIds: string[]) {
    const now = performance.now();
    const due = installIds.filter((id) => now - (leased.get(id) ?? Number.NEGATIVE_INFINITY) > RENEW_AFTER_MS);
    if (due.length === 0) return;
    try {
      await db.run("changes.lease", [due, LEASE_SECONDS]);
      for (const id of due) leased.set(id, now);
    } catch (error) {
      log.warn("watch lease failed", { error: (error as Error).message });
    }
  }

  const all = () => [...byInstall.values()].flatMap((set) => [...set]);

  function remove(w: Watcher) {
    w.closed = true;
    const set = byInstall.get(w.install.installId);
    if (set?.delete(w)) openCount--;
    if (set?.size === 0) {
      byInstall.delete(w.install.installId);
      leased.delete(w.install.installId);
    }
  }

  function close(w: Watcher, why: Parameters<WatchSink["close"]>[0]) {
    if (w.closed) return;
    remove(w);
    observeEnd(why);
    w.sink.close(why);
  }

  /** Reads the watcher's feed until it is caught up; one read at a time per watcher. */
  async function read(w: Watcher) {
    if (w.closed) return;
    if (w.reading) {
      w.again = true;
      return;
    }
    w.reading = true;
    try {
      // bounded: each round either empties the feed or fills a page; a full buffer closes
      for (let round = 0; round < 100 && !w.closed; round++) {
        w.again = false;
        const limit = Math.min(MAX_CHANGES_LIMIT, options.buffer);
        const result = await readShared(w, limit);
        if (w.closed) return;
        if (!result.ok) {
          remove(w);
          observeEnd("reset");
          w.sink.reset();
          return;
        }
        for (const item of result.page.items) {
          if (!w.sink.put(item)) return close(w, "slow");
          w.cursor = item.cursor;
        }
        w.cursor = result.page.cursor;
        w.position = decodePosition(w.install, w.cursor);
        w.failures = 0;
        if (result.page.items.length < limit && !w.again) return;
      }
    } catch (error) {
      w.failures++;
      log.warn("watch read failed", { error: (error as Error).message, failures: w.failures });
      if (w.failures >= READ_TRIES) close(w, "failed");
      else {
        const retry = setTimeout(() => void read(w), 250 * 2 ** (w.failures - 1));
        retry.unref?.();
      }
    } finally {
      w.reading = false;
    }
  }

  const wake = (installId: string) => {
    const now = performance.now();
    for (const w of byInstall.get(installId) ?? []) {
      w.wokenAt = now;
      void read(w);
    }
  };

  async function poll() {
    if (polling || byInstall.size === 0) return;
    polling = true;
    try {
      const watched = all();
      const pairs = new Map(watched.map((w) => [w.install.installId, w.install.tenantId]));
      await lease([...pairs.keys()]);
      const heads = await db.run<{ install_id: string; last_revision: number; changes_floor: number }>(
        "changes.heads",
        [[...pairs.keys()], [...pairs.values()]],
      );
      for (const head of heads) {
        for (const w of byInstall.get(head.install_id) ?? []) {
          // more to read, or the cursor fell below what is kept
          if (head.last_revision >= w.position.revision || head.changes_floor >= w.position.revision) {
            w.wokenAt = performance.now();
            void read(w);
          }
        }
      }
    } catch (error) {
      log.warn("watch poll failed", { error: (error as Error).message });
    } finally {
      polling = false;
    }
  }

  function start() {
    if (listening !== undefined) return;
    listening = db
      .listen(wake, () => {
        // (again) listening: whatever was announced while away is read now
        const now = performance.now();
        for (const w of all()) {
          w.wokenAt = now;
          void read(w);
        }
      })
      .catch((error) => {
        log.warn("change listener failed; the poll carries on alone", { error: (error as Error).message });
        return undefined;
      });
    poller = setInterval(() => void poll(), options.pollMs);
    poller.unref?.();
  }

  function refusal(install: Scope): WatchRefusal | undefined {
    if (draining) return "draining";
    // the install's own limit first: an install at it is told so (429) whatever the process holds
    if ((byInstall.get(install.installId)?.size ?? 0) >= options.maxPerInstall) return "install";
    if (openCount >= options.maxStreams) return "process";
    return undefined;
  }

  return {
    /** Why a stream of the install would not be opened now, if it would not: a refused
     * request is answered before it costs a read (open checks again). */
    refusal,
    /** Opens a watcher at a cursor (already decoded against the install), or says why not:
     * the install has its most streams open in this process, the process has, or it drains. */
    open(
      install: Scope,
      filter: ChangeFilter,
      values: boolean,
      at: { cursor: string; position: Position },
      sink: WatchSink,
    ): { ok: true; stop: () => void } | { ok: false; why: WatchRefusal } {
      const why = refusal(install);
      if (why !== undefined) return { ok: false, why };
      const set = byInstall.get(install.installId) ?? new Set<Watcher>();
      const w: Watcher = {
        install,
        filter,
        values,
        cursor: at.cursor,
        position: at.position,
        sink,
        reading: false,
        again: false,
        wokenAt: performance.now(),
        failures: 0,
        closed: false,
      };
      set.add(w);
      openCount++;
      byInstall.set(install.installId, set);
      start();
      // the lease first: a write that commits after it notifies; then catch up from the cursor
      void lease([install.installId]).then(() => read(w));
      return { ok: true, stop: () => remove(w) };
    },
    /** Tells this process's watchers of an install that it changed (a local write). */
    wake,
    /** Ends an install's streams (a purge). */
    endInstall(install: Scope) {
      for (const w of [...(byInstall.get(install.installId) ?? [])]) {
        if (w.install.tenantId === install.tenantId) close(w, "purge");
      }
    },
    /** Open streams: of one install, or all. */
    count: (installId?: string) => (installId === undefined ? openCount : (byInstall.get(installId)?.size ?? 0)),
    /** Ends every stream cleanly and stops the listener and the poll (SIGTERM). */
    async drain() {
      draining = true;
      for (const w of all()) close(w, "drain");
      if (poller !== undefined) clearInterval(poller);
      // bounded: a listener cut from the database may be reconnecting, and its UNLISTEN would
      // wait for that; the pool's close ends its connection anyway
      const unlisten = await Promise.race([listening, pause(1000).then(() => undefined)]);
      if (unlisten !== undefined) await Promise.race([unlisten().catch(() => {}), pause(1000)]);
    },
  };
}
