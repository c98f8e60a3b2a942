// End to end (issue 11, defect 5): progress tells the truth. Run through the executable with
// --progress forced (standard error is a pipe here): one line per update, CAIRN_PROGRESS_FPS fast.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cairn, ok, startCairn, workspace } from './helpers.js';

const FAST = { CAIRN_PROGRESS_FPS: '20' };
const MiB = 1024 * 1024;
const UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB, GiB: 1024 * MiB };
/** Rounding of formatBytes (two decimals of the unit). */
const slack = (unit: string): number => UNITS[unit] / 100;

/** The file and byte counts of a progress line: `37% | 2/3 files, 12.00 MiB/... | ...`. */
function parse(line: string): { count: number; total?: number; bytes: number; unit: string } | undefined {
  const m = /(\d+)(?:\/(\d+))? files?, ([\d.]+) (B|KiB|MiB|GiB)/.exec(line);
  if (!m) return undefined;
  return { count: Number(m[1]), total: m[2] === undefined ? undefined : Number(m[2]), bytes: Number(m[3]) * UNITS[m[4]], unit: m[4] };
}

/** Bytes in every regular file below `dir` (temporary files of a write in progress included). */
function bytesBelow(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    try { n += statSync(join(e.parentPath, e.name)).size; } catch { /* renamed meanwhile */ }
  }
  return n;
}

/** Runs cairn, calling `onLine` with each standard error line as it arrives. */
async function watch(args: string[], onLine: (line: string) => void, options: { env?: NodeJS.ProcessEnv; feed?: (stdin: NodeJS.WritableStream) => Promise<void> } = {}) {
  const child = startCairn(args, { env: options.env, stdin: options.feed ? 'pipe' : 'ignore' });
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) onLine(line);
  });
  const closed = new Promise<number>((done) => child.on('close', (c) => done(c ?? 128)));
  if (options.feed) await options.feed(child.stdin!);
  const code = await closed;
  return { code, stdout, stderr };
}

test('extract --progress never shows more bytes than were written, and shows them before the file ends', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '-e', 'repokey']);
    const src = join(ws.dir, 'src');
    await mkdir(src);
    const size = 40 * MiB;
    await writeFile(join(src, 'disk.img'), randomBytes(size));
    await ok(['-r', ws.repo, 'create', '-C', 'none', 'big', src]);
    const target = join(ws.dir, 'restore');
    await mkdir(target);
    const seen: { bytes: number; onDisk: number; unit: string }[] = [];
    // Downloads at 8 MiB/s: about 5 s for the one file, so many lines fall inside it.
    const r = await watch(['-r', ws.repo, '--progress', '--limit-download', '8MiB', 'extract', 'big', '--target', target], (line) => {
      const p = parse(line);
      if (p) seen.push({ bytes: p.bytes, onDisk: bytesBelow(target), unit: p.unit });
    }, { env: FAST });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(seen.length >= 2, `too few progress lines: ${r.stderr}`);
    for (const s of seen) assert.ok(s.bytes <= s.onDisk + slack(s.unit), `progress said ${s.bytes} bytes when ${s.onDisk} were written`);
    assert.ok(seen.some((s) => s.bytes > 0 && s.bytes < size - MiB), `no intermediate byte count: ${r.stderr}`);
  } finally { await ws.cleanup(); }
});

test('check --verify-data --progress counts chunks, not files or bytes', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '-e', 'repokey']);
    const src = join(ws.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'data'), randomBytes(24 * MiB));
    await ok(['-r', ws.repo, 'create', '-C', 'none', 'a', src]);
    const lines: string[] = [];
    const r = await watch(['-r', ws.repo, '--progress', '--limit-download', '8MiB', 'check', '--verify-data'], (l) => lines.push(l), { env: FAST });
    assert.equal(r.code, 0, r.stderr);
    const progress = lines.filter((l) => l.includes(' | '));
    assert.ok(progress.length > 0, r.stderr);
    for (const l of progress) {
      assert.match(l, /^\d+% \| \d+\/\d+ chunks \| /);
      assert.doesNotMatch(l, /files|B\/s/);
    }
  } finally { await ws.cleanup(); }
});

test('create --progress shows the bytes of a large file while it is read, with the file name, then totals and an ETA', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '-e', 'repokey']);
    const src = join(ws.dir, 'src');
    await mkdir(src);
    const size = 40 * MiB;
    await writeFile(join(src, 'vm.img'), randomBytes(size));
    for (let i = 0; i < 5; i++) await writeFile(join(src, `note-${i}.txt`), `note ${i}\n`);
    const lines: string[] = [];
    // Uploads at 8 MiB/s: reading is held back by the pipeline's bounded window, so the file takes ~5 s.
    const r = await watch(['-r', ws.repo, '--progress', '--limit-upload', '8MiB', 'create', '-C', 'none', 'vm', src], (l) => lines.push(l), { env: FAST });
    assert.equal(r.code, 0, r.stderr);
    const during = lines.filter((l) => l.includes('vm.img')).map(parse).filter((p) => p !== undefined);
    assert.ok(during.some((p) => p.bytes > 0 && p.bytes < size - MiB), `no intermediate byte count while vm.img was read: ${lines.join('\n')}`);
    // The count of the sources (6 files, 40 MiB + 40 B) finished long before the backup: totals, a percentage, an ETA.
    assert.ok(lines.some((l) => /^\d+% \| \d+\/6 files, [\d.]+ MiB\/40\.00 MiB \| .* \| ETA /.test(l)), lines.join('\n'));
  } finally { await ws.cleanup(); }
});

test('create NAME - --progress shows the bytes of standard input as they arrive', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '-e', 'repokey']);
    let written = 0;
    const seen: { bytes: number; written: number; unit: string }[] = [];
    const r = await watch(['-r', ws.repo, '--progress', 'create', 'db', '-', '--stdin-name', 'dump.sql'], (line) => {
      const p = parse(line);
      if (p) seen.push({ bytes: p.bytes, written, unit: p.unit });
    }, {
      env: FAST,
      // A slow producer (pg_dump on a busy server): half the dump, a pause until cairn said how much
      // it read (at most a minute), then the rest.
      feed: async (stdin) => {
        const send = (): void => {
          const part = randomBytes(256 * 1024);
          written += part.length;
          stdin.write(part);
        };
        for (let i = 0; i < 16; i++) send();
        for (let i = 0; i < 600 && !seen.some((s) => s.bytes >= MiB); i++) await sleep(100);
        for (let i = 0; i < 16; i++) send();
        stdin.end();
      },
    });
    assert.equal(r.code, 0, r.stderr);
    for (const s of seen) assert.ok(s.bytes <= s.written + slack(s.unit), `progress said ${s.bytes} bytes when ${s.written} were sent`);
    assert.ok(seen.some((s) => s.bytes > 0 && s.written < 8 * MiB), `no byte count before the input ended: ${r.stderr}`);
  } finally { await ws.cleanup(); }
});

test('--json prints no progress, even with --progress', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '-e', 'repokey']);
    const src = join(ws.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'data'), randomBytes(8 * MiB));
    const r = await cairn(['-r', ws.repo, '--json', '--progress', '--limit-upload', '4MiB', 'create', 'j', src], { env: FAST });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal((JSON.parse(r.stdout) as { archive: { name: string } }).archive.name, 'j');
    const c = await cairn(['-r', ws.repo, '--json', '--progress', 'check', '--verify-data'], { env: FAST });
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.stderr, '');
  } finally { await ws.cleanup(); }
});
