// One owner per data folder. PGlite has no lock of its own: two processes on one
// STORAGE_DATA_DIR both start, and after a restart only one of them's acknowledged writes
// remain. So whoever opens the embedded database first holds an exclusive flock(2) on
// <dataDir>/ext-storage.lock for as long as it runs.
//
// A kernel lock, not a PID file: the kernel drops it when the holder exits, however it
// exits (SIGKILL, crash, power loss), so there is no stale lock to judge and no PID that
// may have been reused by an unrelated process. The file only tells a refused process
// which PID holds the folder. It is never deleted: a process that deleted it on the way out
// could let the next one lock the old file while a third locks a new one.
//
// Bun has no flock of its own: libc's is called through bun:ffi (part of Bun, no native
// addon). Deno has it built in (FsFile.tryLockSync). Both are flock on the same file, so a
// Bun and a Deno server exclude each other too.
import { closeSync, constants, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError } from "../config.ts";

export const LOCK_FILE = "ext-storage.lock";

/** Another live process holds the folder: told as one line, like a configuration mistake. */
export class DataDirInUseError extends ConfigError {}

export type DataDirLock = { readonly path: string; release(): void };

type LockFile = { tryLock(): boolean; write(text: string): void; close(): void };

const LOCK_EX = 2;
const LOCK_NB = 4;

async function bunLockFile(path: string): Promise<LockFile> {
  const { dlopen, FFIType, read } = await import("bun:ffi");
  const darwin = process.platform === "darwin";
  // glibc, then musl (Alpine), or macOS's libSystem
  const names = darwin
    ? ["libc.dylib"]
    : ["libc.so.6", `libc.musl-${process.arch === "arm64" ? "aarch64" : "x86_64"}.so.1`];
  const openLibc = (name: string) =>
    dlopen(name, {
      flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      [darwin ? "__error" : "__errno_location"]: { args: [], returns: FFIType.ptr },
    });
  let libc: ReturnType<typeof openLibc> | undefined;
  for (const name of names) {
    try {
      libc = openLibc(name);
      break;
    } catch {
      // not this system's name: try the next
    }
  }
  if (libc === undefined) throw new Error(`cannot lock ${path}: no C library to call flock from (${names.join(", ")})`);
  const errno = () => {
    const at = (darwin ? libc.symbols.__error : libc.symbols.__errno_location)?.();
    return at ? read.i32(at, 0) : -1;
  };
  const EWOULDBLOCK = darwin ? 35 : 11;
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
  return {
    tryLock() {
      if (libc.symbols.flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
      const e = errno();
      if (e === EWOULDBLOCK) return false;
      throw new Error(`cannot lock ${path}: flock failed with errno ${e}`);
    },
    write(text) {
      ftruncateSync(fd, 0);
      writeSync(fd, text, 0);
    },
    close() {
      closeSync(fd); // the lock goes with the descriptor
      libc.close();
    },
  };
}

type DenoFile = {
  tryLockSync(exclusive: boolean): boolean;
  truncateSync(length: number): void;
  writeSync(data: Uint8Array): number;
  close(): void;
};
type DenoFs = { openSync(path: string, options: Record<string, boolean>): DenoFile };

function denoLockFile(deno: DenoFs, path: string): LockFile {
  const file = deno.openSync(path, { read: true, write: true, create: true });
  return {
    tryLock: () => file.tryLockSync(true),
    write(text) {
      file.truncateSync(0);
      file.writeSync(new TextEncoder().encode(text));
    },
    close: () => file.close(),
  };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM"; // alive, another user's
  }
};

/** The holder's PID as it wrote it; a holder that has just taken the lock may not have
 * written it yet (the file still names the previous, dead holder): asked again, briefly. */
async function holderOf(path: string): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pid = Number.parseInt(readFileSync(path, "utf8"), 10);
    if (pid > 0 && alive(pid)) return String(pid);
    await new Promise((r) => setTimeout(r, 25));
  }
  return "unknown";
}

/**
 * Takes the data folder for this process, or refuses with a DataDirInUseError naming the
 * folder and the PID that holds it. release() gives it back (so does exiting, any way).
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const deno = (globalThis as { Deno?: DenoFs }).Deno;
  const file = deno === undefined ? await bunLockFile(path) : denoLockFile(deno, path);
  let locked = false;
  try {
    locked = file.tryLock();
  } finally {
    if (!locked) file.close();
  }
  if (!locked) {
    throw new DataDirInUseError(
      `STORAGE_DATA_DIR ${dir} is in use by process ${await holderOf(path)}: only one process may open it at a time ` +
        "(stop that process, or give this one another STORAGE_DATA_DIR)",
    );
  }
  file.write(`${process.pid}\n`);
  let held = true;
  return {
    path,
    release() {
      if (!held) return;
      held = false;
      file.close();
    },
  };
}
