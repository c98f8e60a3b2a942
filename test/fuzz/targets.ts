// The fuzz targets: one per parser of repository bytes. Each takes an input, runs the parser as the
// library does, and resolves when the result is valid or the error is one of the typed errors the
// parser may throw; anything else (a TypeError, a RangeError, a wrong byte, an invalid value) throws
// a ContractError. (The `excluded` hook names inputs of a finding not fixed yet; none is excluded now.)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { createMemoryBackend } from '../../backends/memory/index.js';
import {
  ArchiveCorruptError, auditArchiveSet, itemKind, readArchive, readSettings, type ArchiveContext, type ArchiveRecord, type ArchiveSetFinding, type ChunkRepository, type Item,
} from '../../src/archive/index.js';
import { recordCodec } from '../../src/archive/item.js';
import { readItems } from '../../src/archive/item-stream.js';
import { parseJournalName } from '../../src/archive/journal.js';
import { decompressFrame, loadRawCodecs, type RawCodecs } from '../../src/engine/compress/index.js';
import { ChunkIntegrityError, KeyCorruptError, resolveChunkerOptions, UnsupportedFormatError, WrongPassphraseError } from '../../src/engine/index.js';
import { checkKdfParams } from '../../src/engine/keys/kdf.js';
import { inspectKeyBlob, openKeyBlob } from '../../src/engine/keys/key-blob.js';
import type { KeyMaterial } from '../../src/engine/keys/modes.js';
import { readConfig } from '../../src/repository/config.js';
import { crc32, loadDigests, xxh64 } from '../../src/repository/digests.js';
import { ConfigInvalidError, NotARepositoryError, IntegrityError, UnsupportedVersionError } from '../../src/repository/errors.js';
import { decodeIndex, KIND_DELTA, KIND_FULL } from '../../src/repository/index-format.js';
import { decodeBounded } from '../../src/repository/msgpack-bounds.js';
import { DELETE_SIZE, ID_SIZE, openPut, PUT_HEADER_SIZE, TAG_COMMIT, TAG_DELETE, TAG_PUT2 } from '../../src/repository/segment-format.js';
import { scanSegment } from '../../src/repository/segment-scan.js';
import { mutatedBytes, mutatedMsgpack } from './mutate.js';
import { PASSPHRASE, type Corpus, type ModeSeeds } from './seeds.js';

/** A broken contract: the parser crashed, returned an invalid value or a wrong byte. */
export class ContractError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ContractError';
  }
}

/** A typed error a parser may throw: its class and the codes allowed. */
export interface Allowed {
  type: abstract new (...args: never[]) => Error;
  codes: readonly string[];
}

export interface FuzzTarget<I = Uint8Array> {
  name: string;
  /** The typed errors (class and code) this parser may throw for bad input. */
  allowed: readonly Allowed[];
  input: fc.Arbitrary<I>;
  /** The bytes of an input, for reports and regression files. */
  bytes(input: I): Uint8Array;
  /** Names the finding (fixed on another branch) an input hits, so the run skips it; undefined for every other input. */
  excluded?(input: I): string | undefined;
  /** Runs the parser and checks the result; throws ContractError on any violation. */
  run(input: I): Promise<void>;
}

const REPOSITORY_INTEGRITY: Allowed = { type: IntegrityError, codes: ['EINTEGRITY'] };
const CHUNK_ERRORS: Allowed[] = [{ type: ChunkIntegrityError, codes: ['ECHUNK_INTEGRITY'] }, { type: UnsupportedFormatError, codes: ['EUNSUPPORTED_FORMAT'] }];
const ARCHIVE_CORRUPT: Allowed = { type: ArchiveCorruptError, codes: ['EARCHIVE_CORRUPT'] };

/** Runs `parse`, then `check` on its result; an error must be one of `allowed`, anything else is a ContractError. */
async function contract<T>(what: string, allowed: readonly Allowed[], parse: () => T | Promise<T>, check: (value: T) => void): Promise<void> {
  let value: T;
  try {
    value = await parse();
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    if (allowed.some((a) => error instanceof a.type && a.codes.includes(code as string))) return;
    throw new ContractError(`${what}: threw ${(error as Error)?.name} (${String(code)}): ${(error as Error)?.message}`, { cause: error });
  }
  try {
    check(value);
  } catch (error) {
    throw new ContractError(`${what}: returned an invalid value: ${(error as Error).message}`, { cause: error });
  }
}

