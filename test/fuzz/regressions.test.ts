// Findings of the fuzz targets, one test each, on real repositories: a record, settings record or item
// stream sealed by a key holder (or by anyone, in mode none) with values of the wrong type or range, msgpack
// headers promising huge arrays, and a segment crafted to make the scan quadratic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryBackend } from '../../backends/memory/index.js';
import {
  ArchiveCorruptError, auditArchiveSet, initRepository, listItems, openRepository, readArchive, readSettings, type OpenedRepository,
} from '../../src/archive/index.js';
import { recordCodec } from '../../src/archive/item.js';
import { scanSegment } from '../../src/repository/segment-scan.js';
import { decodeIndex } from '../../src/repository/index-format.js';
import { loadDigests, xxh64 } from '../../src/repository/digests.js';
import { IntegrityError } from '../../src/repository/errors.js';
import { cairn, PASSPHRASE } from '../cli/helpers.js';

const KDF = { memoryKiB: 64, iterations: 1, parallelism: 1 };
const { encoder, timestamp } = recordCodec;

async function repository(encryption: string): Promise<{ repo: OpenedRepository; backend: ReturnType<typeof createMemoryBackend> }> {
  const backend = createMemoryBackend();
  const repo = await initRepository(backend, { encryption, passphrase: PASSPHRASE, kdf: KDF, workers: 0 });
  return { repo, backend };
}

/** Seals `value` as a record named `name`, as any key holder can (and anyone, in mode none). */
async function plantRecord(repo: OpenedRepository, name: string, value: unknown): Promise<void> {
  const plaintext = encoder.encode(value);
  const id = repo.codec.chunkId(plaintext);
  await repo.repository.putRecord(name, new Uint8Array(Buffer.concat([id, await repo.codec.seal(id, plaintext)])));
}

const goodRecord = (name: string, items: unknown[] = []) => ({
  v: 1, name, start: timestamp(1_700_000_000_000_000_000n), end: timestamp(1_700_000_001_000_000_000n), host: 'h', user: 'u',
  command: ['cairn'], comment: '', checkpoint: false, items, stats: { files: 0, original: 0, compressed: 0, deduplicated: 0, chunks: 0 },
});

for (const encryption of ['none', 'repokey-chacha20-poly1305']) {
  test(`${encryption}: an archive record with fields of the wrong type is damage, not a record`, async () => {
    const { repo } = await repository(encryption);
    try {
      const bad: [string, Record<string, unknown>][] = [
        ['start is a number', { start: 5 }],
        ['end is a string', { end: 'yesterday' }],
        ['an item id is text', { items: ['not an id'] }],
        ['an item id is short', { items: [new Uint8Array(3)] }],
        ['command is not a list of strings', { command: [1, 2] }],
        ['host is a map', { host: { a: 1 } }],
        ['a count is negative', { stats: { files: -1, original: 0, compressed: 0, deduplicated: 0, chunks: 0 } }],
        ['a time no date can show', { start: timestamp(2n ** 80n) }],
      ];
      for (const [why, change] of bad) {
        await plantRecord(repo, 'archive-x', { ...goodRecord('x'), ...change });
        await assert.rejects(readArchive(repo, 'x'), (e: unknown) => e instanceof ArchiveCorruptError && e.code === 'EARCHIVE_CORRUPT', why);
      }
      await plantRecord(repo, 'archive-x', goodRecord('x'));
      assert.equal((await readArchive(repo, 'x')).host, 'h');
    } finally {
      await repo.close();
    }
  });

  test(`${encryption}: items with negative or fractional numbers, or times out of range, are damage`, async () => {
    const { repo } = await repository(encryption);
    try {
      const base = { path: 'f', mode: 0o100644, uid: 0, gid: 0, mtime: timestamp(0n), size: 0, chunks: [] };
      const bad: [string, Record<string, unknown>][] = [
        ['uid -1', { uid: -1 }],
        ['mode negative', { mode: -0o100644 }],
        ['size fractional', { size: 1.5 }],
        ['size beyond 2^53', { size: 2 ** 60 }],
        ['a chunk of negative size', { chunks: [[new Uint8Array(32), -5]] }],
        ['mtime no date can show', { mtime: timestamp(-(2n ** 90n)) }],
      ];
      for (const [why, change] of bad) {
        const stream = encoder.encode({ ...base, ...change });
        const id = repo.codec.chunkId(stream);
        if (!repo.repository.has(id)) await repo.repository.put(id, await repo.codec.seal(id, stream));
        await repo.repository.commit();
        await plantRecord(repo, 'archive-i', goodRecord('i', [id]));
        const read = async () => { for await (const item of listItems(repo, 'i')) void item; };
        await assert.rejects(read(), (e: unknown) => e instanceof ArchiveCorruptError && e.code === 'EARCHIVE_CORRUPT', why);
      }
    } finally {
      await repo.close();
    }
  });

  test(`${encryption}: a settings record with unusable chunker sizes is damage, when read and when opening`, async () => {
    const { repo, backend } = await repository(encryption);
    for (const chunker of ['abc', 7, { min: 1, avg: 3, max: 2 }, { fixed: -1 }, { min: 1024, avg: 4096 }]) {
      await plantRecord(repo, 'settings', { v: 1, chunker });
      await assert.rejects(readSettings(repo), (e: unknown) => e instanceof ArchiveCorruptError && e.code === 'EARCHIVE_CORRUPT', JSON.stringify(chunker));
    }
    await repo.close();
    // Opening applies the sizes (an unknown unencrypted repository may need an opt-in first, so the encrypted mode shows it).
    if (encryption !== 'none') await assert.rejects(openRepository(backend, { passphrase: PASSPHRASE, workers: 0 }), (e: unknown) => e instanceof ArchiveCorruptError);
  });
}

