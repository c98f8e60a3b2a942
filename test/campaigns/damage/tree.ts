/**
 * A tree as the end-to-end tests describe it (test/cli/helpers.ts `describeTree`), plus extended
 * attributes, and the comparison the damage campaign makes of a restore against its source: exact,
 * or only files missing or cut short (bytes lost, none wrong), or zero runs where a repair salvaged.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeTree, type Entry } from '../../cli/helpers.js';

export type Described = Entry & { xattrs?: Record<string, string> };
export type TreeDescription = Map<string, Described>;

interface Xattrs {
  setAttributeSync(p: string, n: string, v: Uint8Array): void;
  getAttributeSync(p: string, n: string): Buffer | null;
  listAttributesSync(p: string): string[];
}
let addon: Xattrs | undefined;
async function xattrs(): Promise<Xattrs> {
  if (!addon) {
    const mod = await import('@napi-rs/xattr') as unknown as Xattrs & { default?: Xattrs };
    addon = mod.default ?? mod;
  }
  return addon;
}

export async function setXattr(path: string, name: string, value: Uint8Array): Promise<void> {
  (await xattrs()).setAttributeSync(path, name, value);
}

/** `describeTree` plus the `user.*` xattrs of files and folders (hex values). */
export async function describeWithXattrs(dir: string): Promise<TreeDescription> {
  const tree: TreeDescription = await describeTree(dir);
  const x = await xattrs();
  for (const [rel, entry] of tree) {
    if (entry.type !== 'file' && entry.type !== 'dir') continue;
    const path = join(dir, rel);
    const names = x.listAttributesSync(path).filter((n) => n.startsWith('user.')).sort();
    if (names.length) entry.xattrs = Object.fromEntries(names.map((n) => [n, (x.getAttributeSync(path, n) ?? Buffer.alloc(0)).toString('hex')]));
  }
  return tree;
}

/** How a restore compares with its source. */
export interface Comparison {
  /** Everything there and equal (mtimes within 0.5 µs, as `assertSameTree`). */
  exact: boolean;
  /** Files whose bytes differ from the source other than by being cut short or zero-filled: wrong bytes. */
  wrong: string[];
  /** Files whose content differs only by zero runs (salvaged by a repair) or being cut short. */
  partial: string[];
  /** Paths missing, extra, or with other metadata (type, mode, owner, time, link, xattrs). */
  other: string[];
}

/** Compares a restored tree (`dir`, described as `restored`) with `source`, whose file contents are in `blobs` by SHA-256. */
export async function compareTrees(dir: string, restored: TreeDescription, source: TreeDescription, blobs: string): Promise<Comparison> {
  const out: Comparison = { exact: true, wrong: [], partial: [], other: [] };
  const near = (a: bigint, b: bigint) => (a > b ? a - b : b - a) <= 500n;
  for (const [path, want] of source) {
    const got = restored.get(path);
    if (!got) { out.other.push(`${path}: missing`); continue; }
    if (want.type === 'file' && got.type === 'file' && got.sha !== want.sha) {
      const kind = await contentDamage(join(dir, path), join(blobs, want.sha!));
      (kind === 'wrong' ? out.wrong : out.partial).push(path);
      continue;
    }
    const same = got.type === want.type && got.mode === want.mode && got.uid === want.uid && got.gid === want.gid
      && got.size === want.size && near(got.mtimeNs, want.mtimeNs) && got.target === want.target && got.inodeGroup === want.inodeGroup
      && JSON.stringify(got.xattrs ?? {}) === JSON.stringify(want.xattrs ?? {});
    if (!same) out.other.push(`${path}: ${JSON.stringify(got, big)} instead of ${JSON.stringify(want, big)}`);
  }
  for (const path of restored.keys()) if (!source.has(path)) out.other.push(`${path}: not in the archive`);
  out.exact = out.wrong.length + out.partial.length + out.other.length === 0;
  return out;
}

const big = (_: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

/** `partial` when `restored` is a prefix of `source` or differs only where it holds zeros; else `wrong`. */
async function contentDamage(restored: string, source: string): Promise<'partial' | 'wrong'> {
  const [a, b] = await Promise.all([readFile(restored), readFile(source)]);
  if (a.length > b.length) return 'wrong';
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && a[i] !== 0) return 'wrong';
  if (a.length < b.length) {
    // Cut short: only a true prefix counts, zeros included (a salvaged run may also be short? never: same length).
    return a.equals(b.subarray(0, a.length)) ? 'partial' : 'wrong';
  }
  return 'partial';
}

/** Copies the contents of the files of `tree` (under `dir`) to `blobs/<sha-256>`. */
export async function keepContents(dir: string, tree: TreeDescription, blobs: string): Promise<void> {
  await mkdir(blobs, { recursive: true });
  for (const [rel, entry] of tree) {
    if (entry.type !== 'file') continue;
    const bytes = await readFile(join(dir, rel));
    if (createHash('sha256').update(bytes).digest('hex') !== entry.sha) throw new Error(`${rel} changed while described`);
    await writeFile(join(blobs, entry.sha!), bytes);
  }
}
