// The adversarial extraction property (ADR 0043): random sequences of items (folders, small and
// large files, sparse files, symlinks to outside folders and files and up the tree, hard links,
// FIFOs, devices, repeated names, nested paths, setuid and odd modes, any order) are extracted
// into a target next to an "outside" sentinel tree. After each run nothing outside the target may
// have changed (strict lstat snapshot: contents, mode, owner, links, mtime, ctime, no new entries),
// no temporary file is left, and the extraction ends with warnings at most, never a crash.
import assert from 'node:assert/strict';
import { chmod, lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { extractArchive } from '../../../src/archive/extract.js';
import { S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG } from '../../../src/archive/item.js';
import { makeFixture } from './context.js';
import { forgeArchive, strictSnapshot, type Forged } from './forge.js';

/** Stands for the absolute path of the outside tree in generated symlink targets. */
const OUT = '\0OUT';

type Spec =
  | { kind: 'dir'; path: string; mode: number }
  | { kind: 'file'; path: string; mode: number; size: number; hl?: number; sparse: boolean; xattr: boolean }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'fifo' | 'chardev'; path: string; mode: number };

const segment = fc.constantFrom('a', 'b', 'ä', 'big');
const path = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));
const linkTarget = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(OUT, `${OUT}/victim`, `${OUT}/sub`) },
  { weight: 2, arbitrary: fc.constantFrom(`${OUT}/sub/deep`, `${OUT}/missing`, '..', '../..', '../../..', '../../outside', '../../../outside/victim', '.', 'a', 'a/b', '/') },
);
const fileMode = fc.constantFrom(0o644, 0o600, 0o777, 0o4755, 0o2755, 0o6777, 0o000, 0o1644);
const dirMode = fc.constantFrom(0o755, 0o700, 0o777, 0o500, 0o1777, 0o2755, 0o4755);

const spec: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('dir' as const), path, mode: dirMode }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('file' as const), path, mode: fileMode,
      size: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 3000 }) }, { weight: 1, arbitrary: fc.integer({ min: 256 * 1024 + 1, max: 300 * 1024 }) }),
      hl: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
      sparse: fc.boolean(), xattr: fc.boolean(),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('symlink' as const), path, target: linkTarget }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('fifo' as const, 'chardev' as const), path, mode: fileMode }) },
);

/**
 * Items crowded on one path: the item at a base path and its children, in any order, so that
 * replacements (a folder by a symlink, a file being written by a symlink...) happen often.
 */
const cluster: fc.Arbitrary<Spec[]> = fc.tuple(path, fc.array(fc.tuple(spec, fc.option(segment, { nil: undefined })), { minLength: 1, maxLength: 6 }))
  .map(([at, items]) => items.map(([s, child]) => ({ ...s, path: child === undefined ? at : `${at}/${child}` })));

/** One path used three times: an item, another at the same path, then one below it (replacement, then use as a parent). */
const swap: fc.Arbitrary<Spec[]> = fc.tuple(path, spec, spec, spec, segment)
  .map(([at, first, second, third, child]) => [{ ...first, path: at }, { ...second, path: at }, { ...third, path: `${at}/${child}` }]);

/** A sequence of items to extract: crowded clusters, swaps and scattered items, one after the other. */
export const itemSequences: fc.Arbitrary<Spec[]> = fc.array(fc.oneof(cluster, swap, spec.map((s) => [s])), { minLength: 1, maxLength: 8 })
  .map((groups) => groups.flat());

function forged(s: Spec, outside: string, index: number): Forged {
  const base = { path: s.path, uid: 0, gid: 0, mtime: 1_500_000_000_000_000_000n + BigInt(index) };
  switch (s.kind) {
    case 'dir': return { ...base, mode: S_IFDIR | s.mode };
    case 'symlink': return { ...base, mode: S_IFLNK | 0o777, target: Buffer.from(s.target.replace(OUT, outside)) };
    case 'fifo': return { ...base, mode: S_IFIFO | s.mode };
    case 'chardev': return { ...base, mode: S_IFCHR | s.mode, rdev: (1 << 8) | 3 };
    case 'file': {
      const data = Buffer.alloc(s.size, s.sparse ? 0 : (index % 250) + 1);
      if (s.sparse && data.length > 10) data[data.length - 1] = 9;
      return {
        ...base, mode: S_IFREG | s.mode, data, chunkSize: 64 * 1024, sparse: s.sparse || undefined,
        hlid: s.hl === undefined ? undefined : Buffer.alloc(32, s.hl + 1),
        xattrs: s.xattr ? new Map([['user.cairn', Buffer.from('x')]]) : undefined,
      };
    }
  }
}

/** Makes every folder below `dir` writable again (some got 0500), never following a symlink. */
async function unlock(dir: string): Promise<void> {
  await chmod(dir, 0o700);
  for (const name of await readdir(dir)) {
    const p = join(dir, name);
    if ((await lstat(p)).isDirectory()) await unlock(p);
  }
}

export interface Tally { runs: number; items: number; warnings: Map<string, number> }

/** One run of the property: forge `specs`, extract them, check that nothing outside changed. */
export async function checkSequence(specs: Spec[], tally?: Tally): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), 'cairn-extract-fuzz-'));
  const f = await makeFixture();
  try {
    const outside = join(base, 'outside');
    await mkdir(join(outside, 'sub', 'deep'), { recursive: true });
    await writeFile(join(outside, 'victim'), 'victim\n', { mode: 0o600 });
    await writeFile(join(outside, 'sub', 'deep', 'file'), 'deep\n', { mode: 0o640 });
    await chmod(outside, 0o700);
    const box = join(base, 'box');
    const target = join(box, 'target');
    await mkdir(target, { recursive: true });
    await forgeArchive(f.ctx, 'fuzz', specs.map((s, i) => forged(s, outside, i)));
    const before = await strictSnapshot(outside);
    const result = await extractArchive(f.ctx, 'fuzz', { target });
    assert.deepEqual(await strictSnapshot(outside), before, 'something outside the target changed');
    assert.deepEqual((await readdir(base)).sort(), ['box', 'outside']);
    assert.deepEqual(await readdir(box), ['target']);
    const leftovers: string[] = [];
    const visit = async (dir: string): Promise<void> => {
      for (const name of await readdir(dir)) {
        if (name.startsWith('.cairn-tmp-')) leftovers.push(join(dir, name));
        if ((await lstat(join(dir, name))).isDirectory()) await visit(join(dir, name));
      }
    };
    await visit(target);
    assert.deepEqual(leftovers, []);
    for (const w of result.warnings) assert.ok(['ECONFLICT', 'EUNSAFE_PATH', 'EPERM', 'ENOTSUP'].includes(w.code), `unexpected warning ${w.code}: ${w.message}`);
    if (tally) {
      tally.runs += 1;
      tally.items += specs.length;
      for (const w of result.warnings) tally.warnings.set(w.code, (tally.warnings.get(w.code) ?? 0) + 1);
    }
    await unlock(target);
  } finally {
    await f.cleanup();
    await rm(base, { recursive: true, force: true });
  }
}

/** Runs the property `runs` times (fast-check shrinks a failure to a minimal sequence). */
export async function runExtractionProperty(options: { runs: number; seed?: number; tally?: Tally }): Promise<void> {
  await fc.assert(fc.asyncProperty(itemSequences, (specs) => checkSequence(specs, options.tally)), { numRuns: options.runs, seed: options.seed, endOnFailure: false });
}
