/**
 * Part 2 of `npm run bench -- backends`: what a 1 GiB backup and a day-2 backup cost on each
 * backend (fs, a folder here, with cairn's own accounting only; the remote ones through a proxy), in requests and bytes, from the `backend` object of `cairn --json create` and from the
 * harness's proxy in front of the local server; restic beside it over SFTP and S3 where installed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cairn } from '../../cli/helpers.js';
import { generateDataset, parseSize } from '../dataset/generate.js';
import { mutateDataset } from '../dataset/mutate.js';
import { runtimeLine } from '../../helpers/runtime.js';
import { startRemoteRepo, type RemoteName, type RemoteRepo } from '../../helpers/remote-repo.js';

const MIB = 1024 * 1024;
interface Usage { requests: Record<string, number>; retries: number; bytesUp: number; bytesDown: number }
interface Row { tool: string; backend: string; run: string; usage?: Usage; proxy: string; seconds: number }

function proxySummary(r: RemoteRepo): string {
  const c = r.proxy.counts;
  if ('byKind' in c) {
    const total = Object.values(c.byKind).reduce((a, b) => a + b, 0);
    return `${total} HTTP (${Object.entries(c.byKind).filter(([, n]) => n).map(([k, n]) => `${n} ${k.toUpperCase()}`).join(', ')}), ${(c.bytesUp / MIB).toFixed(1)} MiB up, ${(c.bytesDown / MIB).toFixed(1)} MiB down`;
  }
  return `SSH: ${c.connections} connection(s), ${(c.bytesUp / MIB).toFixed(1)} MiB up, ${(c.bytesDown / MIB).toFixed(1)} MiB down`;
}

/**
 * SFTP protocol requests by kind since `from` (a byte offset), read from the request log of the
 * harness's sshd (SFTP_REQUEST_LOG=1: OpenSSH's sftp-server logs one `request N: KIND` line per
 * request). Counts any client's requests alike, restic's included, which its encrypted SSH bytes
 * alone cannot show.
 */