const isUint = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
const equalBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

// ---- the bounds of review finding F6: a key blob beyond them is corrupt ------------------------------------

/** F6's bounds (iterations <= 16, memory <= 2 GiB), as src/engine/keys/kdf.ts enforces them on read. */
export const F6_MAX_ITERATIONS = 16;
export const F6_MAX_MEMORY_KIB = 2 * 1024 * 1024;

// ---- what an attacker who can write the bucket does after mutating: recompute the unkeyed checksums -----

/** Recomputes every entry's crc32 and xxh64 along the (possibly mutated) size fields, as a bucket writer can. */
export function resealSegment(input: Uint8Array): Uint8Array {
  const bytes = input.slice();
  const view = new DataView(bytes.buffer);
  for (let at = 0; at + 9 <= bytes.length;) {
    const size = view.getUint32(at + 4, true);
    const tag = bytes[at + 8];
    if (size < 9 || at + size > bytes.length) break;
    if (tag === TAG_PUT2 && size >= PUT_HEADER_SIZE) {
      view.setBigUint64(at + 41, xxh64(bytes.subarray(at + 4, at + 41), bytes.subarray(at + PUT_HEADER_SIZE, at + size)), true);
      view.setUint32(at, crc32(bytes.subarray(at + 4, at + PUT_HEADER_SIZE)), true);
    } else if (tag === TAG_DELETE || tag === TAG_COMMIT) {
      view.setUint32(at, crc32(bytes.subarray(at + 4, at + size)), true);
    } else break;
    at += size;
  }
  return bytes;
}

function resealIndex(input: Uint8Array): Uint8Array {
  if (input.length < 8) return input;
  const bytes = input.slice();
  new DataView(bytes.buffer).setBigUint64(bytes.length - 8, xxh64(bytes.subarray(0, bytes.length - 8)), true);
  return bytes;
}

function resealKeyBlob(input: Uint8Array): Uint8Array {
  if (input.length < 32) return input;
  const bytes = input.slice();
  bytes.set(createHash('sha256').update(bytes.subarray(0, bytes.length - 32)).digest(), bytes.length - 32);
  return bytes;
}

/** Half the inputs as mutated, half with the unkeyed checksums recomputed afterwards. */
function withReseal(arb: fc.Arbitrary<Uint8Array>, reseal: (b: Uint8Array) => Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.tuple(arb, fc.boolean()).map(([b, fix]) => (fix ? reseal(b) : b));
}

const identity = (b: Uint8Array) => b;

// ---- the targets ------------------------------------------------------------------------------------

/**
 * A short pattern of header-like bytes (tags, small sizes) repeated to up to 256 KiB: candidate headers at
 * every period, which is what made the scan quadratic before COMMIT sizes were bounded.
 */
function periodic(): fc.Arbitrary<Uint8Array> {
  const byte = fc.constantFrom(0, 0, 1, 2, 3, 9, 41, 49, 0x40, 0xff);
  return fc.tuple(fc.array(byte, { minLength: 1, maxLength: 12 }), fc.integer({ min: 1024, max: 256 * 1024 })).map(([piece, size]) => {
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i++) out[i] = piece[i % piece.length];
    return out;
  });
}

/** Segment scan (check, repair) and the PUT2 reader of every entry it reports as good. */
function segmentTarget(seeds: Uint8Array[]): FuzzTarget {
  return {
    name: 'segment',
    allowed: [REPOSITORY_INTEGRITY],
    input: fc.oneof({ weight: 4, arbitrary: withReseal(mutatedBytes(seeds), resealSegment) }, { weight: 1, arbitrary: periodic() }),
    bytes: identity,
    async run(bytes) {
      await contract('scanSegment', [], () => scanSegment(bytes), ({ entries, damage }) => {
        const regions = [...entries.map((e) => ({ offset: e.offset, length: e.size })), ...damage].sort((a, b) => a.offset - b.offset);
        let end = 0;
        for (const r of regions) {
          assert.ok(isUint(r.offset) && r.length > 0 && r.offset >= end && r.offset + r.length <= bytes.length, `region ${r.offset}+${r.length} out of order or bounds`);
          end = r.offset + r.length;
        }
        for (const e of entries) {
          const entry = bytes.subarray(e.offset, e.offset + e.size);
          if (e.tag === TAG_PUT2) assert.equal(openPut(entry, e.id!, { key: 'fuzz', offset: e.offset }).length, e.size - PUT_HEADER_SIZE);
          else if (e.tag === TAG_DELETE) assert.ok(e.size === DELETE_SIZE && e.id?.length === ID_SIZE);
          else if (e.tag === TAG_COMMIT) assert.ok(/^[0-9a-f]{16}$/.test(e.commit!.session) && [e.commit!.first, e.commit!.last, e.commit!.entries, e.commit!.time].every(isUint));
          else assert.fail(`unknown tag ${e.tag}`);
        }
      });
      // The read path: one entry at offset 0 opened against the id it claims.
      if (bytes.length >= PUT_HEADER_SIZE) {
        const id = bytes.slice(9, 41);
        await contract('openPut', [REPOSITORY_INTEGRITY], () => openPut(bytes, id, { key: 'fuzz', offset: 0 }), (v) => assert.equal(v.length, bytes.length - PUT_HEADER_SIZE));
      }
    },
  };
}

