// Restored times are as close to the archived nanoseconds as Node's utimes allows (libuv before 1.52,
// Node 20's, keeps whole microseconds; 1.52 and later, Node 24's, nanoseconds through a double):
// within 0.5 µs, for files, folders and symlinks, whatever the sub-microsecond part, on both; exact
// where koffi binds libc's futimens/utimensat (src/archive/exact-times.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChunkWriter } from '../../src/archive/chunk-writer.js';
import { ItemStreamWriter } from '../../src/archive/item-stream.js';
import { writeRecord } from '../../src/archive/archive-record.js';
import { extractArchive } from '../../src/archive/extract.js';
import { utimeSeconds } from '../../src/archive/restore-fs.js';
import { UTIMES_KEEPS_NANOSECONDS } from '../../src/archive/restore-meta.js';
import { exactTimes } from '../../src/archive/exact-times.js';
import { S_IFDIR, S_IFLNK, S_IFREG, type Item } from '../../src/archive/item.js';
import { makeFixture } from './helpers/context.js';

const BASE = 1_700_000_000_000_000_000n;
/** Sub-microsecond parts around the rounding edges, plus whole-microsecond and whole-second times. */
const FRACTIONS = [0n, 1n, 499n, 500n, 501n, 999n, 999_999_999n, 123_456_789n, 987_654_321n, 1_000n, 250_000_499n];

test('utimeSeconds lands within 0.5 µs whether libuv truncates to microseconds (before 1.52) or keeps nanoseconds', () => {
  for (const f of FRACTIONS) {
    const ns = BASE + f;
    const near = (got: bigint, how: string): void => {
      const err = got > ns ? got - ns : ns - got;
      assert.ok(err <= 500n, `${how} ${ns}: ${got}`);
    };
    // libuv before 1.52 (Node 20): whole seconds, then nanoseconds truncated to microseconds.
    const s = utimeSeconds(ns, false);
    const sec = Math.trunc(s);
    near(BigInt(sec) * 1_000_000_000n + BigInt(Math.trunc(((s - sec) * 1e9) / 1000)) * 1000n, 'truncating');
    // libuv 1.52 and later (Node 24): the fraction as nanoseconds.
    const t = utimeSeconds(ns, true);
    const tsec = Math.trunc(t);
    near(BigInt(tsec) * 1_000_000_000n + BigInt(Math.trunc((t - tsec) * 1e9)), 'keeping nanoseconds');
  }
});

test('UTIMES_KEEPS_NANOSECONDS says what this Node\'s utimes does', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-utimes-'));
  try {
    const file = join(dir, 'f');
    await writeFile(file, '');
    await utimes(file, 1_700_000_000.123_456_7, 1_700_000_000.123_456_7);
    const subMicrosecond = (await stat(file, { bigint: true })).mtimeNs % 1000n;
    assert.equal(UTIMES_KEEPS_NANOSECONDS, subMicrosecond !== 0n, `Node ${process.version}, libuv ${process.versions.uv}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('extracted files, folders and symlinks keep their mtime exactly (to 0.5 µs without koffi)', async () => {
  const f = await makeFixture();
  try {
    const stats = { files: 0, original: 0, compressed: 0, deduplicated: 0, chunks: 0 };
    const writer = new ChunkWriter(f.ctx, stats);
    const stream = new ItemStreamWriter(f.ctx, writer);
    const items: Item[] = [{ path: Buffer.from('d'), mode: S_IFDIR | 0o755, uid: 0, gid: 0, mtime: BASE + 777_777_777n }];
    FRACTIONS.forEach((frac, i) => items.push({ path: Buffer.from(`d/f${i}`), mode: S_IFREG | 0o644, uid: 0, gid: 0, mtime: BASE + frac }));
    items.push({ path: Buffer.from('d/l'), mode: S_IFLNK | 0o777, uid: 0, gid: 0, mtime: BASE + 333_333_333n, target: Buffer.from('f0') });
    for (const item of items) {
      if ((item.mode & S_IFREG) === S_IFREG) {
        const data = Buffer.from(`content of ${Buffer.from(item.path).toString()}`);
        item.chunks = [await writer.store(data)];
        item.size = data.length;
      }
      await stream.add(item);
    }
    const ids = await stream.finish();
    await f.ctx.repository.commit();
    await writeRecord(f.ctx, { name: 'times', start: 0n, end: 0n, host: 'h', user: 'u', command: [], comment: '', checkpoint: false, items: ids, stats }, { ifAbsent: true });
    const target = join(f.dir, 'out');
    await extractArchive(f.ctx, 'times', { target });
    for (const item of items) {
      const st = await lstat(join(target, Buffer.from(item.path).toString()), { bigint: true });
      const err = st.mtimeNs > item.mtime ? st.mtimeNs - item.mtime : item.mtime - st.mtimeNs;
      // Exact where libc's utimensat is reachable (koffi loads), else within 0.5 µs (Node's utimes).
      assert.ok(err <= (exactTimes() ? 0n : 500n), `${Buffer.from(item.path).toString()}: ${st.mtimeNs} vs ${item.mtime}`);
    }
  } finally {
    await f.cleanup();
  }
});
