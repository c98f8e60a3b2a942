/**
 * Open cost with and without the local index cache (ADR 0051), on the local S3 server: a repository
 * whose index holds CHUNKS entries in DELTAS index objects (raw 64-byte values put through the
 * library: the index is what is measured, no archive reads them), then `cairn rlist --json` timed with
 * `--no-cache` (what every open cost before) and with a warm cache. Run once, under the bench lock:
 *   flock /work/bench.lock node --import tsx test/bench/index-open.ts [CHUNKS] [DELTAS]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRepository, openStore } from '../../src/index.js';
import { tryStartServer } from '../helpers/servers.js';
import { localIndexCache } from '../../src/archive/index-cache.js';
import { repositoryCacheDir } from '../../src/archive/files-cache.js';
import { s3Env, s3Url } from '../backends/factories/s3.js';

const CHUNKS = Number(process.argv[2] ?? 200_000);
const DELTAS = Number(process.argv[3] ?? 100);
const PASSPHRASE = 'bench index open';
const main = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; out: string; code: number }> {
  const start = performance.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, [main, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('close', (code) => done({ ms: performance.now() - start, out, code: code ?? 1 }));
  });
}

const server = await tryStartServer('s3');
if (server instanceof Error) throw server;
const dir = await mkdtemp(join(tmpdir(), 'cairn-bench-index-'));
try {
  const url = s3Url(server.env, 'bench-index/').href;
  const env = { ...process.env, ...s3Env(server.env), CAIRN_PASSPHRASE: PASSPHRASE, XDG_CACHE_HOME: join(dir, 'cache'), XDG_CONFIG_HOME: join(dir, 'config') };
  const created = await run(['-r', url, 'rcreate', '-e', 'repokey'], env);
  if (created.code !== 0) throw new Error('rcreate failed');
  const t0 = performance.now();
  const store = await openStore(url, { env });
  const opened = await openRepository(store, { passphrase: PASSPHRASE, env, indexCache: false });
  const per = Math.ceil(CHUNKS / DELTAS);
  for (let n = 0; n < CHUNKS;) {
    for (let i = 0; i < per && n < CHUNKS; i++, n++) await opened.repository.put(randomBytes(32), randomBytes(64));
    await opened.repository.commit();
  }
  await opened.close();
  await store.close();
  console.log(`made ${CHUNKS} chunks in ${DELTAS} index deltas in ${((performance.now() - t0) / 1000).toFixed(1)} s (node ${process.version})`);
  const measure = async (label: string, extra: string[]) => {
    const r = await run(['-r', url, '--json', ...extra, 'rlist'], env);
    if (r.code !== 0) throw new Error(`${label}: exit ${r.code}`);
    const { backend } = JSON.parse(r.out) as { backend: { requests: Record<string, number>; bytesDown: number } };
    console.log(`${label.padEnd(28)} ${(r.ms / 1000).toFixed(2).padStart(6)} s  GET ${String(backend.requests.get).padStart(4)}  LIST ${backend.requests.list}  down ${(backend.bytesDown / 1048576).toFixed(2)} MiB`);
  };
  for (let i = 0; i < 3; i++) await measure('rlist --no-cache (before)', ['--no-cache']);
  await measure('rlist, cache built', []);
  for (let i = 0; i < 3; i++) await measure('rlist, warm cache (after)', []);
  // The index load alone, in one process (no startup, no Argon2): a full load against the warm cache.
  const store2 = await openStore(url, { env });
  const again = await openRepository(store2, { passphrase: PASSPHRASE, env, indexCache: false });
  const cache = localIndexCache(again.key, repositoryCacheDir(again.repository.config.id, env));
  for (const [label, options] of [['loadIndex, whole index', {}], ['loadIndex, warm cache', { cache }]] as const) {
    for (let i = 0; i < 3; i++) {
      const before = store2.counter.usage();
      const start = performance.now();
      await again.repository.loadIndex(options);
      const ms = performance.now() - start;
      const now = store2.counter.usage();
      console.log(`${label.padEnd(28)} ${(ms / 1000).toFixed(3).padStart(6)} s  GET ${String(now.requests.get - before.requests.get).padStart(4)}  down ${((now.bytesDown - before.bytesDown) / 1048576).toFixed(2)} MiB  heap ${(process.memoryUsage().heapUsed / 1048576).toFixed(0)} MiB`);
    }
  }
  await again.close();
  await store2.close();
} finally {
  await rm(dir, { recursive: true, force: true });
  await server.stop();
}
