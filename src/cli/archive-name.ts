/**
 * How the CLI reads an archive NAME argument: placeholders are expanded (`{hostname}-{now:%Y-%m-%d}`),
 * and `latest` names the newest archive (by start time, checkpoints left out) unless an archive is
 * literally called "latest". Every command that takes an archive name reads it through here.
 */
import { listArchives, ArchiveNotFoundError, type OpenedRepository } from '../index.js';
import { expandPlaceholders } from './placeholders.js';

/** The word that names the newest archive, as in restic. */
export const LATEST = 'latest';

/** Resolves one NAME argument to the name of an existing archive (or the expanded text). */
export async function resolveArchiveName(opened: OpenedRepository, raw: string): Promise<string> {
  const name = expandPlaceholders(raw);
  if (name !== LATEST) return name;
  const archives = await listArchives(opened);
  if (archives.some((a) => a.name === LATEST)) return LATEST;
  const newest = archives.filter((a) => !a.checkpoint).at(-1);
  if (!newest) throw new ArchiveNotFoundError(LATEST);
  return newest.name;
}

/** Resolves several NAME arguments, reading the archive list at most once. */
export async function resolveArchiveNames(opened: OpenedRepository, raws: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const raw of raws) out.push(await resolveArchiveName(opened, raw));
  return out;
}