function indexTarget(seeds: Uint8Array[]): FuzzTarget {
  return {
    name: 'index',
    allowed: [REPOSITORY_INTEGRITY],
    input: withReseal(mutatedBytes(seeds), resealIndex),
    bytes: identity,
    async run(bytes) {
      await contract('decodeIndex', [REPOSITORY_INTEGRITY], () => decodeIndex(bytes, 'index/fuzz'), (o) => {
        const h = o.header;
        assert.ok(o.kind === KIND_DELTA || o.kind === KIND_FULL);
        assert.ok(isUint(h.puts) && isUint(h.deletes) && isUint(h.time));
        assert.ok(h.segments.every((s) => typeof s === 'string') && h.txns.every((t) => typeof t[0] === 'string' && isUint(t[1]) && isUint(t[2])));
        assert.equal(o.putIds.length, h.puts * ID_SIZE);
        assert.equal(o.putLocs.length, h.puts * 3);
        assert.equal(o.deleteIds.length, h.deletes * ID_SIZE);
        for (let i = 0; i < h.puts; i++) assert.ok(o.putLocs[i * 3] < h.segments.length);
      });
    },
  };
}

function keyBlobTarget(seeds: Uint8Array[], keys: KeyMaterial[]): FuzzTarget {
  const keyErrors: Allowed[] = [{ type: KeyCorruptError, codes: ['EKEY_CORRUPT'] }];
  return {
    name: 'key-blob',
    allowed: [...keyErrors, { type: WrongPassphraseError, codes: ['EWRONG_PASSPHRASE'] }],
    input: withReseal(mutatedBytes(seeds), resealKeyBlob),
    bytes: identity,
    async run(blob) {
      let cheap = false;
      await contract('inspectKeyBlob', keyErrors, () => inspectKeyBlob(blob), (info) => {
        assert.equal(info.kdf === undefined, info.mode === 'none');
        if (info.kdf) {
          checkKdfParams(info.kdf);
          assert.ok(info.kdf.iterations <= F6_MAX_ITERATIONS && info.kdf.memoryKiB <= F6_MAX_MEMORY_KIB, 'Argon2id parameters beyond the bounds (F6)');
          // Opening runs Argon2id: only affordable parameters are tried within a fuzz run's time (the seeds use 64 KiB, t = 1).
          cheap = info.kdf.memoryKiB <= 1024 && info.kdf.iterations <= 2 && info.kdf.parallelism <= 2;
        } else cheap = true;
      });
      if (!cheap) return;
      await contract('openKeyBlob', this.allowed, () => openKeyBlob(blob, PASSPHRASE), (key) => {
        assert.ok([key.encryptionKey, key.macKey, key.chunkerSeed].every((k) => k.length === 32));
        // A sealed payload opens to exactly what was sealed; only mode none (no secret) has its payload in clear.
        if (key.mode !== 'none') assert.ok(keys.some((k) => k.mode !== 'none' && equalBytes(k.encryptionKey, key.encryptionKey) && equalBytes(k.macKey, key.macKey) && equalBytes(k.chunkerSeed, key.chunkerSeed)), 'a sealed key opened to other key material');
      });
    },
  };
}