async function sftpRequestsSince(log: string, from: number): Promise<{ text: string; end: number }> {
  const bytes = await readFile(log);
  const byKind = new Map<string, number>();
  for (const line of bytes.subarray(from).toString('utf8').split('\n')) {
    const m = /^debug\d: request \d+: (\w[\w-]*)/.exec(line);
    if (!m || m[1] === 'sent') continue;
    byKind.set(m[1] as string, (byKind.get(m[1] as string) ?? 0) + 1);
  }
  const total = [...byKind.values()].reduce((a, b) => a + b, 0);
  const kinds = [...byKind].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} ${k}`).join(', ');
  return { text: `${total} SFTP requests (${kinds})`, end: bytes.length };
}

function usageOf(stdout: string): Usage | undefined {
  for (const line of stdout.trim().split('\n').reverse()) {
    try { const doc = JSON.parse(line) as { backend?: Usage }; if (doc.backend) return doc.backend; } catch { /* not JSON */ }
  }
  return undefined;
}

/** restic against `remote` through its proxy: sftp (over `ssh -p PROXY`) or s3. */
function resticOn(remote: RemoteRepo, work: string): (args: string[], cwd: string) => Promise<void> {
  const e = remote.server.env;
  const { AWS_CA_BUNDLE: _ca, ...inherited } = process.env;
  const env: NodeJS.ProcessEnv = { ...inherited, RESTIC_PASSWORD: 'bench', RESTIC_CACHE_DIR: join(work, `restic-cache-${remote.name}`) };
  let repo: string;
  const extra: string[] = [];
  if (remote.name === 'sftp') {
    repo = `sftp:${e.SFTP_USER}@127.0.0.1:${e.SFTP_ROOT}/restic`;
    extra.push('-o', `sftp.command=ssh -p ${remote.proxy.port} -i ${e.SFTP_IDENTITY} -o UserKnownHostsFile=${remote.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes ${e.SFTP_USER}@127.0.0.1 -s sftp`);
  } else {
    repo = `s3:${(remote.proxy as { url: string }).url}/${e.S3_BUCKET}/restic`;
    Object.assign(env, { AWS_ACCESS_KEY_ID: e.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: e.AWS_SECRET_ACCESS_KEY });
  }
  return (args, cwd) => new Promise((resolve, reject) => {
    const child = spawn('restic', ['-r', repo, ...extra, '-q', ...args], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => { err += c; });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`restic ${args[0]} exited ${code}: ${err.slice(-500)}`))));
  });
}

export async function backupCost(names: string[], sizeText: string): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'cairn-bench-cost-'));
  const remotes: RemoteRepo[] = [];
  const rows: Row[] = [];
  try {
    const src = join(work, 'src');
    const summary = await generateDataset(src, { bytes: parseSize(sizeText), seed: 'cairn-bench-1' });
    const hasRestic = spawnSync('restic', ['version'], { stdio: 'ignore' }).status === 0;
    const local = names.includes('fs') ? join(work, 'fs-repo') : undefined;
    process.env.SFTP_REQUEST_LOG = '1';
    for (const name of names.filter((n) => n !== 'fs')) {
      const r = await startRemoteRepo(name as RemoteName, 'bench-cost');
      if (r instanceof Error) { console.log(`${name}: server unavailable (${r.message.split('\n')[0]})`); continue; }
      remotes.push(r);
    }
    delete process.env.SFTP_REQUEST_LOG;
    const env = { XDG_CACHE_HOME: join(work, 'cache') };
    /** The proxy's summary, plus the SFTP requests the server logged during the run. */
    const logOffsets = new Map<RemoteRepo, number>();
    const startCount = async (r: RemoteRepo) => {
      r.proxy.resetCounts();
      const log = r.server.env.SFTP_REQUEST_LOG;
      if (log) logOffsets.set(r, (await readFile(log).catch(() => Buffer.alloc(0))).length);
    };
    const seen = async (r: RemoteRepo) => {
      const log = r.server.env.SFTP_REQUEST_LOG;
      if (!log) return proxySummary(r);
      const { text } = await sftpRequestsSince(log, logOffsets.get(r) ?? 0);
      return `${proxySummary(r)}; ${text}`;
    };
    const measureCairn = async (r: RemoteRepo, run: string, args: string[]) => {
      await startCount(r);
      const t0 = performance.now();
      const out = await cairn(['-r', r.url, '--json', ...args], { cwd: src, env: { ...env, ...r.env } });
      if (out.code !== 0) throw new Error(`cairn ${args[0]} on ${r.name} exited ${out.code}: ${out.stderr.slice(-500)}`);
      const seconds = (performance.now() - t0) / 1000;
      rows.push({ tool: 'cairn', backend: r.name, run, usage: usageOf(out.stdout), proxy: await seen(r), seconds });
    };
    const measureRestic = async (r: RemoteRepo, run: string, args: string[]) => {
      const restic = resticOn(r, work);
      await startCount(r);
      const t0 = performance.now();
      await restic(args, src);
      const seconds = (performance.now() - t0) / 1000;
      rows.push({ tool: 'restic', backend: r.name, run, proxy: await seen(r), seconds });
    };
    /** fs: a folder on this machine; no proxy in front, so only cairn's own accounting. */
    const measureFs = async (run: string, args: string[]) => {
      const t0 = performance.now();
      const out = await cairn(['-r', local as string, '--json', ...args], { cwd: src, env });
      if (out.code !== 0) throw new Error(`cairn ${args[0]} on fs exited ${out.code}: ${out.stderr.slice(-500)}`);
      rows.push({ tool: 'cairn', backend: 'fs', run, usage: usageOf(out.stdout), proxy: '-', seconds: (performance.now() - t0) / 1000 });
    };
    if (local) {
      const out = await cairn(['-r', local, 'rcreate', '--encryption', 'repokey'], { env });
      if (out.code !== 0) throw new Error(`rcreate on fs: ${out.stderr}`);
      await measureFs('day 1', ['create', 'day1', '.']);
    }
    const resticTargets = hasRestic ? remotes.filter((r) => r.name === 'sftp' || r.name === 's3') : [];
    for (const r of remotes) {
      const out = await cairn(['-r', r.url, 'rcreate', '--encryption', 'repokey'], { env: { ...env, ...r.env } });
      if (out.code !== 0) throw new Error(`rcreate on ${r.name}: ${out.stderr}`);
      await measureCairn(r, 'day 1', ['create', 'day1', '.']);
    }
    for (const r of resticTargets) {
      await resticOn(r, work)(['init'], work);
      await measureRestic(r, 'day 1', ['backup', '--host', 'bench', '.']);
    }
    const changed = await mutateDataset(src, { seed: 'cairn-bench-1' });
    if (local) await measureFs('day 2', ['create', 'day2', '.']);
    for (const r of remotes) await measureCairn(r, 'day 2', ['create', 'day2', '.']);
    for (const r of resticTargets) await measureRestic(r, 'day 2', ['backup', '--host', 'bench', '.']);

    console.log(`\nCost of a backup: dataset ${(summary.bytes / MIB).toFixed(0)} MiB in ${summary.files} files; day 2 = ${JSON.stringify(changed)}; cairn on ${await runtimeLine()}`);
    console.log('cairn: requests and object bytes from its --json "backend" object; proxy: what the harness proxy in front of the server saw');
    console.log('(restic has no request count of its own: over S3 the proxy counts its HTTP requests; over SFTP the server logs each protocol request, cairn\'s and restic\'s alike)');
    for (const row of rows) {
      const u = row.usage;
      const own = u
        ? `${Object.values(u.requests).reduce((a, b) => a + b, 0)} requests (${Object.entries(u.requests).filter(([, n]) => n).map(([k, n]) => `${n} ${k.toUpperCase()}`).join(', ')}), ${u.retries} retries, ${(u.bytesUp / MIB).toFixed(1)} MiB up, ${(u.bytesDown / MIB).toFixed(1)} MiB down`
        : '(no own accounting)';
      console.log(`${row.tool.padEnd(6)} ${row.backend.padEnd(5)} ${row.run}  ${row.seconds.toFixed(1).padStart(6)} s  ${own}  |  proxy: ${row.proxy}`);
    }
  } finally {
    for (const r of remotes) await r.close();
    await rm(work, { recursive: true, force: true });
  }
}
