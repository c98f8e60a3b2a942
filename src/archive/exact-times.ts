/**
 * Nanosecond-exact file times for `extract`: libc's `futimens` and `utimensat` called through
 * `koffi`, a C FFI whose prebuilt binaries come from the npm registry (one optional package per
 * platform, as `@napi-rs/xattr` does; no install script is needed). Node's own `utimes` takes a
 * double of seconds, which is exact only to about 0.24 µs today (nodejs/node#50859).
 *
 * Used on 64-bit Linux and macOS, where `struct timespec` is two 64-bit integers. Elsewhere, or
 * where koffi does not load, `exactTimes()` is undefined and the caller falls back to Node's
 * `utimes` (within 0.5 µs, see `utimeSeconds` in restore-meta.ts); docs/cli.md says so.
 */
import { createRequire } from 'node:module';
import { constants } from 'node:os';

/** Times as nanoseconds since the epoch; both calls never follow a symlink and throw errors with an errno `code`. */
export interface ExactTimes {
  /** Sets atime and mtime of the open file or folder `fd` (`futimens`). */
  futimens(fd: number, atimeNs: bigint, mtimeNs: bigint): void;
  /** Sets atime and mtime of `path` itself, a symlink not followed (`utimensat` with `AT_SYMLINK_NOFOLLOW`). */
  lutimens(path: Buffer, atimeNs: bigint, mtimeNs: bigint): void;
}

/** The part of koffi used here. */
export interface KoffiLike {
  load(path: string | null): { func(definition: string): (...args: unknown[]) => unknown };
  errno(): number;
}

/** `AT_FDCWD` and `AT_SYMLINK_NOFOLLOW` of each platform where timespec is {int64, int64}. */
const PLATFORMS: Partial<Record<NodeJS.Platform, { libc: string | null; atFdcwd: number; noFollow: number }>> = {
  linux: { libc: null, atFdcwd: -100, noFollow: 0x100 },
  darwin: { libc: 'libSystem.B.dylib', atFdcwd: -2, noFollow: 0x20 },
};

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));
const NS = 1_000_000_000n;

/** Two `struct timespec` {tv_sec, tv_nsec}, as utimensat wants them; tv_nsec is 0..999 999 999 also before 1970. */
function timespecs(atimeNs: bigint, mtimeNs: bigint): Buffer {
  const out = Buffer.alloc(32);
  for (const [i, ns] of [atimeNs, mtimeNs].entries()) {
    let sec = ns / NS;
    let nsec = ns % NS;
    if (nsec < 0n) { sec -= 1n; nsec += NS; }
    out.writeBigInt64LE(sec, i * 16);
    out.writeBigInt64LE(nsec, i * 16 + 8);
  }
  return out;
}

function loadKoffi(): KoffiLike {
  return createRequire(import.meta.url)('koffi') as KoffiLike;
}

/**
 * Binds the two calls, or returns undefined on another platform, another word size or endianness,
 * or when koffi (`load`) does not load.
 */
export function bindExactTimes(load: () => KoffiLike = loadKoffi): ExactTimes | undefined {
  const platform = PLATFORMS[process.platform];
  if (!platform || (process.arch !== 'x64' && process.arch !== 'arm64')) return undefined;
  let koffi: KoffiLike;
  let futimens: (...args: unknown[]) => unknown;
  let utimensat: (...args: unknown[]) => unknown;
  try {
    koffi = load();
    const libc = koffi.load(platform.libc);
    futimens = libc.func('int futimens(int fd, const uint8_t *times)');
    utimensat = libc.func('int utimensat(int dirfd, const uint8_t *path, const uint8_t *times, int flags)');
  } catch {
    return undefined;
  }
  const check = (result: unknown, syscall: string, path?: Buffer): void => {
    if (result === 0) return;
    const errno = koffi.errno();
    const code = ERRNO_NAMES.get(errno) ?? 'EIO';
    throw Object.assign(new Error(`${code}: ${syscall}${path ? ` '${path.toString()}'` : ''}`), { code, errno: -errno, syscall });
  };
  return {
    futimens: (fd, atimeNs, mtimeNs) => check(futimens(fd, timespecs(atimeNs, mtimeNs)), 'futimens'),
    lutimens: (path, atimeNs, mtimeNs) => {
      const cPath = Buffer.concat([path, Buffer.from([0])]);
      check(utimensat(platform.atFdcwd, cPath, timespecs(atimeNs, mtimeNs), platform.noFollow), 'utimensat', path);
    },
  };
}

let bound: ExactTimes | undefined | null = null;

/** This process's exact-time calls (bound once), or undefined where they are not available. */
export function exactTimes(): ExactTimes | undefined {
  if (bound === null) bound = bindExactTimes();
  return bound;
}
