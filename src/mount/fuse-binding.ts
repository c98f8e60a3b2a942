/**
 * libfuse 3's high-level API (`libfuse3.so.3`, Debian's libfuse3-3) called through koffi, the C FFI cairn already
 * uses for exact file times (its prebuilt binaries come from the npm registry). Used only by the FUSE worker: libfuse's
 * single-threaded loop (`fuse_loop`) runs on the worker's own thread and calls the operations back on that same
 * thread, so koffi calls them synchronously (no cross-thread callback). ADR 0059 says why this and not fuse-native.
 *
 * Byte layouts written here (64-bit Linux; libfuse 3.x):
 *   struct stat, x86-64:  st_ino u64 @8, st_nlink u64 @16, st_mode u32 @24, st_uid u32 @28, st_gid u32 @32,
 *                         st_size i64 @48, st_blksize i64 @56, st_blocks i64 @64, st_atim/st_mtim/st_ctim @72/88/104
 *                         (each tv_sec i64, tv_nsec i64); 144 bytes.
 *   struct stat, arm64:   st_ino u64 @8, st_mode u32 @16, st_nlink u32 @20, st_uid u32 @24, st_gid u32 @28,
 *                         st_size i64 @48, st_blksize i32 @56, st_blocks i64 @64, times as x86-64; 128 bytes.
 *   struct fuse_config:   entry_timeout f64 @24, negative_timeout f64 @32, attr_timeout f64 @40, use_ino i32 @64,
 *                         kernel_cache i32 @76.
 */
import { createRequire } from 'node:module';
import type { Attr } from './protocol.js';

type Koffi = typeof import('koffi');
type Fn = (...args: unknown[]) => unknown;

/** The operations cairn implements; each returns 0 or a negative errno, as libfuse wants. */
export interface FuseOperations {
  getattr(path: string, stat: unknown): number;
  readlink(path: string, buf: unknown, size: number): number;
  read(path: string, buf: unknown, size: number, offset: number): number;
  readdir(path: string, buf: unknown, fill: (name: string) => boolean): number;
}

/** A mounted file system: `loop()` serves calls until it is unmounted, then `destroy()` frees it. */
export interface FuseSession {
  loop(): number;
  destroy(): void;
}

/** The `struct fuse_operations` members up to the last one cairn sets (`init`); libfuse takes its size. */
const MEMBERS = ['getattr', 'readlink', 'mknod', 'mkdir', 'unlink', 'rmdir', 'symlink', 'rename', 'link', 'chmod', 'chown',
  'truncate', 'open', 'read', 'write', 'statfs', 'flush', 'release', 'fsync', 'setxattr', 'getxattr', 'listxattr',
  'removexattr', 'opendir', 'readdir', 'releasedir', 'fsyncdir', 'init'];

const STAT = {
  x64: { size: 144, ino: 8, nlink: [16, 8], mode: 24, uid: 28, gid: 32, sz: 48, blksize: [56, 8], blocks: 64, times: [72, 88, 104] },
  arm64: { size: 128, ino: 8, nlink: [20, 4], mode: 16, uid: 24, gid: 28, sz: 48, blksize: [56, 4], blocks: 64, times: [72, 88, 104] },
} as const;

const NS = 1_000_000_000n;

/** Why libfuse cannot be used here, or undefined when it can (the platform and the library). */
export function fuseUnavailable(): string | undefined {
  if (process.platform !== 'linux' || !(process.arch in STAT)) return `cairn mount needs Linux on x86-64 or arm64 (this is ${process.platform}-${process.arch}); "cairn serve" works everywhere`;
  return undefined;
}

/**
 * Loads libfuse3, creates the file system with `ops`, and mounts it at `mountpoint` with `-o options`. Throws with
 * `code` ENO_FUSE when the library does not load, EMOUNT_FAILED when libfuse refuses (its reason is on stderr).
 */
