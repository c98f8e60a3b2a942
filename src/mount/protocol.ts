/**
 * The messages between `cairn mount`'s main thread (which owns the repository) and its FUSE worker (which runs
 * libfuse's loop). The worker asks on `parentPort` and blocks; the main thread answers on the reply port, then sets
 * the shared flag and wakes it (see fuse-worker.ts).
 */

/** A file system call the worker needs answered. Paths are FUSE's: "/" is the mount's root. */
export type FsRequest =
  | { op: 'getattr'; path: string }
  | { op: 'readdir'; path: string }
  | { op: 'readlink'; path: string }
  | { op: 'read'; path: string; offset: number; length: number };

/** What a file system call returns: a positive errno, or the data of its kind. */
export interface FsReply {
  errno?: number;
  attr?: Attr;
  names?: string[];
  target?: string;
  bytes?: Uint8Array;
}

/** What `getattr` fills into `struct stat`. Times are nanoseconds since the epoch. */
export interface Attr {
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  mtimeNs: bigint;
}

/** The worker's life: mounted (calls may come), failed to mount (with a stable code), or its loop ended. */
export type WorkerStatus =
  | { status: 'mounted' }
  | { status: 'failed'; code: 'ENO_FUSE' | 'EMOUNT_FAILED'; message: string }
  | { status: 'ended'; result: number };

/** What the worker gets at start. */
export interface WorkerSetup {
  mountpoint: string;
  /** `-o` options for libfuse (ro, fsname, subtype...). */
  options: string;
  /** An Int32Array(1) over a SharedArrayBuffer: 0 while a reply is pending, 1 once it is on the reply port. */
  flag: SharedArrayBuffer;
  /** Attribute and entry cache time in seconds (the archive never changes). */
  cacheSeconds: number;
}
