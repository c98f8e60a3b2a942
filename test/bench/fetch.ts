/**
 * Read-path benchmark (issue 13): restore and check from a local repository and from the local S3
 * server (localstack/s3), through the cairn executable, with the request accounting of `--json`.
 *
 *   flock /work/bench.lock npm run bench -- fetch          256 MiB of the e2e dataset
 *   CAIRN_BENCH_SIZE=1G CAIRN_BENCH_KEEP=1 npm run bench -- fetch   (CAIRN_BENCH_FULL_CHECK=0: no --verify-data run)
 *
 * Prints, per repository: extract wall time and GET requests, the restore's byte-exactness against
 * the source, and the egress of a plain `check` and of `check --verify-data`.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDataset, parseSize } from './dataset/generate.js';
import { startServer } from '../helpers/servers.js';
import { s3Env, s3Url } from '../backends/factories/s3.js';

const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..');

interface Usage { requests: Record<string, number>; bytesDown: number }

async function cairn(args: string[], env: NodeJS.ProcessEnv, cwd = root): Promise<{ ms: number; out: Record<string, unknown> }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(root, 'src/cli/main.ts'), ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const code = await new Promise<number>((done) => child.on('close', (c) => done(c ?? 1)));
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`cairn ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`);
  const last = stdout.trim().split('\n').at(-1) ?? '{}';
  return { ms, out: JSON.parse(last) as Record<string, unknown> };
}

async function treeHash(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (d: string): Promise<void> => {
    for (const name of (await readdir(d)).sort()) {
      const p = join(d, name);
      const s = await lstat(p);
      hash.update(relative(dir, p));
      if (s.isDirectory()) await walk(p);
      else if (s.isFile()) hash.update(await readFile(p));
    }
  };
  await walk(dir);
  return hash.digest('hex');
}

export default async function run(): Promise<void> {
  const size = parseSize(process.env.CAIRN_BENCH_SIZE ?? '256M');
  const work = await mkdtemp(join(tmpdir(), 'cairn-bench-fetch-'));
  const server = await startServer('s3');
  try {
    const data = join(work, 'data');
    const summary = await generateDataset(data, { bytes: size, seed: 'cairn-bench-1' });
    console.log(`dataset: ${summary.files} files, ${(summary.bytes / 2 ** 20).toFixed(0)} MiB (${summary.smallFiles} small); node ${process.version}`);
    const want = await treeHash(data);
    const env = { ...s3Env(server.env), CAIRN_PASSPHRASE: 'bench', XDG_CACHE_HOME: join(work, 'cache'), XDG_CONFIG_HOME: join(work, 'config') };
    for (const [label, repo] of [['local', join(work, 'repo')], ['s3', s3Url(server.env, 'repo/').href]] as const) {
      await cairn(['-r', repo, '--json', 'rcreate', '-e', 'repokey'], env);
      await cairn(['-r', repo, '--json', 'create', 'a1', '.'], env, data);
      const target = join(work, `out-${label}`);
      const x = await cairn(['-r', repo, '--json', 'extract', 'a1', '--target', target], env);
      const xb = x.out.backend as Usage;
      const exact = (await treeHash(target)) === want;
      await rm(target, { recursive: true, force: true });
      const c = await cairn(['-r', repo, '--json', 'check'], env);
      const cb = c.out.backend as Usage;
      const full = process.env.CAIRN_BENCH_FULL_CHECK !== '0';
      const v = full ? await cairn(['-r', repo, '--json', 'check', '--verify-data'], env) : { ms: 0, out: { backend: { requests: { get: 0 }, bytesDown: 0 } } };
      const vb = v.out.backend as Usage;
      console.log(`${label}: extract ${(x.ms / 1000).toFixed(2)} s, ${xb.requests.get} GET, ${(xb.bytesDown / 2 ** 20).toFixed(1)} MiB down, byte-exact ${exact}`);
      console.log(`${label}: check ${(c.ms / 1000).toFixed(2)} s, ${cb.requests.get} GET, ${(cb.bytesDown / 2 ** 20).toFixed(2)} MiB down; `
        + `check --verify-data ${(v.ms / 1000).toFixed(2)} s, ${vb.requests.get} GET, ${(vb.bytesDown / 2 ** 20).toFixed(1)} MiB down`);
    }
  } finally {
    await server.stop();
    if (process.env.CAIRN_BENCH_KEEP !== '1') await rm(work, { recursive: true, force: true });
    else console.log(`kept ${work}`);
  }
}