export function mountFuse(mountpoint: string, options: string, cacheSeconds: number, ops: FuseOperations): FuseSession {
  const koffi = createRequire(import.meta.url)('koffi') as Koffi;
  let lib: ReturnType<Koffi['load']>;
  try {
    lib = koffi.load('libfuse3.so.3');
  } catch (error) {
    throw Object.assign(new Error('libfuse 3 is not installed (Debian/Ubuntu: apt-get install libfuse3-3 fuse3)', { cause: error }), { code: 'ENO_FUSE' });
  }
  const proto = (decl: string): unknown => koffi.pointer(koffi.proto(decl));
  const Filler = koffi.proto('int cairn_fuse_fill_dir(void *buf, const char *name, void *stat, int64_t off, int flags)');
  const Operations = koffi.struct('cairn_fuse_operations', Object.fromEntries(MEMBERS.map((m) => [m, 'void *'])));
  koffi.struct('cairn_fuse_args', { argc: 'int', argv: 'char **', allocated: 'int' });
  const fuseNew = lib.func('void *fuse_new(cairn_fuse_args *args, const cairn_fuse_operations *op, size_t size, void *data)') as Fn;
  const fuseMount = lib.func('int fuse_mount(void *f, const char *mountpoint)') as Fn;
  const fuseLoop = lib.func('int fuse_loop(void *f)') as Fn;
  const fuseUnmount = lib.func('void fuse_unmount(void *f)') as Fn;
  const fuseDestroy = lib.func('void fuse_destroy(void *f)') as Fn;

  const registered = [
    ['getattr', koffi.register((path: string, stat: unknown) => ops.getattr(path, stat), proto('int cairn_getattr(const char *path, void *stat, void *fi)') as never)],
    ['readlink', koffi.register((path: string, buf: unknown, size: number | bigint) => ops.readlink(path, buf, Number(size)), proto('int cairn_readlink(const char *path, void *buf, size_t size)') as never)],
    ['read', koffi.register((path: string, buf: unknown, size: number | bigint, off: number | bigint) => ops.read(path, buf, Number(size), Number(off)), proto('int cairn_read(const char *path, void *buf, size_t size, int64_t off, void *fi)') as never)],
    ['readdir', koffi.register((path: string, buf: unknown, filler: unknown) => {
      const fill = koffi.decode(filler, Filler) as Fn;
      return ops.readdir(path, buf, (name) => fill(buf, name, null, 0, 0) === 0);
    }, proto('int cairn_readdir(const char *path, void *buf, void *filler, int64_t off, void *fi, int flags)') as never)],
    // The archive never changes: cache names and attributes, keep file pages across opens, use cairn's inode numbers.
    ['init', koffi.register((_conn: unknown, cfg: unknown) => {
      const config = new DataView(koffi.view(cfg as never, 80));
      config.setFloat64(24, cacheSeconds, true);
      config.setFloat64(32, cacheSeconds, true);
      config.setFloat64(40, cacheSeconds, true);
      config.setInt32(64, 1, true);
      config.setInt32(76, 1, true);
      return null;
    }, proto('void *cairn_init(void *conn, void *cfg)') as never)],
  ] as const;
  const table = Object.fromEntries(MEMBERS.map((m) => [m, registered.find(([name]) => name === m)?.[1] ?? null]));
  const unregister = (): void => { for (const [, cb] of registered) koffi.unregister(cb); };

  const argv = ['cairn', '-o', options];
  const fuse = fuseNew({ argc: argv.length, argv, allocated: 0 }, table, koffi.sizeof(Operations), null);
  if (!fuse) {
    unregister();
    throw Object.assign(new Error(`libfuse refused the options "${options}"`), { code: 'EMOUNT_FAILED' });
  }
  if (fuseMount(fuse, mountpoint) !== 0) {
    fuseDestroy(fuse);
    unregister();
    throw Object.assign(new Error(`libfuse could not mount ${mountpoint}`), { code: 'EMOUNT_FAILED' });
  }
  return {
    loop: () => fuseLoop(fuse) as number,
    destroy() {
      fuseUnmount(fuse);
      fuseDestroy(fuse);
      unregister();
    },
  };
}

/** Fills the `struct stat` at `pointer` (libfuse's, zeroed by it) from `attr`; all three times are the item's mtime. */
export function writeStat(pointer: unknown, attr: Attr): void {
  const layout = STAT[process.arch as keyof typeof STAT];
  const koffi = createRequire(import.meta.url)('koffi') as Koffi;
  const stat = new DataView(koffi.view(pointer as never, layout.size));
  const int = (at: readonly [number, number], value: number): void => {
    if (at[1] === 8) stat.setBigInt64(at[0], BigInt(value), true); else stat.setInt32(at[0], value, true);
  };
  stat.setBigUint64(layout.ino, BigInt(attr.ino), true);
  int(layout.nlink, attr.nlink);
  stat.setUint32(layout.mode, attr.mode, true);
  stat.setUint32(layout.uid, attr.uid, true);
  stat.setUint32(layout.gid, attr.gid, true);
  stat.setBigInt64(layout.sz, BigInt(attr.size), true);
  int(layout.blksize, 4096);
  stat.setBigInt64(layout.blocks, BigInt(Math.ceil(attr.size / 512)), true);
  let sec = attr.mtimeNs / NS;
  let nsec = attr.mtimeNs % NS;
  if (nsec < 0n) { sec -= 1n; nsec += NS; }
  for (const at of layout.times) {
    stat.setBigInt64(at, sec, true);
    stat.setBigInt64(at + 8, nsec, true);
  }
}

/** Copies `bytes` into the C buffer at `pointer` (at most `size` bytes) and returns how many were copied. */
export function writeBuffer(pointer: unknown, size: number, bytes: Uint8Array): number {
  const koffi = createRequire(import.meta.url)('koffi') as Koffi;
  const n = Math.min(size, bytes.length);
  if (n > 0) new Uint8Array(koffi.view(pointer as never, n)).set(bytes.subarray(0, n));
  return n;
}
