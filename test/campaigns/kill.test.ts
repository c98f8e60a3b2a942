// The kill campaign, short (npm run test:kill runs it long): the real cairn executable SIGKILLed
// during each operation on fs and on the local s3 server, with two writers at once in one create
// run. Nothing damaged, no committed archive lost, the key always opens with exactly one passphrase.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cairn, ok, startCairn, workspace } from '../cli/helpers.js';
import { crashStore } from '../crash/stores.js';
import { inCI } from '../helpers/servers.js';
import { runKillCampaign, summaryLine, type Op } from './kill.js';

// Kill windows for a short run (a long run measures them): about the length of each op here.
const durations = { create: 2500, 'prune-compact': 3000, repair: 2000, passphrase: 2500, transfer: 2500 };

const check = (result: Awaited<ReturnType<typeof runKillCampaign>>, backend: string, seed: number) => {
  for (const [op, f] of Object.entries(result.byOp)) console.log(`${op} on ${backend}: ${summaryLine(f)}`);
  assert.deepEqual(result.problems, [], `seed ${seed}`);
  for (const f of Object.values(result.byOp)) assert.equal(f.damaged + f.lost + f.keysUnusable, 0);
};

test('kill -9 during create (two writers), prune+compact, check --repair, change-passphrase, transfer on fs', async () => {
  const seed = 7117;
  const ops: Op[] = ['create', 'prune-compact', 'repair', 'passphrase', 'transfer'];
  // The create run starts two writers at once (each killed at its own moment).
  const result = await runKillCampaign({ kills: 6, seed, ops, durations, twoWritersEvery: 1 });
  check(result, 'fs', seed);
  assert.ok(Object.values(result.byOp).reduce((n, f) => n + f.kills, 0) >= 5);
});

test('kill -9 during create and change-passphrase on s3', async (t) => {
  const seed = 8228;
  let store;
  try {
    store = await crashStore('s3', `kill-test-${seed}-main`);
  } catch (err) {
    if (inCI) throw err;
    return t.skip(String((err as Error).message).split('\n')[0]);
  }
  try {
    const ops: Op[] = ['create', 'passphrase'];
    const result = await runKillCampaign({ kills: 2, seed, ops, durations, stores: { main: store.location, other: store.at(`kill-test-${seed}-other`), env: store.env } });
    check(result, 's3', seed);
  } finally {
    await store.stop();
  }
});

test('a create killed mid-write leaves its temporary segment file (fs); compact removes it once it is an hour old', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'big.bin'), randomBytes(48 * 1024 * 1024));
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    const temps = async () => (await readdir(join(ws.repo, 'data'), { recursive: true, withFileTypes: true }).catch(() => []))
      .filter((e) => e.isFile() && e.name.startsWith('.tmp-')).map((e) => join(e.parentPath, e.name));
    const child = startCairn(['-r', ws.repo, 'create', '--compression', 'none', 'big', '.'], { cwd: src });
    const exited = new Promise((done) => child.on('close', done));
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && (await temps()).length === 0) await sleep(20);
    child.kill('SIGKILL');
    await exited;
    const left = await temps();
    assert.ok(left.length > 0, 'the kill landed while a segment was being written');
    const checked = await cairn(['-r', ws.repo, 'check']);
    assert.equal(checked.code, 0, checked.stderr);
    // A fresh one may belong to a writer still running elsewhere: kept.
    await ok(['-r', ws.repo, 'compact']);
    assert.deepEqual(await temps(), left);
    const hourAgo = new Date(Date.now() - 2 * 3600_000);
    for (const f of left) await utimes(f, hourAgo, hourAgo);
    const out = JSON.parse(await ok(['-r', ws.repo, '--json', 'compact'])) as { repository: { staleTempFiles?: number } };
    assert.equal(out.repository.staleTempFiles, left.length);
    assert.deepEqual(await temps(), []);
    assert.equal((await cairn(['-r', ws.repo, 'check'])).code, 0);
  } finally {
    await ws.cleanup();
  }
});