/** Fields of a JSON config replaced by values of other types and edge numbers, on top of byte mutations. */
function configTarget(seeds: Uint8Array[]): FuzzTarget {
  const json = fc.jsonValue({ maxDepth: 2 });
  const edge = fc.oneof(json, fc.constantFrom(0, -5, 1, 4095, 4096, 0xffff_0000, 0xffff_0001, 2 ** 53, 1.5, 1e308, '32', true, null));
  const fields = fc.tuple(fc.nat({ max: seeds.length - 1 }), fc.constantFrom('format', 'version', 'id', 'segmentSize', 'appendOnly', '__proto__', 'extra'), edge)
    .map(([i, field, value]) => {
      const parsed = JSON.parse(Buffer.from(seeds[i]).toString()) as Record<string, unknown>;
      return new TextEncoder().encode(JSON.stringify({ ...parsed, [field]: value }));
    });
  return {
    name: 'config',
    allowed: [{ type: NotARepositoryError, codes: ['ENOT_A_REPOSITORY'] }, { type: UnsupportedVersionError, codes: ['EUNSUPPORTED_VERSION'] }, { type: ConfigInvalidError, codes: ['ECONFIG_INVALID'] }],
    input: fc.oneof(fields, mutatedBytes(seeds)),
    bytes: identity,
    async run(bytes) {
      const backend = createMemoryBackend('memory:fuzz');
      await backend.create();
      await backend.put('config', bytes);
      await contract('readConfig', this.allowed, () => readConfig(backend), (c) => {
        assert.ok(/^[0-9a-f]{64}$/.test(c.id) && c.version === 1 && typeof c.appendOnly === 'boolean');
        assert.ok(isUint(c.segmentSize) && c.segmentSize >= 4096 && c.segmentSize <= 0xffff_0000, `segmentSize ${c.segmentSize}`);
      });
    },
  };
}

/** An archive context whose repository serves the given records and chunks, and the mode's real codec. */
function contextOf(seeds: ModeSeeds, records: Map<string, Uint8Array>, chunks = new Map<string, Uint8Array>()): ArchiveContext {
  const unused = () => { throw new Error('not used by the parser under test'); };
  const repository: ChunkRepository = {
    config: { id: '0'.repeat(64) },
    has: (id) => chunks.has(Buffer.from(id).toString('hex')),
    async get(id) {
      const stored = chunks.get(Buffer.from(id).toString('hex'));
      if (!stored) throw new Error('chunk not in the fuzz context');
      return stored;
    },
    async getMany(ids) {
      return Promise.all(ids.map(async (id) => repository.get(id)));
    },
    put: unused, delete: unused, commit: unused, ids: unused, putRecord: unused, deleteRecord: unused,
    getRecord: async (name) => records.get(name),
    async *listRecords(prefix) {
      for (const name of records.keys()) if (name.startsWith(prefix)) yield name;
    },
  };
  return { repository, codec: seeds.repo.codec };
}

/** id | sealed plaintext, bound to the id: a record as a key holder (or anyone, in mode none) writes it. */
async function sealRecord(seeds: ModeSeeds, plaintext: Uint8Array): Promise<Uint8Array> {
  const id = seeds.repo.codec.chunkId(plaintext);
  return new Uint8Array(Buffer.concat([id, await seeds.repo.codec.seal(id, plaintext)]));
}

/** Every time of a record or item must be a time a Date can show (rlist, list, extract and diff turn them into dates). */
const MAX_TIME_NS = 8_640_000_000_000_000_000_000n;

function checkRecord(r: ArchiveRecord): void {
  assert.ok([r.start, r.end].every((t) => typeof t === 'bigint' && t <= MAX_TIME_NS && t >= -MAX_TIME_NS), 'times are timestamps a date can show');
  assert.ok(typeof r.host === 'string' && typeof r.user === 'string' && typeof r.comment === 'string' && typeof r.checkpoint === 'boolean');
  assert.ok(Array.isArray(r.command) && r.command.every((c) => typeof c === 'string'), 'command is a list of strings');
  assert.ok([r.paths, r.tags].every((l) => Array.isArray(l) && l.every((c) => typeof c === 'string')), 'paths and tags are lists of strings');
  assert.ok(Array.isArray(r.items) && r.items.every((id) => id instanceof Uint8Array && id.length === 32), 'items are 32-byte ids');
  assert.ok(Object.values(r.stats).every(isUint), 'stats are counts');
}

