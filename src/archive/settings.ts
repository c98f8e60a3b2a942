/**
 * Repository-wide archive settings that every client must share, stored sealed in the record
 * `records/settings` at `rcreate`: today the file chunker sizes (different sizes would defeat
 * deduplication between clients), and for a repository made related to another one (`rcreate
 * --other-repo`) that repository's id, for people to read (relatedness itself is checked by comparing keys).
 *
 * Record bytes: id [32] | sealed envelope (bound to id) of the msgpack map
 *   { "v": 1, "chunker": { "min", "avg", "max" } | { "fixed" }, "related": str (64 hex digits; optional) }
 */
import { resolveChunkerOptions, type ChunkerOptions } from '../engine/index.js';
import { ArchiveCorruptError } from './errors.js';
import { recordCodec } from './item.js';
import type { ArchiveContext } from './ports.js';
import { decodeBounded } from '../repository/index.js';
import { validRetention, type RetentionPolicy } from '../repository/retention.js';

export const SETTINGS_RECORD = 'settings';

export interface ArchiveSettings {
  chunker?: ChunkerOptions;
  /** The id of the repository whose id key this one shares since `rcreate --other-repo` (absent otherwise). */
  related?: string;
  /** The retention the repository was created with (a copy of the config's, authenticated). */
  retention?: RetentionPolicy;
}

/** Writes the settings once (`ifAbsent`). */
export async function writeSettings(ctx: ArchiveContext, settings: ArchiveSettings): Promise<void> {
  // Absent when not related / not retained: older readers ignore the keys, and other repositories keep their exact old bytes.
  const retention = settings.retention && { mode: settings.retention.mode, seconds: settings.retention.seconds };
  const plaintext = recordCodec.encoder.encode({
    v: 1, chunker: settings.chunker, ...(settings.related === undefined ? {} : { related: settings.related }), ...(retention ? { retention } : {}),
  });
  const id = ctx.codec.chunkId(plaintext);
  const sealed = await ctx.codec.seal(id, plaintext);
  const bytes = new Uint8Array(32 + sealed.length);
  bytes.set(id, 0);
  bytes.set(sealed, 32);
  await ctx.repository.putRecord(SETTINGS_RECORD, bytes, { ifAbsent: true });
}

/**
 * Reads the settings. The record is mandatory (`rcreate` writes it): without it a bucket writer could make clients
 * fall back to defaults, so a missing record is `ArchiveCorruptError`, like one that does not authenticate.
 */
export async function readSettings(ctx: ArchiveContext): Promise<ArchiveSettings> {
  const bytes = await ctx.repository.getRecord(SETTINGS_RECORD);
  if (!bytes) throw new ArchiveCorruptError('the repository settings record (records/settings) is missing');
  try {
    const plaintext = await ctx.codec.open(bytes.subarray(0, 32), bytes.subarray(32));
    const w = decodeBounded(plaintext, recordCodec.decoder()) as { v?: number; chunker?: unknown; related?: unknown; retention?: unknown } | null;
    if (typeof w !== 'object' || w === null) throw new Error('settings are not a map');
    if (w.v !== 1) throw new Error(`settings version ${w.v}`);
    if (w.related !== undefined && (typeof w.related !== 'string' || !/^[0-9a-f]{64}$/.test(w.related))) throw new Error('related is not a repository id');
    if (w.retention !== undefined && !validRetention(w.retention)) throw new Error('settings hold an invalid retention policy');
    const out: ArchiveSettings = w.chunker === undefined || w.chunker === null ? {} : { chunker: validChunker(w.chunker) };
    if (w.related !== undefined) out.related = w.related;
    if (w.retention !== undefined) out.retention = { mode: w.retention.mode, seconds: w.retention.seconds };
    return out;
  } catch (cause) {
    throw new ArchiveCorruptError('the repository settings record does not authenticate', { cause });
  }
}

/** The stored chunker sizes if a writer could have chosen them (`resolveChunkerOptions` throws otherwise), copied field by field. */
function validChunker(value: unknown): ChunkerOptions {
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error('chunker is not a map');
  const resolved = resolveChunkerOptions(value as ChunkerOptions);
  return 'fixed' in resolved ? { fixed: resolved.fixed } : { min: resolved.min, avg: resolved.avg, max: resolved.max };
}
