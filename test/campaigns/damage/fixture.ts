/**
 * The damage campaign's repository, built once through the `cairn` executable: three archives over
 * a small tree with hard links, symlinks and xattrs (a1 of day 1, docs of a part of it, whose record
 * was deleted and written again, a2 after a day-2 change), two compactions, a passphrase change and a
 * lock left by a killed writer. Every object
 * that gets rewritten along the way has its earlier bytes kept (`older`), for the "older version"
 * damage. The expected tree of each archive is described when it is made.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, link, mkdir, readdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBackend } from '../../../backends/index.js';
import { initRepository, openRepository, readArchive, listItems } from '../../../src/index.js';
import { ok, PASSPHRASE } from '../../cli/helpers.js';
import { describeWithXattrs, keepContents, setXattr, type TreeDescription } from './tree.js';

/** A fast Argon2id for the campaign's key: every trial runs a dozen commands, each unlocking the key. */
const KDF = { memoryKiB: 256, iterations: 1, parallelism: 1 };

export interface Fixture {
  /** The pristine repository (copied per trial), and this machine's config folder (security state) and cache folder (index cache) for it. */
  repo: string;
  config: string;
  cache: string;
  /** Archive name → the tree its extraction must reproduce. */
  archives: Map<string, TreeDescription>;
  /** Archive name → every chunk id it reads (item stream and file contents), hex. */
  chunks: Map<string, Set<string>>;
  /** The contents of every file of every archive, by SHA-256 (`blobs/<hex>`). */
  blobs: string;
  /** Item-stream chunk ids (hex) of any archive. */
  itemChunks: Set<string>;
  /** Repository key → the earlier contents it had (oldest first). */
  older: Map<string, Uint8Array[]>;
}

const HOLD_LOCK = fileURLToPath(new URL('./hold-lock.ts', import.meta.url));