/** The record decoder after authentication: plaintexts mutated and sealed again under the mode's key. */
function recordTarget(seeds: ModeSeeds): FuzzTarget {
  return {
    name: `record/${seeds.mode}`,
    allowed: [ARCHIVE_CORRUPT],
    input: mutatedMsgpack([seeds.recordPlaintext]),
    bytes: identity,
    async run(plaintext) {
      const ctx = contextOf(seeds, new Map([[`archive-${seeds.archive}`, await sealRecord(seeds, plaintext)]]));
      await contract('readArchive', this.allowed, () => readArchive(ctx, seeds.archive), checkRecord);
    },
  };
}

/** Stored record bytes mutated without the key: the record must read back exactly as written, or not at all. */
function recordRawTarget(seeds: ModeSeeds, original: ArchiveRecord): FuzzTarget {
  const stored = seeds.objects.get(`records/archive-${seeds.archive}`)!;
  return {
    name: `record-raw/${seeds.mode}`,
    allowed: [ARCHIVE_CORRUPT],
    input: mutatedBytes([stored]),
    bytes: identity,
    async run(bytes) {
      const ctx = contextOf(seeds, new Map([[`archive-${seeds.archive}`, bytes]]));
      await contract('readArchive', this.allowed, () => readArchive(ctx, seeds.archive), (r) => assert.deepEqual(r, original, 'a tampered record read back as another record'));
    },
  };
}

function settingsTarget(seeds: ModeSeeds): FuzzTarget {
  return {
    name: `settings/${seeds.mode}`,
    allowed: [ARCHIVE_CORRUPT],
    input: mutatedMsgpack([seeds.settingsPlaintext]),
    bytes: identity,
    async run(plaintext) {
      const ctx = contextOf(seeds, new Map([['settings', await sealRecord(seeds, plaintext)]]));
      await contract('readSettings', this.allowed, () => readSettings(ctx), (s) => {
        assert.deepEqual(Object.keys(s).filter((k) => k !== 'chunker'), []);
        if (s.chunker !== undefined) resolveChunkerOptions(s.chunker);
      });
    },
  };
}

function checkItem(item: Item): void {
  assert.ok(item.path instanceof Uint8Array, 'path is bytes');
  assert.ok([item.mode, item.uid, item.gid].every(isUint), 'mode, uid and gid are unsigned integers');
  itemKind(item.mode);
  for (const t of [item.mtime, item.atime, item.ctime]) if (t !== undefined) assert.ok(typeof t === 'bigint' && t <= MAX_TIME_NS && t >= -MAX_TIME_NS, `time ${t} out of range`);
  if (item.size !== undefined) assert.ok(isUint(item.size), 'size is an unsigned integer');
  if (item.rdev !== undefined) assert.ok(isUint(item.rdev), 'rdev is an unsigned integer');
  if (item.user !== undefined) assert.equal(typeof item.user, 'string');
  if (item.group !== undefined) assert.equal(typeof item.group, 'string');
  if (item.target !== undefined) assert.ok(item.target instanceof Uint8Array);
  if (item.hlid !== undefined) assert.ok(item.hlid instanceof Uint8Array);
  if (item.chunks !== undefined) assert.ok(item.chunks.every((c) => c.id instanceof Uint8Array && c.id.length === 32 && isUint(c.size)), 'chunk refs are [id, size]');
  if (item.xattrs !== undefined) assert.ok([...item.xattrs].every(([k, v]) => typeof k === 'string' && v instanceof Uint8Array), 'xattrs map names to bytes');
}

/** The item stream: a mutated stream cut into 1-3 chunks at arbitrary points, each sealed, then read as `list`/`extract` do. */
function itemsTarget(seeds: ModeSeeds): FuzzTarget<{ stream: Uint8Array; cuts: number[] }> {
  return {
    name: `items/${seeds.mode}`,
    allowed: [ARCHIVE_CORRUPT],
    input: fc.record({ stream: mutatedMsgpack([seeds.itemStream]), cuts: fc.array(fc.nat(), { maxLength: 2 }) }),
    bytes: (i) => i.stream,
    async run({ stream, cuts }) {
      const points = [...new Set(cuts.map((c) => (stream.length ? c % stream.length : 0)))].sort((a, b) => a - b);
      const pieces = [0, ...points, stream.length].slice(1).map((end, i, ends) => stream.subarray(i === 0 ? 0 : ends[i - 1], end)).filter((p) => p.length > 0);
      const chunks = new Map<string, Uint8Array>();
      const ids: Uint8Array[] = [];
      for (const piece of pieces) {
        const id = seeds.repo.codec.chunkId(piece);
        chunks.set(Buffer.from(id).toString('hex'), await seeds.repo.codec.seal(id, piece));
        ids.push(id);
      }
      const ctx = contextOf(seeds, new Map(), chunks);
      await contract('readItems', this.allowed, async () => {
        const items: Item[] = [];
        for await (const item of readItems(ctx, ids)) items.push(item);
        return items;
      }, (items) => items.forEach(checkItem));
    },
  };
}

