/**
 * Archive-level `check`: every archive record authenticates, every item stream decodes, every
 * referenced chunk exists; with `verifyData` every referenced chunk (or a random `subsetPercent`
 * of them) is read, authenticated and decrypted. Problems are collected, never thrown one by one.
 */
import { randomInt } from 'node:crypto';
import { releaseBytes } from '../engine/index.js';
import { isUnreadableRecord, listArchiveRecords, readRecord, recordName } from './archive-record.js';
import { readItems } from './item-stream.js';
import { pathText, type Item } from './item.js';
import { fetchChunks } from './chunk-fetch.js';
import type { ScannedChunks } from './check-scan.js';
import { ArchiveCorruptError } from './errors.js';
import type { ArchiveContext } from './ports.js';

export interface CheckArchivesOptions {
  /** Only these archives (default: all). */
  archives?: readonly string[];
  /** Read and authenticate every referenced chunk. */
  verifyData?: boolean;
  /** With verifyData: a random sample of this percentage of referenced chunks (0 < N ≤ 100). */
  subsetPercent?: number;
  /**
   * With verifyData: chunks the repository's whole-segment scan already opened (check-scan.ts);
   * they are judged from it, not downloaded again. Chunks it does not hold are fetched.
   */
  scanned?: ScannedChunks;
  /**
   * Move each archive record that cannot be read (does not authenticate or decode, or bears a name
   * no archive can have) to `quarantine/` (needs the exclusive lock). Nothing else is changed:
   * archives with missing or damaged chunks stay as they are.
   */
  repair?: boolean;
  onProgress?(done: number, total: number): void;
}

/**
 * One problem found. `id` is the chunk id (hex) when a chunk is at fault. `damaged-file` is a file that an earlier
 * `check --repair` salvaged with zeros in place of lost chunks (`path` names it): a warning, not damage to repair.
 */
export interface ArchiveProblem {
  archive?: string;
  id?: string;
  /** The file concerned (`damaged-file`). */
  path?: string;
  kind: 'record' | 'item-stream' | 'missing-chunk' | 'corrupt-chunk' | 'damaged-file';
  reason: string;
  /** For a `record` problem repaired: where the record was moved (`quarantine/records-…`). */
  quarantined?: string;
}

export interface CheckArchivesReport {
  ok: boolean;
  archives: number;
  items: number;
  referencedChunks: number;
  verifiedChunks: number;
  problems: ArchiveProblem[];
}


const reason = (e: unknown): string => `${(e as { code?: string })?.code ?? 'ERROR'}: ${(e as Error)?.message ?? String(e)}`;

/** Why a salvaged file is reported: how much of it is zeros in place of lost data. */
function damagedReason(item: Item): string {
  const lost = item.healthy!.reduce((n, c, i) => n + (Buffer.from(c.id).equals(item.chunks![i]!.id) ? 0 : c.size), 0);
  return `${lost} of its ${item.size ?? 0} bytes are zeros in place of lost data (a later backup of the same data and "cairn check --repair" restore them)`;
}

/** Checks archives (and data when asked); see the module header. */
export async function checkArchives(ctx: ArchiveContext, options: CheckArchivesOptions = {}): Promise<CheckArchivesReport> {
  const report: CheckArchivesReport = { ok: true, archives: 0, items: 0, referencedChunks: 0, verifiedChunks: 0, problems: [] };
  const referenced = new Map<string, { id: Uint8Array; size: number; archive: string }>();
  const stored = await listArchiveRecords(ctx);
  const archives = options.archives?.map((name) => ({ name, record: stored.find((a) => a.name === name)?.record })) ?? stored;
  for (const { name, record: recordKey } of archives) {
    let record;
    try {
      record = await readRecord(ctx, name);
    } catch (e) {
      const problem: ArchiveProblem = { archive: name, kind: 'record', reason: reason(e) };
      report.problems.push(problem);
      if (options.repair && isUnreadableRecord(e)) {
        if (!ctx.repository.quarantineRecord) throw new Error('this repository cannot quarantine records', { cause: e });
        problem.quarantined = await ctx.repository.quarantineRecord(recordKey ?? recordName(name));
      }
      continue;
    }
    report.archives += 1;
    try {
      for await (const item of readItems(ctx, record.items)) {
        report.items += 1;
        if (item.healthy) report.problems.push({ archive: name, path: pathText(item.path), kind: 'damaged-file', reason: damagedReason(item) });
        for (const c of item.chunks ?? []) {
          const hex = Buffer.from(c.id).toString('hex');
          if (!referenced.has(hex)) referenced.set(hex, { id: c.id, size: c.size, archive: name });
        }
      }
    } catch (e) {
      report.problems.push({ archive: name, kind: 'item-stream', reason: reason(e) });
    }
  }
  report.referencedChunks = referenced.size;
  for (const [hex, ref] of referenced) {
    if (!ctx.repository.has(ref.id)) report.problems.push({ archive: ref.archive, id: hex, kind: 'missing-chunk', reason: 'not in the repository' });
  }
  if (options.verifyData) {
    let sample = [...referenced.entries()].filter(([, r]) => ctx.repository.has(r.id));
    const pct = options.subsetPercent ?? 100;
    if (pct < 100) {
      // Partial Fisher–Yates: a uniform random sample of ceil(pct%) of the chunks.
      const n = Math.ceil((sample.length * pct) / 100);
      for (let i = 0; i < n; i++) {
        const j = i + randomInt(sample.length - i);
        [sample[i], sample[j]] = [sample[j], sample[i]];
      }
      sample = sample.slice(0, n);
    }
    // One chunk-fetch path (chunk-fetch.ts): batches read with one getMany each, several at once;
    // a bad chunk is reported against its own id and the others are still verified.
    let done = 0;
    const fetch: typeof sample = [];
    for (const entry of sample) {
      const [hex, ref] = entry;
      const opened = options.scanned?.get(hex);
      if (opened === undefined) { fetch.push(entry); continue; }
      const error = typeof opened !== 'number' ? opened
        : opened !== ref.size ? new ArchiveCorruptError(`chunk ${hex} has ${opened} bytes, its item says ${ref.size}`) : undefined;
      if (error === undefined) report.verifiedChunks += 1;
      else report.problems.push({ archive: ref.archive, id: hex, kind: 'corrupt-chunk', reason: reason(error) });
      options.onProgress?.(++done, sample.length);
    }
    for await (const { ref, data, error } of fetchChunks(ctx, fetch.map(([hex, r]) => ({ ...r, hex })), { offload: true })) {
      // Opening verified it; its bytes are not needed (and were fetched for this loop alone).
      if (data) releaseBytes(data);
      if (error === undefined) report.verifiedChunks += 1;
      else report.problems.push({ archive: ref.archive, id: ref.hex, kind: 'corrupt-chunk', reason: reason(error) });
      options.onProgress?.(++done, sample.length);
    }
  }
  report.ok = report.problems.length === 0;
  return report;
}