/** Builds the campaign's repository under `dir` (which must be empty). */
export async function buildFixture(dir: string): Promise<Fixture> {
  const src = join(dir, 'src');
  const repo = join(dir, 'repo');
  const config = join(dir, 'config');
  const cache = join(dir, 'cache');
  const env = { XDG_CONFIG_HOME: config, XDG_CACHE_HOME: cache };
  const run = (args: string[], cwd = src) => ok(['-r', repo, ...args], { cwd, env });
  const blobs = join(dir, 'blobs');
  const archives = new Map<string, TreeDescription>();
  const made = async (name: string, top?: string) => {
    const tree = await describeWithXattrs(src);
    await keepContents(src, tree, blobs);
    archives.set(name, top ? only(tree, top) : tree);
  };
  const older = new Map<string, Uint8Array[]>();
  const keep = async (key: string) => {
    const bytes = await readFile(join(repo, key)).catch(() => undefined);
    if (bytes) older.set(key, [...older.get(key) ?? [], bytes]);
  };
  const keepAll = async (prefix: string) => {
    for (const name of await readdir(join(repo, prefix)).catch(() => [] as string[])) await keep(`${prefix}/${name}`);
  };

  await buildSource(src);
  // The key with a cheap KDF and small chunks and segments (many objects from a few MiB); everything else through the CLI.
  const opened = await initRepository(await openBackend(repo), {
    encryption: 'repokey-aes-ocb', passphrase: PASSPHRASE, kdf: KDF, segmentSize: 256 * 1024,
    chunker: { min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024 }, workers: 0, env: { ...process.env, ...env },
  });
  await opened.close();
  await run(['create', 'a1', '.']);
  await made('a1');
  await run(['create', 'docs', 'docs']);
  await keep('records/archive-docs');
  await run(['delete', 'docs']);
  await writeFile(join(src, 'docs', 'notes.md'), '# notes, second edition\n'.repeat(50));
  await run(['create', 'docs', 'docs']);
  await made('docs', 'docs');
  await run(['compact']);
  await keepAll('index');
  await ok(['-r', repo, 'key', 'change-passphrase'], { env: { ...env, CAIRN_NEW_PASSPHRASE: PASSPHRASE } });
  // Day 2: a file changed in the middle, one added, one removed, an xattr changed.
  const big = await readFile(join(src, 'data', 'random1.bin'));
  randomBytes(5000).copy(big, 300_000);
  await writeFile(join(src, 'data', 'random1.bin'), big);
  await writeFile(join(src, 'data', 'day2.txt'), 'added on day 2\n'.repeat(300));
  await cp(join(src, 'docs', 'readme.txt'), join(src, 'readme-copy.txt'));
  spawnSync('rm', [join(src, 'data', 'random2.bin')]);
  await setXattr(join(src, 'docs', 'readme.txt'), 'user.note', Buffer.from('changed on day 2'));
  // Garbage for a second compaction, which writes a second full index (the first is kept as its older version).
  await run(['create', 'tmp', 'data']);
  await run(['delete', 'tmp']);
  await run(['compact']);
  await keepAll('index');
  await run(['create', 'a2', '.']); // after the last compaction: leaves an index delta beside the full index
  await made('a2');
  // A writer killed while holding its lock, whose lock was refreshed once (both contents kept).
  const held = spawnSync(process.execPath, ['--import', 'tsx', HOLD_LOCK, repo], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (held.status !== 0) throw new Error(`hold-lock failed: ${held.stderr}`);
  const [lockKey, first] = held.stdout.trim().split('\n');
  older.set(lockKey!, [Buffer.from(first!, 'base64')]);

  const { chunks, itemChunks } = await chunkUse(repo, [...archives.keys()], env);
  // Keep only versions that differ from the current object.
  for (const [key, versions] of older) {
    const now = await readFile(join(repo, key)).catch(() => undefined);
    const differing = versions.filter((v) => !now || !Buffer.from(v).equals(now));
    if (differing.length) older.set(key, differing);
    else older.delete(key);
  }
  // index/full-N: the previous full index is the older version of the current one (a rollback of it).
  const fulls = [...older.keys()].filter((k) => k.startsWith('index/full-')).sort();
  const current = (await readdir(join(repo, 'index'))).map((n) => `index/${n}`).filter((k) => k.startsWith('index/full-'));
  for (const k of current) if (!older.has(k) && fulls.length) older.set(k, fulls.map((f) => older.get(f)![0]!));
  return { repo, config, cache, archives, chunks, blobs, itemChunks, older };
}

/** The entries under `top` of a tree description. */
function only(tree: TreeDescription, top: string): TreeDescription {
  return new Map([...tree].filter(([path]) => path === top || path.startsWith(`${top}/`)));
}

async function buildSource(src: string): Promise<void> {
  await mkdir(join(src, 'docs'), { recursive: true });
  await mkdir(join(src, 'data', 'links'), { recursive: true });
  await mkdir(join(src, 'empty-dir'));
  await writeFile(join(src, 'docs', 'readme.txt'), 'cairn damage campaign\n'.repeat(200));
  await writeFile(join(src, 'docs', 'notes.md'), '# notes\n'.repeat(100));
  await writeFile(join(src, 'data', 'random1.bin'), randomBytes(900 * 1024 + 7));
  await writeFile(join(src, 'data', 'random2.bin'), randomBytes(400 * 1024 + 3));
  await writeFile(join(src, 'data', 'links', 'hard-a'), randomBytes(120 * 1024));
  await link(join(src, 'data', 'links', 'hard-a'), join(src, 'data', 'hard-b'));
  await writeFile(join(src, 'data', 'small.txt'), 'small\n');
  await symlink('docs/readme.txt', join(src, 'link-to-readme'));
  await setXattr(join(src, 'docs', 'readme.txt'), 'user.note', Buffer.from('day 1'));
  await setXattr(join(src, 'data', 'random2.bin'), 'user.bin', Buffer.from([0, 1, 2, 0xff]));
  await setXattr(join(src, 'data', 'links', 'hard-a'), 'user.linked', Buffer.from('both names'));
  await utimes(join(src, 'docs', 'notes.md'), new Date('2021-01-02T03:04:05.678Z'), new Date('2021-01-02T03:04:05.678Z'));
}

/** Which chunks each archive reads, found through the library (the campaign's only use of it besides init). */
async function chunkUse(repo: string, names: string[], env: NodeJS.ProcessEnv): Promise<{ chunks: Map<string, Set<string>>; itemChunks: Set<string> }> {
  const opened = await openRepository(await openBackend(repo), { passphrase: PASSPHRASE, readOnly: true, lock: false, workers: 0, indexCache: false, env: { ...process.env, ...env } });
  const chunks = new Map<string, Set<string>>();
  const itemChunks = new Set<string>();
  try {
    for (const name of names) {
      const record = await readArchive(opened, name);
      const ids = new Set(record.items.map((id) => Buffer.from(id).toString('hex')));
      for (const id of ids) itemChunks.add(id);
      for await (const item of listItems(opened, name)) for (const c of item.chunks ?? []) ids.add(Buffer.from(c.id).toString('hex'));
      chunks.set(name, ids);
    }
  } finally {
    await opened.close();
  }
  return { chunks, itemChunks };
}