/** Whether a journal plaintext is an entry as docs/format/archive.md lays it out, for the record name it is stored under. */
function journalWellFormed(plaintext: Uint8Array, name: string): boolean {
  const parsed = parseJournalName(name);
  if (!parsed) return false;
  let w: unknown;
  try {
    w = decodeBounded(plaintext, recordCodec.decoder());
  } catch {
    return false;
  }
  if (w === null || typeof w !== 'object' || Array.isArray(w) || w instanceof Uint8Array) return false;
  const e = w as Record<string, unknown>;
  const pairs = (v: unknown) => Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && p[1] instanceof Uint8Array && p[1].length === 32);
  return e.v === 1 && e.writer === parsed.writer && e.seq === parsed.seq && isUint(e.time) && pairs(e.added) && pairs(e.removed);
}

const FINDING_KINDS = new Set(['vanished', 'replaced', 'journal', 'undeleted', 'unjournaled']);
/** A finding without its reason (text): what two audits are compared by. */
const findingKey = (f: ArchiveSetFinding) => JSON.stringify([f.kind, f.archive ?? null, f.id ?? null, f.record ?? null]);
const findingKeys = (findings: ArchiveSetFinding[]) => findings.map(findingKey).sort();

type JournalInput = { sealed: true; plaintext: Uint8Array; name: number } | { sealed: false; stored: Uint8Array; name: number };

/**
 * The archive journal as `rlist` and `check` audit it: the seed archive record plus its journal entry, mutated and
 * sealed again (a key holder; anyone in mode none) or mutated as stored bytes (a bucket writer), stored under its
 * real name, under another writer's or sequence's, or under a name that is not a journal's. The audit must resolve
 * (no error is allowed: a bad entry is a `journal` finding); an entry that is not laid out as the format says must be
 * a `journal` finding, and stored bytes mutated without the key audit exactly as the entry written or as no entry.
 */
async function journalTarget(seeds: ModeSeeds): Promise<FuzzTarget<JournalInput>> {
  const archiveRecord = `archive-${seeds.archive}`;
  const records = (name: string, journal: Uint8Array) => new Map([[archiveRecord, seeds.objects.get(`records/${archiveRecord}`)!], [name, journal]]);
  const real = seeds.journalName;
  const parsed = parseJournalName(real)!;
  const otherWriter = parsed.writer.slice(0, -1) + (parsed.writer.endsWith('0') ? '1' : '0');
  const names = [real, `journal-${otherWriter}-${real.slice(-8)}`, real.slice(0, -8) + (parsed.seq + 1).toString(16).padStart(8, '0'), real.slice(0, -9)];
  const stored = seeds.objects.get(`records/${real}`)!;
  // What the audit says of the entry as written (under each name), and of no readable entry at all.
  const audit = async (name: string, journal: Uint8Array) => findingKeys((await auditArchiveSet(contextOf(seeds, records(name, journal)))).findings);
  const asWritten = await Promise.all(names.map((n) => audit(n, stored)));
  const asNone = await Promise.all(names.map((n) => audit(n, new Uint8Array(0))));
  assert.ok(asWritten[0].length === 0, `the ${seeds.mode} seed audits clean`);
  const name = fc.nat({ max: names.length - 1 });
  return {
    name: `journal/${seeds.mode}`,
    allowed: [],
    input: fc.oneof(
      fc.record({ sealed: fc.constant(true as const), plaintext: mutatedMsgpack([seeds.journalPlaintext]), name }),
      fc.record({ sealed: fc.constant(false as const), stored: mutatedBytes([stored]), name }),
    ),
    bytes: (i) => (i.sealed ? i.plaintext : i.stored),
    async run(input) {
      const journalName = names[input.name];
      const bytes = input.sealed ? await sealRecord(seeds, input.plaintext) : input.stored;
      await contract('auditArchiveSet', [], () => auditArchiveSet(contextOf(seeds, records(journalName, bytes))), (result) => {
        assert.equal(result.journals, 1);
        for (const f of result.findings) {
          assert.ok(FINDING_KINDS.has(f.kind) && typeof f.reason === 'string', `finding ${f.kind}`);
          if (f.id !== undefined) assert.match(f.id, /^[0-9a-f]{64}$/);
          if (f.archive !== undefined) assert.equal(typeof f.archive, 'string');
          if (f.kind === 'journal') assert.equal(f.record, journalName);
        }
        const got = findingKeys(result.findings);
        if (!input.sealed) {
          // Without the key (and in mode none, without rewriting the id, which the sealed inputs do), the entry opens
          // to exactly what was written or not at all: it can name no other archive.
          assert.ok(deepEqualKeys(got, asWritten[input.name]) || deepEqualKeys(got, asNone[input.name]), `stored bytes mutated without the key audited as ${got.join(' ')}`);
        } else if (!journalWellFormed(input.plaintext, journalName)) {
          assert.deepEqual(got, asNone[input.name], 'a malformed entry (or one that does not match its name) is a journal finding, and names nothing');
        } else {
          assert.ok(!result.findings.some((f) => f.kind === 'journal'), 'a well-formed entry is no journal finding');
        }
      });
    },
  };
}

