// `check --verify-data` reads each byte once (issue 13): the repository's whole-segment scan opens
// every indexed chunk as it holds the segment, and the archive check takes its outcome instead of
// downloading every referenced chunk again. Measured by the `backend` accounting of --json on a
// local repository. And the one pass still authenticates every chunk: a value rewritten with a
// valid segment digest (so the scan alone sees nothing) is reported as a corrupt chunk by its id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cairn, ok, workspace } from './helpers.js';
import { scanSegment } from '../../src/repository/segment-scan.js';
import { encodePutHeader, PUT_HEADER_SIZE, TAG_PUT2 } from '../../src/repository/segment-format.js';
import { loadDigests } from '../../src/repository/digests.js';

interface CheckJson {
  backend: { bytesDown: number };
  repository: { read: string; damage: unknown[] };
  archives: { verifiedChunks: number; problems: { kind: string; id?: string }[] };
}

async function segmentFiles(repo: string): Promise<string[]> {
  const out: string[] = [];
  for (const session of await readdir(join(repo, 'data'))) for (const seq of await readdir(join(repo, 'data', session))) out.push(join(repo, 'data', session, seq));
  return out;
}

test('check --verify-data downloads the segments once and still authenticates every chunk', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    const MiB = 1024 * 1024;
    for (let i = 0; i < 4; i++) await writeFile(join(src, `f${i}`), randomBytes(3 * MiB));
    for (let i = 0; i < 50; i++) await writeFile(join(src, `small${i}`), randomBytes(200 + i));
    await ok(['-r', ws.repo, 'rcreate', '-e', 'repokey']);
    await ok(['-r', ws.repo, 'create', 'a1', '.'], { cwd: src });
    const segments = await segmentFiles(ws.repo);
    let segmentBytes = 0;
    for (const s of segments) segmentBytes += (await stat(s)).size;

    const good = JSON.parse(await ok(['-r', ws.repo, '--json', 'check', '--verify-data'])) as CheckJson;
    assert.equal(good.repository.read, 'data');
    assert.ok(good.archives.verifiedChunks > 50, `${good.archives.verifiedChunks} chunks verified`);
    // Once: the segments plus index objects and records, not twice the segments (the old 2×).
    assert.ok(good.backend.bytesDown >= segmentBytes, `${good.backend.bytesDown} < ${segmentBytes}`);
    assert.ok(good.backend.bytesDown < segmentBytes * 1.2, `--verify-data downloaded ${good.backend.bytesDown} bytes for ${segmentBytes} bytes of segments`);

    // Rewrite the largest chunk's value with valid digests: only opening the chunk can tell.
    await loadDigests();
    let target: { file: string; offset: number; size: number; id: Uint8Array; bytes: Uint8Array } | undefined;
    for (const file of segments) {
      const bytes = new Uint8Array(await readFile(file));
      for (const e of scanSegment(bytes).entries) if (e.tag === TAG_PUT2 && (!target || e.size > target.size)) target = { file, offset: e.offset, size: e.size, id: e.id!, bytes };
    }
    assert.ok(target && target.size > MiB);
    const value = target.bytes.slice(target.offset + PUT_HEADER_SIZE, target.offset + target.size);
    value[Math.floor(value.length / 2)] ^= 0x01;
    const copy = target.bytes.slice();
    copy.set(encodePutHeader(target.id, value), target.offset);
    copy.set(value, target.offset + PUT_HEADER_SIZE);
    await writeFile(target.file, copy);

    const bad = await cairn(['-r', ws.repo, '--json', 'check', '--verify-data']);
    assert.equal(bad.code, 2, bad.stderr);
    const b = JSON.parse(bad.stdout) as CheckJson;
    assert.deepEqual(b.repository.damage, [], 'the segment digests are valid');
    const hex = Buffer.from(target.id).toString('hex');
    assert.deepEqual(b.archives.problems.map((p) => [p.kind, p.id]), [['corrupt-chunk', hex]]);
    assert.ok(b.backend.bytesDown < segmentBytes * 1.2, `${b.backend.bytesDown} bytes for ${segmentBytes}`);
  } finally {
    await ws.cleanup();
  }
});