for (const encryption of ['none', 'repokey-chacha20-poly1305']) {
  test(`${encryption}: a journal entry not laid out as the format says (time not a uint, a pair of more than two) is a journal finding`, async () => {
    const { repo } = await repository(encryption);
    try {
      const name = 'journal-0123456789abcdef-00000000';
      const entry = { v: 1, writer: '0123456789abcdef', seq: 0, time: 1_700_000_000_000, added: [['x', new Uint8Array(32).fill(7)]], removed: [] };
      const audit = async () => (await auditArchiveSet(repo)).findings.map((f) => [f.kind, f.record ?? f.archive]);
      // Well formed, it names archive x, whose record is not there.
      await plantRecord(repo, name, entry);
      assert.deepEqual(await audit(), [['vanished', 'x']]);
      const bad: [string, Record<string, unknown>][] = [
        ['time is a string', { time: 'yesterday' }],
        ['time is negative', { time: -1 }],
        ['time is fractional', { time: 1.5 }],
        ['time is missing', { time: undefined }],
        ['a pair has a third element', { added: [['x', new Uint8Array(32).fill(7), 'more']] }],
        ['a pair has only a name', { removed: [['x']] }],
      ];
      for (const [why, change] of bad) {
        await plantRecord(repo, name, { ...entry, ...change });
        assert.deepEqual(await audit(), [['journal', name]], why);
      }
    } finally {
      await repo.close();
    }
  });
}

