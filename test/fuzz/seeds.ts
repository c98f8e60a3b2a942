// The seed corpus of the fuzz targets: real repositories made by the library in a temp folder, one per
// encryption mode, each holding a small tree (text, random and compressible files, an empty file, a
// symlink, a hard link, a non-UTF-8 name), and the objects read back from them as stored bytes.
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, link, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { openBackend } from '../../backends/index.js';
import { createArchive, initRepository, readArchive, type OpenedRepository } from '../../src/archive/index.js';
import { compressFrame, loadRawCodecs, parseCompression } from '../../src/engine/compress/index.js';
import { scanSegment } from '../../src/repository/segment-scan.js';
import { TAG_PUT2, PUT_HEADER_SIZE } from '../../src/repository/segment-format.js';

/** The modes fuzzed: the two without a secret cipher key (a bucket writer sees their parsers after only a MAC or hash) and both AEADs. */
export const MODES = ['none', 'authenticated', 'repokey-aes-ocb', 'repokey-chacha20-poly1305'] as const;
export type Mode = (typeof MODES)[number];

/** A cheap Argon2id so that opening a seed key costs milliseconds (the blob format is the same). */
export const SEED_KDF = { memoryKiB: 64, iterations: 1, parallelism: 1 };
export const PASSPHRASE = 'fuzz';
/** One compression per mode, so every algorithm shows up in real stored chunks. */
const COMPRESSION: Record<Mode, string> = { none: 'lz4', authenticated: 'zstd,3', 'repokey-aes-ocb': 'zlib,6', 'repokey-chacha20-poly1305': 'auto,lz4' };

/** A stored chunk with the plaintext it was sealed from. */
export interface StoredChunk {
  id: Uint8Array;
  stored: Uint8Array;
  plaintext: Uint8Array;
}

/** What one mode's repository yields. */
export interface ModeSeeds {
  mode: Mode;
  /** Open (read-only use): its codec seals mutated plaintexts and opens stored bytes. */
  repo: OpenedRepository;
  archive: string;
  /** Store key → bytes of every object (config, keys/repokey, data/…, index/…, records/…). */
  objects: Map<string, Uint8Array>;
  chunks: StoredChunk[];
  /** Plaintext of the archive record, of `records/settings`, and of the item stream (its chunks concatenated). */
  recordPlaintext: Uint8Array;
  settingsPlaintext: Uint8Array;
  itemStream: Uint8Array;
  /** The archive journal entry `create` stored (`records/journal-<writer>-<seq>`): its record name and its plaintext. */
  journalName: string;
  journalPlaintext: Uint8Array;
}

export interface Corpus {
  modes: ModeSeeds[];
  /** Compression frames of every algorithm (from compressFrame on sample data and from real chunks). */
  frames: Uint8Array[];
  close(): Promise<void>;
}

async function buildTree(root: string): Promise<void> {
  await mkdir(join(root, 'sub', 'deeper'), { recursive: true });
  await writeFile(join(root, 'hello.txt'), 'hello, fuzzer\n'.repeat(40));
  await writeFile(join(root, 'empty'), '');
  const random = Buffer.alloc(40_000);
  for (let i = 0, x = 12345; i < random.length; i++) random[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  await writeFile(join(root, 'sub', 'random.bin'), random);
  await writeFile(join(root, 'sub', 'deeper', 'lines.txt'), Array.from({ length: 800 }, (_, i) => `line ${i}`).join('\n'));
  await writeFile(Buffer.from(join(root, 'sub', 'caf\xe9-latin1'), 'latin1'), 'not UTF-8 name');
  await symlink('../hello.txt', join(root, 'sub', 'link'));
  await link(join(root, 'hello.txt'), join(root, 'sub', 'hard'));
}

async function walkFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walkFiles(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

async function seedMode(mode: Mode, dir: string, tree: string): Promise<ModeSeeds> {
  const location = join(dir, mode);
  const repo = await initRepository(await openBackend(location), {
    encryption: mode, passphrase: PASSPHRASE, kdf: SEED_KDF, compression: COMPRESSION[mode], workers: 0, segmentSize: 64 * 1024,
    chunker: { min: 1024, avg: 4096, max: 16384 },
    // Key files and any local state of these throw-away repositories stay in the temp folder.
    env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'config') },
  });
  const archive = `seed-${mode}`;
  await createArchive(repo, { name: archive, paths: [tree], noFilesCache: true, cacheDir: join(dir, 'cache'), comment: 'fuzz seed', xattrs: false });
  const objects = new Map<string, Uint8Array>();
  for (const path of await walkFiles(location)) objects.set(relative(location, path), new Uint8Array(await readFile(path)));
  const chunks: StoredChunk[] = [];
  for (const [key, bytes] of objects) {
    if (!key.startsWith('data/')) continue;
    for (const entry of scanSegment(bytes).entries) {
      if (entry.tag !== TAG_PUT2) continue;
      const stored = bytes.slice(entry.offset + PUT_HEADER_SIZE, entry.offset + entry.size);
      chunks.push({ id: entry.id!, stored, plaintext: await repo.codec.open(entry.id!, stored) });
    }
  }
  const open = async (key: string) => {
    const bytes = objects.get(key)!;
    return repo.codec.open(bytes.subarray(0, 32), bytes.subarray(32));
  };
  const record = await readArchive(repo, archive);
  const journals = [...objects.keys()].filter((k) => k.startsWith('records/journal-'));
  if (journals.length !== 1) throw new Error(`expected the one journal entry of create in the ${mode} seed, found ${journals.length}`);
  const streamParts: Uint8Array[] = [];
  for (const id of record.items) streamParts.push(chunks.find((c) => Buffer.from(c.id).equals(id))!.plaintext);
  return {
    mode, repo, archive, objects, chunks,
    recordPlaintext: await open(`records/archive-${archive}`),
    settingsPlaintext: await open('records/settings'),
    itemStream: new Uint8Array(Buffer.concat(streamParts)),
    journalName: journals[0]!.slice('records/'.length),
    journalPlaintext: await open(journals[0]!),
  };
}

/** Builds the four repositories (a few seconds, mostly the archiver); call `close()` when done. */
export async function buildCorpus(): Promise<Corpus> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-fuzz-'));
  const tree = join(dir, 'tree');
  await buildTree(tree);
  const modes: ModeSeeds[] = [];
  try {
    for (const mode of MODES) modes.push(await seedMode(mode, dir, tree));
  } catch (error) {
    await Promise.all(modes.map((m) => m.repo.close()));
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const codecs = await loadRawCodecs();
  const sample = new TextEncoder().encode('cairn fuzz frame '.repeat(64));
  const frames: Uint8Array[] = [];
  for (const spec of ['none', 'lz4', 'zstd,3', 'zlib,6']) {
    for (const data of [sample, sample.subarray(0, 1), new Uint8Array(0)]) {
      const { header, body } = compressFrame(codecs, parseCompression(spec), data);
      frames.push(new Uint8Array(Buffer.concat([header, body])));
    }
  }
  // Real frames: a stored chunk of the modes without encryption is 0x00 | frame.
  for (const m of modes.slice(0, 2)) for (const c of m.chunks.slice(0, 8)) frames.push(c.stored.slice(1));
  return {
    modes, frames,
    async close() {
      await Promise.all(modes.map((m) => m.repo.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
