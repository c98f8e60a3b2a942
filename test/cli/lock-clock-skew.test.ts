// Issue 15, "Locks that do not block a day's backups": lock staleness is judged by the store's time
// (ADR 0055), so a cairn whose clock is an hour off (+1 h, -1 h: libfaketime shifts the whole child
// process's clock, as a misconfigured machine would) neither breaks another writer's fresh lock nor
// is blocked by a stale one, on fs and on S3 (the local s3rver harness). `break-lock` asks on a terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Backend } from '../../src/store/backend.js';
import { createFsBackend } from '../../backends/fs/index.js';
import { createS3Backend } from '../../backends/s3/index.js';
import { s3Env, s3Url } from '../backends/factories/s3.js';
import { inCI, tryStartServer, type RunningServer } from '../helpers/servers.js';
import { cairn, cairnOnTerminal, startCairn, workspace } from './helpers.js';

/** Debian's libfaketime (package `faketime`; .ci/run installs it). */
const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'].find((p) => existsSync(p));
const HOUR = 3_600_000;

/** The environment that runs a child with its clock shifted by `offset` ('+1h', '-1h'). */
function skewed(offset: string): NodeJS.ProcessEnv {
  return { LD_PRELOAD: LIBFAKETIME, FAKETIME: offset, FAKETIME_DONT_FAKE_MONOTONIC: '1' };
}

/** A repository location the test can also reach directly, and age a lock in by the store's time. */
interface Place {
  url: string;
  env: NodeJS.ProcessEnv;
  backend: Backend;
  /** Sets the store's last-modified time of lock `name` to `ms` ago. */
  age(name: string, ms: number): Promise<void>;
  close(): Promise<void>;
}

async function fsPlace(repo: string): Promise<Place> {
  return {
    url: repo, env: {}, backend: createFsBackend(repo),
    age: async (name, ms) => { const t = (Date.now() - ms) / 1000; await utimes(join(repo, 'locks', name), t, t); },
    close: async () => {},
  };
}

/** s3rver keeps key K as the file `K._S3rver_object` and reports its mtime as Last-Modified. */
async function s3Place(server: RunningServer, root: string): Promise<Place> {
  const find = async (dir: string, suffix: string): Promise<string | undefined> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) { const found = await find(p, suffix); if (found) return found; } else if (p.endsWith(suffix)) return p;
    }
    return undefined;
  };
  const backend = await createS3Backend(s3Url(server.env, root), { env: s3Env(server.env) });
  return {
    url: s3Url(server.env, root).href, env: s3Env(server.env), backend,
    age: async (name, ms) => {
      const file = await find(server.stateDir, `/${root}/locks/${name}._S3rver_object`);
      assert.ok(file, `s3rver file of locks/${name}`);
      const t = (Date.now() - ms) / 1000;
      await utimes(file, t, t);
    },
    close: () => backend.close(),
  };
}

async function lockNames(b: Backend): Promise<string[]> {
  const out: string[] = [];
  for await (const { key } of b.list('locks/')) out.push(key.slice('locks/'.length));
  return out;
}

/** A `cairn create NAME -` holding its shared lock while it waits for standard input. */
async function holder(place: Place, name: string): Promise<{ child: ChildProcess; lock: string; stop(signal?: NodeJS.Signals): Promise<void> }> {
  const child = startCairn(['-r', place.url, 'create', name, '-'], { stdin: 'pipe', env: place.env });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.stdout!.resume();
  const closed = once(child, 'close');
  for (let i = 0; i < 1200; i++) {
    const names = (await lockNames(place.backend)).filter((n) => n.startsWith('shared-'));
    if (names.length === 1) {
      return {
        child, lock: names[0]!,
        // A holder that outlives SIGTERM by 30 s is killed, and the test fails saying so (not a silent hang).
        stop: async (signal = 'SIGTERM') => {
          child.kill(signal);
          const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
          const [code, how] = await closed as [number | null, NodeJS.Signals | null];
          clearTimeout(timer);
          if (signal !== 'SIGKILL' && how === 'SIGKILL') throw new Error(`holder ${name} did not end on ${signal} within 30 s (${code}): ${stderr}`);
        },
      };
    }
    if (child.exitCode !== null) throw new Error(`cairn exited ${child.exitCode} before taking its lock: ${stderr}`);
    await sleep(50);
  }
  throw new Error('cairn took no lock within 60 s');
}

