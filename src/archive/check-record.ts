/**
 * The result of the last `check` run on this machine, kept beside the files cache
 * (`<cache>/cairn/<repository id>/last-check.json`) so `cairn serve` can show it. It is a note for
 * people, never an input to a decision: a file that is missing, too large or not the expected shape
 * reads as "none recorded".
 *
 * Layout: one JSON object `{"format":1,"time":ISO-8601,"ok":bool,"errors":n,"damagedFiles":n,
 * "data":"none"|"subset"|"all","repair":bool}`, written to a temporary name and renamed into place.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repositoryCacheDir } from './files-cache.js';

export interface CheckRecord {
  /** When the check ended. */
  time: Date;
  /** No errors and no files marked damaged. */
  ok: boolean;
  errors: number;
  damagedFiles: number;
  /** How much data was read and authenticated: none (structure only), a sample, or all. */
  data: 'none' | 'subset' | 'all';
  /** The run was a `check --repair` that changed the repository. */
  repair: boolean;
}

const FILE = 'last-check.json';
const MAX_BYTES = 4096;

const pathOf = (repositoryId: string, env: NodeJS.ProcessEnv): string => join(repositoryCacheDir(repositoryId, env), FILE);

/** Records `record` as the last check of repository `repositoryId` (atomically; errors are the caller's to ignore). */
export async function writeCheckRecord(repositoryId: string, record: CheckRecord, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const path = pathOf(repositoryId, env);
  await mkdir(join(path, '..'), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify({ format: 1, ...record, time: record.time.toISOString() }) + '\n', { mode: 0o600 });
  await rename(tmp, path);
}

/** The last check recorded for `repositoryId` on this machine, or undefined (none, or unreadable). */
export async function readCheckRecord(repositoryId: string, env: NodeJS.ProcessEnv = process.env): Promise<CheckRecord | undefined> {
  let text: string;
  try {
    text = await readFile(pathOf(repositoryId, env), 'utf8');
  } catch {
    return undefined;
  }
  if (text.length > MAX_BYTES) return undefined;
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    const count = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
    const time = typeof v.time === 'string' ? new Date(v.time) : undefined;
    if (v.format !== 1 || !time || Number.isNaN(time.getTime()) || typeof v.ok !== 'boolean' || !count(v.errors) || !count(v.damagedFiles)
      || (v.data !== 'none' && v.data !== 'subset' && v.data !== 'all') || typeof v.repair !== 'boolean') return undefined;
    return { time, ok: v.ok, errors: v.errors, damagedFiles: v.damagedFiles, data: v.data, repair: v.repair };
  } catch {
    return undefined;
  }
}
