// The record localstack/up and localstack/down share: localstack/.state/pids holds one line
// `name pid stateDir` per running server, .state/<name>.env its environment as JSON, and
// localstack/env the merged KEY=value lines a test or a shell (`set -a; . localstack/env`) reads.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCALSTACK } from './launch.mjs';

const STATE = join(LOCALSTACK, '.state');
const PIDS = join(STATE, 'pids');
export const ENV_FILE = join(LOCALSTACK, 'env');

/** True while `pid` exists. */
export function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (err) { return err.code === 'EPERM'; }
}

/** The recorded servers: `{ name, pid, stateDir, env }`. */
export function readRecords() {
  if (!existsSync(PIDS)) return [];
  return readFileSync(PIDS, 'utf8').split('\n').filter(Boolean).map((line) => {
    const [name, pid, ...dir] = line.split(' ');
    const envFile = join(STATE, `${name}.env`);
    const env = existsSync(envFile) ? JSON.parse(readFileSync(envFile, 'utf8')) : {};
    return { name, pid: Number(pid), stateDir: dir.join(' '), env };
  });
}

/** Rewrites .state/pids, the per-server env records and localstack/env from `records`. */
export function writeRecords(records) {
  mkdirSync(STATE, { recursive: true });
  writeFileSync(PIDS, records.map((r) => `${r.name} ${r.pid} ${r.stateDir}\n`).join(''));
  for (const name of ['sftp', 's3', 'gcs', 'azure']) {
    const file = join(STATE, `${name}.env`);
    const r = records.find((x) => x.name === name);
    if (r) writeFileSync(file, JSON.stringify(r.env), { mode: 0o600 });
    else rmSync(file, { force: true });
  }
  const lines = records.flatMap((r) => Object.entries(r.env).map(([k, v]) => `${k}=${v}`));
  writeFileSync(ENV_FILE, lines.length ? `${lines.join('\n')}\n` : '', { mode: 0o600 });
}
