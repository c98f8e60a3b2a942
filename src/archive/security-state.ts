/**
 * Local security state per repository, as Borg's security folder: what this machine has seen of a repository id, so
 * that a bucket writer cannot swap its key, downgrade its mode or roll back its archive journals unnoticed. The
 * repository cannot vouch for itself; this file, outside the bucket's reach, can. First contact trusts (TOFU);
 * `rcreate` records the creator's state.
 *
 * File `<base>/<repository id>/state`, base = `$CAIRN_SECURITY_DIR`, else `$XDG_CONFIG_HOME/cairn/security`
 * (default `~/.config`), folders 0700, file 0600, written atomically (temp name, fsync, rename). JSON:
 *
 *   { "v": 1, "mode": KeyMode, "fingerprint": "<32 hex>", "journals": { "<writer id>": <highest sequence seen> } }
 *
 * Beside it, `<base>/<repository id>/journal`: what the archive journal records said, once authenticated, so that a
 * reader checks an archive record against the journal without reading every journal record each time (journal
 * records are never rewritten, but by a repair of a damaged one). Only a cache: a damaged file is read as empty. JSON:
 *
 *   { "v": 1, "records": { "<journal record name>": { "added": [[name, "<64 hex>"]...], "removed": [...] } } }
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { JournalEntry } from './journal.js';
import { MODE_IDS, type KeyMode } from '../engine/index.js';
import { RepositorySecurityError } from './errors.js';
import { writeFileAtomic } from './local-file.js';

/** What this machine remembers about one repository. */
export interface SecurityState {
  mode: KeyMode;
  /** `keyFingerprint()` of the key last used. */
  fingerprint: string;
  /** Archive journal writers seen in the repository, with the highest sequence number seen of each. */
  journals: Record<string, number>;
}

/** The folder that holds one folder per repository id (`securityDir` option, `CAIRN_SECURITY_DIR`, XDG config). */
export function securityBaseDir(env: NodeJS.ProcessEnv = process.env, override?: string): string {
  if (override) return override;
  if (env.CAIRN_SECURITY_DIR) return env.CAIRN_SECURITY_DIR;
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'cairn', 'security');
}

/** The state file of one repository. */
export function securityStatePath(repositoryId: string, env: NodeJS.ProcessEnv = process.env, override?: string): string {
  return join(securityBaseDir(env, override), repositoryId, 'state');
}

const damaged = (path: string): RepositorySecurityError =>
  new RepositorySecurityError('ESECURITY_STATE', `local security state ${path} is damaged: delete it to trust the repository afresh`);

/** The state, or undefined when this machine has never used the repository; a damaged file is `ESECURITY_STATE`. */
export async function loadSecurityState(path: string): Promise<SecurityState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let w: { v?: unknown; mode?: unknown; fingerprint?: unknown; journals?: unknown };
  try {
    w = JSON.parse(text) as typeof w;
  } catch {
    throw damaged(path);
  }
  const journals = w?.journals;
  if (w?.v !== 1 || typeof w.mode !== 'string' || !(w.mode in MODE_IDS) || typeof w.fingerprint !== 'string' || !/^[0-9a-f]{32}$/.test(w.fingerprint)
    || typeof journals !== 'object' || journals === null || Object.values(journals).some((n) => !Number.isSafeInteger(n) || (n as number) < 0)) {
    throw damaged(path);
  }
  return { mode: w.mode as KeyMode, fingerprint: w.fingerprint, journals: { ...(journals as Record<string, number>) } };
}

/**
 * Writes the state. Unless `replaceJournals`, the journals already on disk are merged in (highest sequence wins), so
 * two cairn processes of one user saving at once lose no journal either has seen.
 */
export async function saveSecurityState(path: string, state: SecurityState, options: { replaceJournals?: boolean } = {}): Promise<void> {
  const journals = { ...state.journals };
  if (!options.replaceJournals) {
    const onDisk = await loadSecurityState(path).catch(() => undefined);
    for (const [writer, seq] of Object.entries(onDisk?.journals ?? {})) journals[writer] = Math.max(seq, journals[writer] ?? -1);
  }
  await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify({ v: 1, mode: state.mode, fingerprint: state.fingerprint, journals }) + '\n'));
}

/** The journal cache beside the state file `statePath`. */
export function journalCachePath(statePath: string): string {
  return join(dirname(statePath), 'journal');
}

/** The cached journal entries (record name → entry); empty when there is no cache or it is damaged. */
export async function loadJournalCache(path: string): Promise<Map<string, JournalEntry>> {
  const out = new Map<string, JournalEntry>();
  let w: { v?: unknown; records?: unknown };
  try {
    w = JSON.parse(await readFile(path, 'utf8')) as typeof w;
  } catch {
    return out;
  }
  const pairs = (v: unknown): v is [string, string][] => Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string' && /^[0-9a-f]{64}$/.test(p[1]));
  if (w?.v !== 1 || typeof w.records !== 'object' || w.records === null) return out;
  for (const [name, e] of Object.entries(w.records as Record<string, { added?: unknown; removed?: unknown }>)) {
    if (!pairs(e?.added) || !pairs(e?.removed)) return new Map();
    out.set(name, { added: e.added, removed: e.removed });
  }
  return out;
}

/** Writes the journal cache (atomically, 0600), keeping only the records in `names` (those the store still has). */
export async function saveJournalCache(path: string, cache: Map<string, JournalEntry>, names: readonly string[]): Promise<void> {
  const records: Record<string, JournalEntry> = {};
  for (const name of names) {
    const entry = cache.get(name);
    if (entry) records[name] = entry;
  }
  await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify({ v: 1, records }) + '\n'));
}
