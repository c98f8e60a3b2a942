// End to end: where a repository may be created (never inside another one) and what its config
// may say (segmentSize within bounds), each refused in one line with exit 2 and nothing written.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cairn, ok, oneLine, workspace } from './helpers.js';
import { s3Env, s3Url, startFactory } from '../backends/factories/s3.js';

const exists = (p: string) => stat(p).then(() => true, () => false);

test('rcreate refuses a folder inside another repository, at any depth (local)', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'none']);
    const before = (await readdir(ws.repo)).sort();
    for (const inner of [join(ws.repo, 'data'), join(ws.repo, 'data', 'x', 'y'), `file://${join(ws.repo, 'other')}`]) {
      const r = await cairn(['-r', inner, 'rcreate', '--encryption', 'none']);
      assert.equal(r.code, 2, inner);
      assert.match(oneLine(r.stderr), /inside the repository/);
    }
    assert.deepEqual((await readdir(ws.repo)).sort(), before);
    assert.equal(await exists(join(ws.repo, 'other')), false);
    assert.equal(await exists(join(ws.repo, 'data', 'x')), false);
    await ok(['-r', join(ws.dir, 'beside'), 'rcreate', '--encryption', 'none']); // a sibling is fine
  } finally {
    await ws.cleanup();
  }
});

test('a config whose segmentSize is out of bounds is refused in one line (exit 2)', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'none']);
    const path = join(ws.repo, 'config');
    const config = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    for (const segmentSize of [1, -5, 0, 2 ** 33]) {
      await writeFile(path, JSON.stringify({ ...config, segmentSize }));
      for (const args of [['rlist'], ['create', 'a', '.']]) {
        const r = await cairn(['-r', ws.repo, ...args], { cwd: ws.dir });
        assert.equal(r.code, 2, `${segmentSize} ${args.join(' ')}`);
        assert.match(oneLine(r.stderr), /segmentSize/);
      }
    }
    assert.equal(await exists(join(ws.repo, 'records', 'archive-a')), false);
  } finally {
    await ws.cleanup();
  }
});

const s3 = await startFactory();
if (s3 instanceof Error) {
  test('rcreate under another repository\'s S3 prefix: server unavailable outside CI', (t) => t.skip(s3.message.split('\n')[0]));
} else {
  after(() => s3.stop());
  test('rcreate refuses an S3 prefix under another repository\'s prefix', async () => {
    const root = `nest-${process.pid}-${Date.now()}`;
    const env = s3Env(s3.env);
    await ok(['-r', s3Url(s3.env, root).href, 'rcreate', '--encryption', 'none'], { env });
    const r = await cairn(['-r', s3Url(s3.env, `${root}/data/inner`).href, 'rcreate', '--encryption', 'none'], { env });
    assert.equal(r.code, 2);
    // The AWS SDK prints its own Node-version warning on Node 20: look at cairn's lines only.
    assert.match(oneLine(r.stderr.split('\n').filter((l) => l.startsWith('cairn:')).join('\n')), /inside the repository/);
    await ok(['-r', s3Url(s3.env, `${root}-beside`).href, 'rcreate', '--encryption', 'none'], { env });
  });
}

test('repository objects, the key file and the files cache are private to the user (F9)', async () => {
  const ws = await workspace();
  try {
    const config = join(ws.dir, 'config-home');
    const env = { XDG_CONFIG_HOME: config };
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'keyfile'], { env });
    await writeFile(join(ws.dir, 'f'), 'x');
    await ok(['-r', ws.repo, 'create', 'a', 'f'], { env, cwd: ws.dir });
    const mode = async (p: string) => (await stat(p)).mode & 0o777;
    const walk = async (dir: string): Promise<[string, number][]> => {
      const out: [string, number][] = [[dir, await mode(dir)]];
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) out.push(...await walk(p));
        else out.push([p, await mode(p)]);
      }
      return out;
    };
    for (const [path, m] of [...await walk(ws.repo), ...await walk(join(config, 'cairn')), ...await walk(join(ws.dir, 'cache', 'cairn'))]) {
      assert.equal(m & 0o077, 0, `${path} is ${m.toString(8)}`);
    }
  } finally {
    await ws.cleanup();
  }
});
