// transferArchives stopped by its signal while a batch of the source's chunks is out on the source's worker thread
// (offload, ADR 0060), between two real repositories on memory backends: every chunk put before the stop is committed,
// none of the batch that was out, no archive is visible, and a rerun sends exactly the rest and restores exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemoryBackend } from '../../backends/memory/index.js';
import { createArchive, extractArchive, initRepository, InterruptedError, listArchiveNames, openRepository, readArchive, transferArchives, type OpenedRepository } from '../../src/index.js';

const kdf = { memoryKiB: 64, iterations: 1, parallelism: 1 };
const hex = (id: Uint8Array): string => Buffer.from(id).toString('hex');

test('a stop while a batch is out on the source\'s worker commits every chunk put before it and none after; the rerun sends exactly the rest', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-transfer-'));
  const securityDir = join(dir, 'security');
  const srcBackend = createMemoryBackend();
  const dstBackend = createMemoryBackend();
  // 128 KiB chunks: 24 MiB make ~190 chunks, so the fetcher's batches (4 MiB) are ~6 and commits every 3 MiB fall
  // inside them. One worker on the source, as the reading pool has on 2 cores.
  const chunker = { min: 64 * 1024, avg: 128 * 1024, max: 256 * 1024 };
  const files = Array.from({ length: 6 }, () => randomBytes(4 * 1024 * 1024));
  let src: OpenedRepository | undefined = await initRepository(srcBackend, { encryption: 'repokey-chacha20-poly1305', passphrase: 'src', kdf, chunker, workers: 1, securityDir });
  let dst: OpenedRepository | undefined = await initRepository(dstBackend, { encryption: 'repokey-aes-ocb', passphrase: 'dst', kdf, relatedTo: src, workers: 0, securityDir });
  try {
    const tree = join(dir, 'tree');
    await mkdir(tree);
    for (let i = 0; i < files.length; i++) await writeFile(join(tree, `f${i}.bin`), files[i]);
    await createArchive(src, { name: 'big', paths: [tree], cacheDir: join(dir, 'cache') });
    const total = (await transferArchives(dst, src, { dryRun: true })).chunks;
    const baseline = dst.repository.count;

    // The batches of file chunks in the order the fetcher starts them (its getMany calls), which is the order the
    // copier takes them; the item stream is read through getMany too, on this thread.
    const itemChunks = new Set((await readArchive(src, 'big')).items.map(hex));
    const order: string[][] = [];
    const realGetMany = src.repository.getMany.bind(src.repository);
    src.repository.getMany = (ids) => {
      if (!ids.every((id) => itemChunks.has(hex(id)))) order.push(ids.map(hex));
      return realGetMany(ids);
    };
    // Each batch is posted to the worker at once, but handed back only when the copier has put every chunk of the
    // batches before it: so the copier always waits on a batch that is out on the worker. A gate never opened would
    // hang the run: after 30 s it opens by itself, and the test fails.
    const out = new Map<number, () => void>();
    let released = 0;
    let stuck = false;
    const realOpenMany = src.codec.openMany!.bind(src.codec);
    let offloaded = 0;
    src.codec.openMany = async (ids, stored) => {
      offloaded += 1;
      const opening = realOpenMany(ids, stored);
      opening.catch(() => undefined);
      const batch = order.findIndex((b) => b[0] === hex(ids[0]));
      assert.ok(batch >= 0, 'every batch opened was read by getMany');
      const gate = new Promise<void>((resolve) => { out.set(batch, resolve); });
      step();
      await Promise.race([gate, sleep(30_000, undefined, { ref: false }).then(() => { stuck = true; })]);
      return opening;
    };

    // What the destination was told: every put, and its count right after each commit.
    const put = new Set<string>();
    const realPut = dst.repository.put.bind(dst.repository);
    dst.repository.put = async (id, value) => { await realPut(id, value); put.add(hex(id)); };
    let committed = baseline;
    let commits = 0;
    const realCommit = dst.repository.commit.bind(dst.repository);
    dst.repository.commit = async () => { await realCommit(); commits += 1; committed = Math.max(committed, dst!.repository.count); };

    const controller = new AbortController();
    let stop: { batch: number; put: number; committed: number } | undefined;
    /** Hands back the next batch once the copier drained the ones before it; stops at the first such point after a commit with chunks put since. */
    function step(): void {
      if (stop) return;
      const next = out.get(released);
      if (!next) return;
      for (let b = 0; b < released; b++) if (!order[b].every((id) => put.has(id))) return;
      if (released > 0 && commits > 0 && dst!.repository.count > committed) {
        stop = { batch: released, put: put.size, committed };
        controller.abort('SIGINT');
        for (const release of out.values()) release();
        return;
      }
      released += 1;
      next();
    }

    const stopped = await transferArchives(dst, src, { signal: controller.signal, commitBytes: 3 * 1024 * 1024, onProgress: () => step() }).then(
      () => assert.fail(`the transfer was not stopped (batches opened on the worker: ${offloaded})`),
      (error: unknown) => error,
    );
    assert.equal(stuck, false, 'no batch was held back for good');
    assert.ok(stopped instanceof InterruptedError, String(stopped));
    assert.ok(stop, 'stopped at a batch boundary');
    assert.ok(offloaded >= 2, `batches opened on the worker: ${offloaded}`);
    assert.ok(stop.committed < baseline + stop.put, 'chunks were put since the last commit when the stop came');
    assert.ok(!order[stop.batch].some((id) => put.has(id)), 'nothing of the batch out on the worker was put');
    await src.close();
    src = undefined;
    await dst.close();
    dst = undefined;

    // What a new session sees: exactly the chunks put before the stop, committed; no archive.
    dst = await openRepository(dstBackend, { passphrase: 'dst', workers: 0, securityDir });
    assert.equal(dst.repository.count, baseline + put.size, 'every chunk put before the stop is committed, and no other');
    for (const id of put) assert.ok(dst.repository.has(Buffer.from(id, 'hex')));
    assert.deepEqual(await listArchiveNames(dst), []);

    src = await openRepository(srcBackend, { passphrase: 'src', workers: 1, securityDir });
    const rerun = await transferArchives(dst, src);
    assert.equal(rerun.transferred, 1);
    assert.equal(rerun.chunks, total - put.size, 'the rerun sends exactly the rest');
    await dst.close();
    dst = await openRepository(dstBackend, { passphrase: 'dst', securityDir });
    const target = join(dir, 'restore');
    await extractArchive(dst, 'big', { target, stripComponents: tree.split('/').filter(Boolean).length });
    for (let i = 0; i < files.length; i++) assert.ok((await readFile(join(target, `f${i}.bin`))).equals(files[i]), `f${i}.bin restored exactly`);
  } finally {
    await src?.close();
    await dst?.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a stop while the next chunk\'s read is held up ends the transfer at once, with what was put committed', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-transfer-stall-'));
  const securityDir = join(dir, 'security');
  const srcBackend = createMemoryBackend();
  const dstBackend = createMemoryBackend();
  const chunker = { min: 64 * 1024, avg: 128 * 1024, max: 256 * 1024 };
  let src: OpenedRepository | undefined = await initRepository(srcBackend, { encryption: 'repokey-aes-ocb', passphrase: 'src', kdf, chunker, workers: 0, securityDir });
  let dst: OpenedRepository | undefined = await initRepository(dstBackend, { encryption: 'repokey-aes-ocb', passphrase: 'dst', kdf, relatedTo: src, workers: 0, securityDir });
  let release = (): void => undefined;
  try {
    const tree = join(dir, 'tree');
    await mkdir(tree);
    await writeFile(join(tree, 'a.bin'), randomBytes(12 * 1024 * 1024));
    await createArchive(src, { name: 'a', paths: [tree], cacheDir: join(dir, 'cache') });
    const baseline = dst.repository.count;
    // The fetcher's second batch of file chunks never arrives until released (a store or rate limit that stalls).
    const itemChunks = new Set((await readArchive(src, 'a')).items.map(hex));
    const realGetMany = src.repository.getMany.bind(src.repository);
    const held = new Promise<void>((resolve) => { release = resolve; });
    let batches = 0;
    src.repository.getMany = async (ids) => {
      if (!ids.every((id) => itemChunks.has(hex(id))) && ++batches >= 2) await held;
      return realGetMany(ids);
    };
    const put = new Set<string>();
    const realPut = dst.repository.put.bind(dst.repository);
    dst.repository.put = async (id, value) => { await realPut(id, value); put.add(hex(id)); };
    const controller = new AbortController();
    const running = transferArchives(dst, src, { signal: controller.signal });
    running.catch(() => undefined);
    // Wait for the first batch to be put and the second to be held.
    for (let i = 0; i < 200 && !(batches >= 2 && put.size > itemChunks.size); i++) await sleep(25);
    assert.ok(batches >= 2 && put.size > 0, `batches ${batches}, put ${put.size}`);
    const signalled = performance.now();
    controller.abort('SIGINT');
    const stopped = await Promise.race([running.then(() => undefined, (error: unknown) => error), sleep(5000, 'still running after 5 s')]);
    const waited = performance.now() - signalled;
    assert.ok(stopped instanceof InterruptedError, String(stopped));
    assert.match((stopped as InterruptedError).message, /run the same command again to continue/);
    assert.ok(waited < 2000, `stopped ${Math.round(waited)} ms after the signal, while the read was still held`);
    release();
    await src.close();
    src = undefined;
    await dst.close();
    dst = undefined;
    dst = await openRepository(dstBackend, { passphrase: 'dst', workers: 0, securityDir });
    assert.equal(dst.repository.count, baseline + put.size, 'every chunk put before the stop is committed');
    assert.deepEqual(await listArchiveNames(dst), []);
  } finally {
    release();
    await src?.close();
    await dst?.close();
    await rm(dir, { recursive: true, force: true });
  }
});
