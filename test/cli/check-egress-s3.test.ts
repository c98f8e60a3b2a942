// End to end on the local S3 server (issue 13): a plain `check` reads the log's structure with
// ranged reads, so it downloads a small fraction of a 50 MiB repository (the `backend` accounting
// of --json), and still finds a damaged entry header; a damaged value is found by --verify-data,
// which names the chunk; a restore reads with several requests at once and is byte-exact.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cairn, ok, workspace } from './helpers.js';
import { s3Env, s3Url, startFactory } from '../backends/factories/s3.js';
import { scanSegment } from '../../src/repository/segment-scan.js';
import { TAG_PUT2 } from '../../src/repository/segment-format.js';
import { loadDigests } from '../../src/repository/digests.js';

const factory = await startFactory();

interface Usage { requests: Record<string, number>; bytesDown: number }
interface CheckJson {
  backend: Usage;
  repository: { read: string; damage: { kind: string; key: string; offset?: number }[] };
  archives: { problems: { kind: string; id?: string }[] };
}

if (factory instanceof Error) {
  test('check egress on s3: server unavailable outside CI', (t) => t.skip(factory.message.split('\n')[0]));
} else {
  after(() => factory.stop());
  const env = s3Env(factory.env);

  test('s3: plain check downloads < 10 % of 50 MiB and finds a damaged header; --verify-data finds a damaged value by chunk', async () => {
    const ws = await workspace();
    try {
      const src = join(ws.dir, 'src');
      await mkdir(src);
      const MiB = 1024 * 1024;
      for (let i = 0; i < 5; i++) await writeFile(join(src, `f${i}`), randomBytes(10 * MiB));
      const url = s3Url(factory.env, 'egress/').href;
      await ok(['-r', url, 'rcreate', '-e', 'repokey'], { env });
      await ok(['-r', url, 'create', 'a1', '.'], { env, cwd: src });

      const plain = JSON.parse(await ok(['-r', url, '--json', 'check'], { env })) as CheckJson;
      assert.equal(plain.repository.read, 'structure');
      assert.ok(plain.backend.bytesDown < 5 * MiB, `plain check downloaded ${plain.backend.bytesDown} bytes of a 50 MiB repository`);

      // The restore is byte-exact.
      const out = join(ws.dir, 'out');
      await ok(['-r', url, 'extract', 'a1', '--target', out], { env });
      for (let i = 0; i < 5; i++) assert.ok((await readFile(join(out, `f${i}`))).equals(await readFile(join(src, `f${i}`))), `f${i} restored exactly`);

      // Find the largest PUT2 entry (a file chunk) in the segments.
      await loadDigests();
      const backend = await factory.make('egress/');
      let target: { key: string; offset: number; size: number; id: string; bytes: Uint8Array } | undefined;
      for await (const { key } of backend.list('data/')) {
        const bytes = await backend.get(key);
        for (const e of scanSegment(bytes).entries) {
          if (e.tag === TAG_PUT2 && (!target || e.size > target.size)) target = { key, offset: e.offset, size: e.size, id: Buffer.from(e.id!).toString('hex'), bytes };
        }
      }
      assert.ok(target && target.size > MiB / 2);
      const flip = async (at: number): Promise<void> => {
        const copy = target!.bytes.slice();
        copy[at] ^= 0x20;
        await backend.put(target!.key, copy);
      };

      // A damaged value: --verify-data finds it and names the chunk.
      await flip(target.offset + Math.floor(target.size / 2));
      const verify = await cairn(['-r', url, '--json', 'check', '--verify-data'], { env });
      assert.notEqual(verify.code, 0);
      const v = JSON.parse(verify.stdout) as CheckJson;
      assert.equal(v.repository.read, 'data');
      assert.ok(v.repository.damage.some((d) => d.key === target!.key && d.offset === target!.offset), JSON.stringify(v.repository.damage));
      assert.ok(v.archives.problems.some((p) => p.kind === 'corrupt-chunk' && p.id === target!.id), JSON.stringify(v.archives.problems));
      assert.ok(v.backend.bytesDown > 50 * MiB, '--verify-data reads everything');

      // A damaged header: the plain check finds it, still with ranged reads.
      await flip(target.offset + 20);
      const header = await cairn(['-r', url, '--json', 'check'], { env });
      assert.notEqual(header.code, 0);
      const h = JSON.parse(header.stdout) as CheckJson;
      assert.ok(h.repository.damage.some((d) => d.kind === 'segment' && d.key === target!.key && d.offset === target!.offset), JSON.stringify(h.repository.damage));
      assert.ok(h.backend.bytesDown < 5 * MiB);
      await backend.put(target.key, target.bytes);
      await backend.close();
    } finally {
      await ws.cleanup();
    }
  });
}
