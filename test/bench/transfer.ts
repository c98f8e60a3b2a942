/**
 * `npm run bench -- transfer`: what off-site replication costs. The benchmark dataset (1 GiB, or
 * CAIRN_BENCH_SIZE) is backed up into a local repository, then transferred to the local S3 server
 * (through the harness proxy, which counts what reaches it); then the day-2 mutation, a local day-2
 * backup and a second transfer. Time, requests and bytes come from `transfer --json` (`backend` for
 * S3, `otherBackend` for the local repository) and from the proxy. `restic copy` of the same data
 * (a local restic repository copied to S3 with `init --copy-chunker-params`) runs beside it when
 * restic is installed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cairn } from '../cli/helpers.js';
import { generateDataset, parseSize } from './dataset/generate.js';
import { mutateDataset } from './dataset/mutate.js';
import { startRemoteRepo, type RemoteRepo } from '../helpers/remote-repo.js';

const MIB = 1024 * 1024;
const SRC_PASSPHRASE = 'bench-local';
const DST_PASSPHRASE = 'bench-offsite';
interface Usage { requests: Record<string, number>; retries: number; bytesUp: number; bytesDown: number }
interface Row { tool: string; run: string; seconds: number; proxy: string; own?: string; other?: string; note?: string }

const total = (u: Usage): number => Object.values(u.requests).reduce((a, b) => a + b, 0);
const usageText = (u: Usage): string => `${total(u)} req (${Object.entries(u.requests).filter(([, n]) => n).map(([k, n]) => `${n} ${k.toUpperCase()}`).join(', ')}), ${(u.bytesUp / MIB).toFixed(1)} MiB up, ${(u.bytesDown / MIB).toFixed(1)} MiB down`;

function proxyText(r: RemoteRepo): string {
  const c = r.proxy.counts;
  if (!('byKind' in c)) return '-';
  const n = Object.values(c.byKind).reduce((a, b) => a + b, 0);
  return `${n} HTTP (${Object.entries(c.byKind).filter(([, k]) => k).map(([k, v]) => `${v} ${k.toUpperCase()}`).join(', ')}), ${(c.bytesUp / MIB).toFixed(1)} MiB up, ${(c.bytesDown / MIB).toFixed(1)} MiB down`;
}

function run(cmd: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => { err = (err + c).slice(-2000); });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')} exited ${code}: ${err}`))));
  });
}

export default async function transferBench(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'cairn-bench-transfer-'));
  const rows: Row[] = [];
  const log = (row: Row): void => { rows.push(row); console.log(`measured: ${JSON.stringify(row)}`); };
  let remote: RemoteRepo | undefined;
  try {
    const src = join(work, 'src');
    const summary = await generateDataset(src, { bytes: parseSize(process.env.CAIRN_BENCH_SIZE ?? '1G'), seed: 'cairn-bench-1' });
    const started = await startRemoteRepo('s3', 'bench-transfer');
    if (started instanceof Error) throw started;
    remote = started;
    const s3 = started;
    const env = { XDG_CACHE_HOME: join(work, 'cache'), XDG_CONFIG_HOME: join(work, 'config'), ...s3.env };
    const local = join(work, 'local');
    const must = async (args: string[], extra: NodeJS.ProcessEnv) => {
      const out = await cairn(args, { cwd: src, env: { ...env, ...extra } });
      if (out.code !== 0) throw new Error(`cairn ${args.join(' ')} exited ${out.code}: ${out.stderr.slice(-500)}`);
      return out.stdout;
    };
    const srcEnv = { CAIRN_PASSPHRASE: SRC_PASSPHRASE };
    const dstEnv = { CAIRN_PASSPHRASE: DST_PASSPHRASE, CAIRN_OTHER_PASSPHRASE: SRC_PASSPHRASE };
    await must(['-r', local, 'rcreate', '--encryption', 'repokey'], srcEnv);
    await must(['-r', local, 'create', 'day1', '.'], srcEnv);
    await must(['-r', s3.url, 'rcreate', '--encryption', 'repokey', '--other-repo', local], dstEnv);
    const transfer = async (label: string) => {
      s3.proxy.resetCounts();
      const t0 = performance.now();
      const doc = JSON.parse(await must(['-r', s3.url, '--json', 'transfer', '--other-repo', local], dstEnv)) as { chunks: number; bytes: number; stored: number; backend: Usage; otherBackend: Usage };
      log({
        tool: 'cairn transfer', run: label, seconds: (performance.now() - t0) / 1000, proxy: proxyText(s3), own: usageText(doc.backend), other: usageText(doc.otherBackend),
        note: `${doc.chunks} chunks, ${(doc.bytes / MIB).toFixed(1)} MiB plaintext, stored ${(doc.stored / MIB).toFixed(1)} MiB`,
      });
    };
    await transfer('day 1');

    const hasRestic = spawnSync('restic', ['version'], { stdio: 'ignore' }).status === 0;
    const e = s3.server.env;
    const { AWS_CA_BUNDLE: _ca, ...inherited } = process.env;
    const resticEnv: NodeJS.ProcessEnv = {
      ...inherited, RESTIC_PASSWORD: DST_PASSPHRASE, RESTIC_FROM_PASSWORD: SRC_PASSPHRASE, RESTIC_CACHE_DIR: join(work, 'restic-cache'),
      AWS_ACCESS_KEY_ID: e.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: e.AWS_SECRET_ACCESS_KEY,
    };
    const resticLocal = join(work, 'restic-local');
    const resticS3 = `s3:${(s3.proxy as { url: string }).url}/${e.S3_BUCKET}/restic`;
    const restic = (args: string[]) => run('restic', ['-q', ...args], { cwd: src, env: resticEnv });
    const resticCopy = async (label: string) => {
      s3.proxy.resetCounts();
      const t0 = performance.now();
      await restic(['-r', resticS3, 'copy', '--from-repo', resticLocal]);
      log({ tool: 'restic copy', run: label, seconds: (performance.now() - t0) / 1000, proxy: proxyText(s3) });
    };
    if (hasRestic) {
      const asSource = { cwd: src, env: { ...resticEnv, RESTIC_PASSWORD: SRC_PASSPHRASE } };
      await run('restic', ['-q', '-r', resticLocal, 'init'], asSource);
      await run('restic', ['-q', '-r', resticLocal, 'backup', '--host', 'bench', '.'], asSource);
      await restic(['-r', resticS3, 'init', '--copy-chunker-params', '--from-repo', resticLocal]);
      await resticCopy('day 1');
    }

    const changed = await mutateDataset(src, { seed: 'cairn-bench-1' });
    const day2 = JSON.parse(await must(['-r', local, '--json', 'create', 'day2', '.'], srcEnv)) as { stats: { chunks: number; deduplicated: number; compressed: number } };
    await transfer('day 2');
    if (hasRestic) {
      await run('restic', ['-q', '-r', resticLocal, 'backup', '--host', 'bench', '.'], { cwd: src, env: { ...resticEnv, RESTIC_PASSWORD: SRC_PASSPHRASE } });
      await resticCopy('day 2');
    }

    console.log(`\nTransfer local → S3 (local server behind the harness proxy): dataset ${(summary.bytes / MIB).toFixed(0)} MiB in ${summary.files} files; day 2 = ${JSON.stringify(changed)}`);
    console.log(`day-2 backup added ${day2.stats.chunks} chunks, ${(day2.stats.deduplicated / MIB).toFixed(1)} MiB plaintext, ${(day2.stats.compressed / MIB).toFixed(1)} MiB stored`);
    console.log('cairn: own = S3 side from --json "backend", other = local side ("otherBackend"); proxy = what reached the S3 server');
    for (const r of rows) {
      console.log(`${r.tool.padEnd(15)} ${r.run.padEnd(6)} ${r.seconds.toFixed(1).padStart(7)} s  proxy: ${r.proxy}`);
      if (r.own) console.log(`${''.padEnd(31)}S3: ${r.own}; local: ${r.other}; ${r.note}`);
    }
    if (!hasRestic) console.log('restic: not installed, no comparison');
  } finally {
    await remote?.close();
    if (!process.env.CAIRN_BENCH_KEEP) await rm(work, { recursive: true, force: true });
  }
}