async function scenarios(place: Place): Promise<void> {
  const env = place.env;
  assert.equal((await cairn(['-r', place.url, 'rcreate', '-e', 'repokey'], { env })).code, 0);

  // 1. A fresh lock of a live writer: a compaction whose clock is an hour ahead or behind is refused.
  const live = await holder(place, 'live');
  try {
    for (const offset of ['+1h', '-1h']) {
      const r = await cairn(['-r', place.url, 'compact'], { env: { ...env, ...skewed(offset) } });
      assert.equal(r.code, 2, `compact with the clock ${offset}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`\\b${live.child.pid}\\b`), 'the message names the holder');
      assert.deepEqual(await lockNames(place.backend), [live.lock], `the fresh lock survives a clock ${offset}`);
    }
  } finally {
    // SIGKILL and the lock removed by hand, not SIGTERM: how a writer stops is not this test's subject,
    // and a `create -` holder sometimes outlived SIGTERM by 30 s in full CI runs (both Nodes; never
    // alone, not reproduced by hand): an open doubt in the session's closing note.
    await live.stop('SIGKILL');
    await place.backend.delete(`locks/${live.lock}`);
  }

  // 2. A stale lock (the store last wrote it 40 minutes ago) of a writer on another machine, whose own
  // clock said "now": a compaction whose clock is an hour behind or ahead breaks it and runs.
  for (const offset of ['-1h', '+1h']) {
    const dead = await holder(place, `dead${offset.replace(/\W/g, '')}`);
    await dead.stop('SIGKILL');
    const key = `locks/${dead.lock}`;
    const lock = JSON.parse(new TextDecoder().decode(await place.backend.get(key))) as Record<string, unknown>;
    // Another machine: this one cannot tell whether its pid lives, so only staleness can free it.
    await place.backend.put(key, new TextEncoder().encode(JSON.stringify({ ...lock, host: 'feedfacefeedface', time: Date.now(), since: Date.now() })));
    await place.age(dead.lock, 40 * 60_000);
    const r = await cairn(['-r', place.url, 'compact'], { env: { ...env, ...skewed(offset) } });
    assert.equal(r.code, 0, `compact with the clock ${offset} is not blocked by a stale lock: ${r.stderr}`);
    assert.deepEqual(await lockNames(place.backend), [], 'the stale lock was broken, no probe left');
  }
}

test('the skewed clock is real: a child under libfaketime sees the time an hour off', { skip: !LIBFAKETIME && !inCI ? 'libfaketime is not installed (apt-get install faketime)' : false }, () => {
  assert.ok(LIBFAKETIME, 'libfaketime is installed (package faketime)');
  for (const [offset, sign] of [['+1h', 1], ['-1h', -1]] as const) {
    const seen = Number(execFileSync(process.execPath, ['-e', 'console.log(Date.now())'], { env: { ...process.env, ...skewed(offset) }, encoding: 'utf8' }));
    assert.ok(Math.abs(seen - Date.now() - sign * HOUR) < 60_000, `${offset}: ${seen - Date.now()} ms`);
  }
});

test('fs: a clock ±1 h off neither breaks a fresh lock nor is blocked by a stale one', { timeout: 300_000, skip: !LIBFAKETIME && !inCI ? 'libfaketime is not installed' : false }, async () => {
  const ws = await workspace();
  const place = await fsPlace(ws.repo);
  try { await scenarios(place); } finally { await place.close(); await ws.cleanup(); }
});

test('s3: a clock ±1 h off neither breaks a fresh lock nor is blocked by a stale one', { timeout: 300_000, skip: !LIBFAKETIME && !inCI ? 'libfaketime is not installed' : false }, async (t) => {
  const server = await tryStartServer('s3');
  if (server instanceof Error) { t.skip(`no S3 server: ${server.message}`); return; }
  const ws = await workspace();
  const place = await s3Place(server, `skew-${process.pid}`);
  try { await scenarios(place); } finally { await place.close(); await server.stop(); await ws.cleanup(); }
});

test('break-lock on a terminal lists the locks and asks; "no" keeps them (exit 2), "yes" removes them', { timeout: 300_000 }, async () => {
  const ws = await workspace();
  const place = await fsPlace(ws.repo);
  try {
    assert.equal((await cairn(['-r', ws.repo, 'rcreate', '-e', 'repokey'])).code, 0);
    const live = await holder(place, 'held');
    try {
      const refused = await cairnOnTerminal(['-r', ws.repo, 'break-lock'], 'no\n');
      assert.equal(refused.code, 2, refused.stdout);
      assert.match(refused.stdout, new RegExp(`shared lock of cairn pid ${live.child.pid} on this host`), 'the lock is listed before the question');
      assert.match(refused.stdout, /Type "yes" to confirm/);
      assert.deepEqual(await lockNames(place.backend), [live.lock]);
      const removed = await cairnOnTerminal(['-r', ws.repo, 'break-lock'], 'yes\n');
      assert.equal(removed.code, 0, removed.stdout);
      assert.deepEqual(await lockNames(place.backend), []);
    } finally {
      // Its lock is gone, so there is nothing for a clean stop to release: SIGKILL. (SIGTERM here did
      // not end the holder within 30 s in two full CI runs on Node 24, never alone and never on Node 20;
      // not reproduced by hand: an open doubt recorded in the session's closing note.)
      await live.stop('SIGKILL');
    }
    // Without a terminal and without --yes: a one-line usage error, exit 2.
    const noTty = await cairn(['-r', ws.repo, 'break-lock']);
    assert.equal(noTty.code, 2);
    assert.equal(noTty.stderr.trim().split('\n').length, 1, noTty.stderr);
  } finally { await place.close(); await ws.cleanup(); }
});
