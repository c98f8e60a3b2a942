/**
 * Extended attributes, read by `create` and written by `extract` through the native addon
 * `@napi-rs/xattr`, loaded on first use. Where the addon does not load, or a file system refuses
 * xattrs (ENOTSUP), the run gets a single warning and goes on without them; a file system
 * (st_dev) that refused once is not asked again. Symlinks are never followed (l*xattr calls).
 */
import { lstat } from 'node:fs/promises';
import { constants } from 'node:os';
import type { Warning } from './walk.js';

/** The part of `@napi-rs/xattr` used here (its paths and names are JS strings, so UTF-8 only). */
export interface XattrAddon {
  listAttributesSync(path: string): string[];
  getAttributeSync(path: string, name: string): Buffer | null;
  setAttributeSync(path: string, name: string, value: Uint8Array): void;
}

/** Reads and writes one run's xattrs; see the module header for how failures degrade. */
export interface XattrAccess {
  /** The xattrs of `fsPath` (not following a symlink), or undefined when it has none or they cannot be read. */
  read(fsPath: Buffer, shown: string, dev: bigint): Promise<Map<string, Uint8Array> | undefined>;
  /** Sets every xattr of `xattrs` on `dest` (not following a symlink); refusals become warnings. */
  write(dest: Buffer, shown: string, xattrs: ReadonlyMap<string, Uint8Array>): Promise<void>;
}

export interface XattrAccessOptions {
  onWarning(warning: Warning): void;
  /** How the addon is loaded (tests pass a failing loader); default: dynamic import of `@napi-rs/xattr`. */
  load?: () => Promise<XattrAddon>;
}

async function loadAddon(): Promise<XattrAddon> {
  const mod = await import('@napi-rs/xattr') as XattrAddon & { default?: XattrAddon };
  return mod.default ?? mod;
}

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The errno name of an addon error. The addon reports `code: "GenericFailure"` and the OS error
 * only inside its message ("... (os error 95)"), so the number is taken from there; a name that
 * is not valid UTF-8 makes it fail with `InvalidArg`, reported as EILSEQ.
 */
export function xattrErrorCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code === 'EOPNOTSUPP' ? 'ENOTSUP' : code;
  if (code === 'InvalidArg') return 'EILSEQ';
  const match = /\(os error (\d+)\)/.exec(String((error as Error | undefined)?.message));
  const name = match ? ERRNO_NAMES.get(Number(match[1])) : undefined;
  return name === undefined ? 'EIO' : name === 'EOPNOTSUPP' ? 'ENOTSUP' : name;
}

/** Creates the xattr access of one `create` or `extract` run. */
export function createXattrAccess(options: XattrAccessOptions): XattrAccess {
  const load = options.load ?? loadAddon;
  let addon: Promise<XattrAddon | undefined> | undefined;
  const refusedDevs = new Set<bigint>();
  const warned = new Set<string>();
  const warnOnce = (key: string, warning: Warning): void => {
    if (warned.has(key)) return;
    warned.add(key);
    options.onWarning(warning);
  };

  const getAddon = (shown: string): Promise<XattrAddon | undefined> => {
    addon ??= load().catch((error: unknown) => {
      const code = (error as { code?: unknown } | undefined)?.code;
      warnOnce('load', {
        path: shown, code: 'ENOTSUP',
        message: `extended attributes skipped: @napi-rs/xattr did not load on this platform (${typeof code === 'string' ? code : 'error'})`,
      });
      return undefined;
    });
    return addon;
  };

  /** The addon takes paths as strings: a path that is not valid UTF-8 cannot be named to it. */
  const textPath = (fsPath: Buffer): string | undefined => {
    try {
      return utf8.decode(fsPath);
    } catch {
      return undefined;
    }
  };

  const refuse = (dev: bigint, shown: string): void => {
    refusedDevs.add(dev);
    warnOnce(`dev:${dev}`, { path: shown, code: 'ENOTSUP', message: `extended attributes skipped: the file system of ${shown} does not support them` });
  };

  return {
    async read(fsPath, shown, dev) {
      if (refusedDevs.has(dev)) return undefined;
      const x = await getAddon(shown);
      // A name that is not UTF-8 is skipped silently: whether it has xattrs is unknowable here, and
      // a warning would turn every backup of a tree holding such names into "exit 1" (documented gap).
      const path = x && textPath(fsPath);
      if (!x || path === undefined) return undefined;
      // Sync calls: the inode is cached by the walker's lstat, so these are short system calls,
      // cheaper than a round trip through the thread pool that the file reads also need.
      const out = new Map<string, Uint8Array>();
      try {
        for (const name of x.listAttributesSync(path)) {
          const value = x.getAttributeSync(path, name);
          // Null: removed between list and get, like a name that was never there.
          if (value) out.set(name, new Uint8Array(value.buffer, value.byteOffset, value.length));
        }
      } catch (error) {
        const code = xattrErrorCode(error);
        if (code === 'ENOTSUP') refuse(dev, shown);
        // Vanished since the walk: the item itself reports it (files) or is gone (no xattrs to keep).
        else if (code !== 'ENOENT') options.onWarning({ path: shown, code, message: `cannot read extended attributes of ${shown}: ${code}` });
        return undefined;
      }
      return out.size > 0 ? out : undefined;
    },

    async write(dest, shown, xattrs) {
      if (xattrs.size === 0) return;
      // Only after a refusal is the destination's file system looked up (an lstat per item with xattrs).
      if (refusedDevs.size > 0 && refusedDevs.has((await lstat(dest, { bigint: true })).dev)) return;
      const x = await getAddon(shown);
      if (!x) return;
      const path = textPath(dest);
      if (path === undefined) {
        options.onWarning({ path: shown, code: 'EILSEQ', message: `cannot restore extended attributes of ${shown}: its path is not valid UTF-8` });
        return;
      }
      for (const [name, value] of xattrs) {
        try {
          x.setAttributeSync(path, name, value);
        } catch (error) {
          const code = xattrErrorCode(error);
          if (code === 'ENOTSUP') {
            refuse((await lstat(dest, { bigint: true })).dev, shown);
            return;
          }
          options.onWarning({ path: shown, code, message: `cannot restore extended attribute ${name} of ${shown}: ${code}` });
        }
      }
    },
  };
}