const deepEqualKeys = (a: string[], b: string[]) => a.length === b.length && a.every((k, i) => k === b[i]);

/** Stored chunks mutated without the key: open gives exactly the sealed plaintext of that id, or a typed error. */
function envelopeTarget(seeds: ModeSeeds): FuzzTarget<{ chunk: number; stored: Uint8Array }> {
  const stored = seeds.chunks.map((c) => c.stored);
  return {
    name: `envelope/${seeds.mode}`,
    allowed: CHUNK_ERRORS,
    input: fc.record({ chunk: fc.nat({ max: seeds.chunks.length - 1 }), stored: mutatedBytes(stored) }),
    bytes: (i) => i.stored,
    async run({ chunk, stored: s }) {
      const { id, plaintext } = seeds.chunks[chunk];
      await contract('open', CHUNK_ERRORS, () => seeds.repo.codec.open(id, s), (p) => assert.ok(equalBytes(p, plaintext), 'a tampered chunk opened to other bytes'));
    },
  };
}

function frameTarget(seeds: Uint8Array[], codecs: RawCodecs): FuzzTarget {
  return {
    name: 'frame',
    allowed: CHUNK_ERRORS,
    input: mutatedBytes(seeds),
    bytes: identity,
    async run(frame) {
      await contract('decompressFrame', CHUNK_ERRORS, () => decompressFrame(codecs, frame), (out) => {
        assert.ok(out instanceof Uint8Array);
        assert.equal(out.length, new DataView(frame.buffer, frame.byteOffset).getUint32(2, false));
      });
    },
  };
}

/** Every target over a corpus (records are read once here, so record-raw has its original to compare with). */
export async function makeTargets(corpus: Corpus): Promise<FuzzTarget<unknown>[]> {
  await loadDigests();
  const codecs = await loadRawCodecs();
  const objects = (prefix: string) => corpus.modes.flatMap((m) => [...m.objects].filter(([k]) => k.startsWith(prefix)).map(([, v]) => v));
  const keys: KeyMaterial[] = corpus.modes.map((m) => m.repo.key);
  const erase = <I>(t: FuzzTarget<I>) => t as unknown as FuzzTarget<unknown>;
  const targets = [
    segmentTarget(objects('data/')), indexTarget(objects('index/')), keyBlobTarget(objects('keys/'), keys), configTarget(objects('config')),
    frameTarget(corpus.frames, codecs),
  ].map(erase);
  for (const m of corpus.modes) {
    const original = await readArchive(contextOf(m, new Map([[`archive-${m.archive}`, m.objects.get(`records/archive-${m.archive}`)!]])), m.archive);
    targets.push(...[recordTarget(m), recordRawTarget(m, original), settingsTarget(m)].map(erase), erase(itemsTarget(m)), erase(envelopeTarget(m)), erase(await journalTarget(m)));
  }
  return targets;
}