test('cairn refuses a planted settings record with a one-line error and exit 2, not a crash', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-fuzz-cli-'));
  try {
    const { openBackend } = await import('../../backends/index.js');
    const env = { XDG_CONFIG_HOME: join(dir, 'config') };
    const repo = await initRepository(await openBackend(join(dir, 'repo')), { encryption: 'repokey-chacha20-poly1305', passphrase: PASSPHRASE, kdf: KDF, workers: 0, env });
    // What a client holding the key (or anyone, in mode none) can write.
    await plantRecord(repo, 'settings', { v: 1, chunker: 'abc' });
    await repo.close();
    const run = await cairn(['-r', join(dir, 'repo'), 'rlist'], { env });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^cairn: archive data is damaged/);
    assert.equal(run.stderr.trim().split('\n').length, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('scanning a crafted segment takes time linear in its size (it was quadratic: 2 MiB took 35 s)', async () => {
  // Every 4th offset looks like a COMMIT header (tag 2) whose size (0x10002) fits in the rest, so each resync
  // step checksummed 64 KiB; a COMMIT is a small msgpack map and a larger size is damage, found in O(1).
  const bytes = new Uint8Array(2 << 20);
  for (let i = 0; i < bytes.length; i += 4) bytes.set([2, 0, 1, 0], i);
  // CPU time, not wall time: on a loaded 2-core machine wall time measures the neighbours.
  const started = process.cpuUsage();
  const { entries, damage } = scanSegment(bytes);
  const used = process.cpuUsage(started);
  const ms = (used.user + used.system) / 1000;
  assert.equal(entries.length, 0);
  assert.deepEqual(damage.map((d) => [d.offset, d.length]), [[0, bytes.length]]);
  assert.ok(ms < 3000, `scan took ${ms.toFixed(0)} ms of CPU`);
});


/** 40 nested msgpack array32 headers, each promising 1M elements: 200 bytes that made the decoder allocate 320 MiB. */
function arrayBomb(depth = 40): Uint8Array {
  const bomb = new Uint8Array(5 * depth);
  for (let i = 0; i < depth; i++) bomb.set([0xdd, 0x00, 0x10, 0x00, 0x00], 5 * i);
  return bomb;
}

function growthMiB(before: number): number {
  return (process.memoryUsage.rss() - before) / 1048576;
}

test('an index object whose header promises huge arrays is damage, and costs no memory (a bucket writer needs no key)', async () => {
  await loadDigests();
  const bomb = arrayBomb();
  const bytes = new Uint8Array(16 + bomb.length + 8);
  bytes.set(new TextEncoder().encode('CAIRNIX1'), 0);
  bytes[8] = 1;
  new DataView(bytes.buffer).setUint32(12, bomb.length, true);
  bytes.set(bomb, 16);
  new DataView(bytes.buffer).setBigUint64(bytes.length - 8, xxh64(bytes.subarray(0, bytes.length - 8)), true);
  const before = process.memoryUsage.rss();
  assert.throws(() => decodeIndex(bytes, 'index/x'), (e: unknown) => e instanceof IntegrityError && e.code === 'EINTEGRITY');
  assert.ok(growthMiB(before) < 64, `memory grew by ${growthMiB(before).toFixed(0)} MiB`);
});

test('none: an archive record or item stream made of huge-array headers is damage, and costs no memory', async () => {
  const { repo } = await repository('none');
  try {
    const bomb = arrayBomb();
    const id = repo.codec.chunkId(bomb);
    await repo.repository.putRecord('archive-b', new Uint8Array(Buffer.concat([id, await repo.codec.seal(id, bomb)])));
    let before = process.memoryUsage.rss();
    await assert.rejects(readArchive(repo, 'b'), (e: unknown) => e instanceof ArchiveCorruptError);
    assert.ok(growthMiB(before) < 64, `record: memory grew by ${growthMiB(before).toFixed(0)} MiB`);
    await repo.repository.put(id, await repo.codec.seal(id, bomb));
    await repo.repository.commit();
    await plantRecord(repo, 'archive-s', goodRecord('s', [id]));
    before = process.memoryUsage.rss();
    const read = async () => { for await (const item of listItems(repo, 's')) void item; };
    await assert.rejects(read(), (e: unknown) => e instanceof ArchiveCorruptError);
    assert.ok(growthMiB(before) < 64, `item stream: memory grew by ${growthMiB(before).toFixed(0)} MiB`);
  } finally {
    await repo.close();
  }
});

test('none: a journal entry made of huge-array headers is a journal finding, and costs no memory (anyone can write it)', async () => {
  const { repo } = await repository('none');
  try {
    const name = 'journal-0123456789abcdef-00000000';
    const bomb = arrayBomb();
    const id = repo.codec.chunkId(bomb);
    await repo.repository.putRecord(name, new Uint8Array(Buffer.concat([id, await repo.codec.seal(id, bomb)])));
    const before = process.memoryUsage.rss();
    const { findings } = await auditArchiveSet(repo);
    assert.ok(growthMiB(before) < 64, `memory grew by ${growthMiB(before).toFixed(0)} MiB`);
    assert.deepEqual(findings.map((f) => [f.kind, f.record]), [['journal', name]]);
  } finally {
    await repo.close();
  }
});
