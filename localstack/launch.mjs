// Starts and stops the local test servers. Each server has a folder `localstack/<name>/`
// whose `start.mjs` runs it in the foreground and, once it accepts requests, prints one line
//   CAIRN_READY {"KEY":"value",...}
// with the environment a client needs (endpoint, credentials, bucket...). It stops on SIGTERM.
// This module spawns those scripts, waits for the line, and stops them by the PID it recorded.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';

export const LOCALSTACK = dirname(fileURLToPath(import.meta.url));
export const SERVERS = ['sftp', 's3', 'gcs', 'azure'];
const READY_TIMEOUT_MS = Number(process.env.CAIRN_SERVER_TIMEOUT_MS ?? 180_000);

/** Installs localstack/'s own npm packages when they are missing (serialised by a lock file). */
export function ensureInstalled() {
  if (existsSync(join(LOCALSTACK, 'node_modules', '.package-lock.json'))) return;
  const r = spawnSync('bash', ['-c', `flock /tmp/cairn-npm.lock npm install --no-audit --no-fund --prefix "${LOCALSTACK}"`], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`could not install localstack's packages (npm exit ${r.status}): run "npm install --prefix localstack"`);
}

/** A free TCP port on 127.0.0.1. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts server `name` (with `env` added to its environment: a harness mode, e.g. SFTP_HIDE or
 * CAIRN_AZURE_MODE=oauth); resolves to `{ name, pid, env, stateDir, stop() }` once it is ready,
 * rejects with the tail of its output when it exits or does not get ready in time.
 */
export async function startServer(name, { stateDir, detached = false, env: extraEnv = {} } = {}) {
  if (!SERVERS.includes(name)) throw new Error(`unknown server "${name}": one of ${SERVERS.join(', ')}`);
  if (name !== 'sftp') ensureInstalled();
  const state = stateDir ?? mkdtempSync(join(tmpdir(), `cairn-${name}-`));
  mkdirSync(state, { recursive: true });
  const port = await freePort();
  const child = spawn(process.execPath, [join(LOCALSTACK, name, 'start.mjs')], {
    env: { ...process.env, ...extraEnv, STATE_DIR: state, PORT: String(port), TMPDIR: state },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
  });
  let output = '';
  const env = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${name} server not ready after ${READY_TIMEOUT_MS} ms:\n${output.slice(-2000)}`)); }, READY_TIMEOUT_MS);
    const onData = (chunk) => {
      output += chunk;
      const m = /^CAIRN_READY (.*)$/m.exec(output);
      if (m) { clearTimeout(timer); resolve(JSON.parse(m[1])); }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', (c) => { output += c; });
    child.once('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`${name} server exited (${code ?? signal}) before it was ready:\n${output.slice(-2000)}`)); });
  });
  child.removeAllListeners('exit');
  let stopping = false;
  if (detached) { child.stdout.destroy(); child.stderr.destroy(); child.unref(); }
  else {
    // Keep the tail of the server's output: if it dies while tests use it, say so and why, since
    // the tests then see only refused connections.
    child.stdout.on('data', (c) => { output = (output + c).slice(-4000); });
    child.stderr.on('data', (c) => { output = (output + c).slice(-4000); });
    child.once('exit', (code, signal) => {
      if (!stopping) process.stderr.write(`${name} server (pid ${child.pid}) exited unexpectedly (${code ?? signal}):\n${output.slice(-2000)}\n`);
    });
  }
  const stop = () => { stopping = true; return stopPid(child.pid, stateDir ? undefined : state); };
  return { name, pid: child.pid, env, stateDir: state, stop };
}

/** Sends SIGTERM to `pid`, then SIGKILL after 10 s; removes `cleanup` when given. */
export async function stopPid(pid, cleanup) {
  const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
  if (alive()) {
    try { process.kill(pid, 'SIGTERM'); } catch { /* gone already */ }
    for (let i = 0; i < 100 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
    if (alive()) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  }
  if (cleanup) rmSync(cleanup, { recursive: true, force: true });
}
