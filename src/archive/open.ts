/**
 * Opening a repository for archive work: the repository (with its lock) plus its key and the codec built from it, after
 * the checks that keep a bucket writer from swapping the key, downgrading the mode or rolling back archives (see
 * docs/format/crypto.md, "Threat model"). Repokey, authenticated and none modes keep the sealed key in the repository
 * (`keys/repokey`); keyfile modes keep it in `$XDG_CONFIG_HOME/cairn/keys/<repository id>` (or `keyFile`) and never
 * read the repository's. What this machine knows of each repository is in its local security state.
 */
import { randomBytes } from 'node:crypto';
import { createKey, keyFingerprint, openKey, parseMode, storedInRepository, type KdfParams, type KeyMaterial, type KeyMode } from '../engine/index.js';
import { Repository } from '../repository/index.js';
import type { Backend } from '../store/backend.js';
import { localIndexCache } from './index-cache.js';
import { repositoryCacheDir } from './files-cache.js';
import { createEngineCodec, type EngineChunkCodec, type EngineCodecOptions } from './engine-codec.js';
import { RepositorySecurityError } from './errors.js';
import { createArchiveJournal, journaledArchives, journalPresence, journalView, listJournalNames, missingJournals, type ArchiveJournal } from './journal.js';
import { writeKeyFile } from './key-file.js';
import { checkKeyRepository, checkKnownKey, keyFilePath, locateKeyBlob, short } from './repository-key.js';
import { journalCachePath, loadJournalCache, loadSecurityState, saveJournalCache, saveSecurityState, securityStatePath } from './security-state.js';
import { readSettings, writeSettings } from './settings.js';
import type { RetentionPolicy } from '../repository/retention.js';

/** An open repository with its key: pass it to every archive function; `close()` releases the lock and workers. */
export interface OpenedRepository {
  repository: Repository;
  codec: EngineChunkCodec;
  key: KeyMaterial;
  /** This session's archive journal: `createArchive` and `deleteArchives` record what they add and remove. */
  journal: ArchiveJournal;
  /** Refuses an archive record that the journal does not name (`ESECURITY_REPLACED`); see `ArchiveContext`. */
  vouchRecord?(name: string, id: Uint8Array): Promise<void>;
  /** The local security state file and what the open found. */
  security: {
    statePath: string;
    /** True when this machine had never used the repository (trust on first use). */
    firstContact: boolean;
    /** Journal records seen before and now gone (only with `rollback: 'report' | 'accept'`; otherwise the open fails). */
    rolledBack: string[];
  };
  close(): Promise<void>;
}

/** A passphrase, or a function asked only when the key needs one. */
export type PassphraseSource = string | (() => Promise<string>);

/** Where the local security state lives; shared by init and open. */
export interface SecurityOptions {
  /** Folder holding one folder per repository id (default `$CAIRN_SECURITY_DIR`, else `$XDG_CONFIG_HOME/cairn/security`). */
  securityDir?: string;
  env?: NodeJS.ProcessEnv;
}

export interface InitOptions extends EngineCodecOptions, SecurityOptions {
  /** Key mode: repokey-aes-ocb, repokey-chacha20-poly1305, keyfile-…, authenticated or none. */
  encryption: string;
  passphrase: PassphraseSource;
  kdf?: KdfParams;
  segmentSize?: number;
  appendOnly?: boolean;
  /** Make missing folders above a folder repository (default true; see the repository's `CreateOptions`). */
  makeParentDirs?: boolean;
  /** Where a keyfile-mode key goes (default `keyFilePath(repository id)`). */
  keyFile?: string;
  /**
   * Make the new repository **related** to this open one (`rcreate --other-repo`): it shares its id key (MAC key,
   * id algorithm, chunker seed) and chunker sizes, so `transferArchives` can copy between the two; its encryption
   * key, passphrase and mode are its own. See docs/adr/0053-related-repositories-and-transfer.md.
   */
  relatedTo?: OpenedRepository;
  /** Keep every object but the locks under this retention (see the repository's `CreateOptions.retention`). */
  retention?: RetentionPolicy;
}

export interface OpenRepositoryOptions extends EngineCodecOptions, SecurityOptions {
  passphrase: PassphraseSource;
  exclusive?: boolean;
  readOnly?: boolean;
  /** Take no lock at all (with `readOnly`: `create --dry-run` writes nothing to the repository). */
  lock?: boolean;
  /** Do not read the index objects (for `check({ repair: true })`, which rebuilds them). */
  skipIndex?: boolean;
  /**
   * Use the local index cache (default true): only the index objects it has not seen are read from
   * the repository, and it is brought up to date (docs/adr/0051-local-index-cache.md). False reads
   * the whole index and leaves the cache alone.
   */
  indexCache?: boolean;
  /** This repository's cache folder (index cache); default `repositoryCacheDir(repository id, env)`. */
  cacheDir?: string;
  /** Told about what went wrong but did not stop the open (an index cache found damaged and rebuilt). */
  warn?: (message: string) => void;
  /** The key file to use (keyfile modes); default `keyFilePath(repository id)`. */
  keyFile?: string;
  /**
   * Open an unencrypted (`none`, `authenticated`) repository this machine has never used. Default: the environment's
   * `CAIRN_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes`; otherwise such an open fails with `ESECURITY_UNKNOWN_UNENCRYPTED`.
   */
  allowUnknownUnencrypted?: boolean;
  /**
   * When journal records this machine saw are gone: `refuse` (default, `ESECURITY_ROLLBACK`), `report` (open, list
   * them in `security.rolledBack`), or `accept` (also forget them: the store's current state becomes the known one).
   */
  rollback?: 'refuse' | 'report' | 'accept';
}

const ask = async (p: PassphraseSource): Promise<string> => (typeof p === 'string' ? p : p());
const isUnencrypted = (mode: KeyMode): boolean => mode === 'none' || mode === 'authenticated';

/** Creates a repository and its key (`RepositoryExistsError` when one is there), records it as known, and opens it. */
export async function initRepository(backend: Backend, options: InitOptions): Promise<OpenedRepository> {
  const mode = parseMode(options.encryption);
  const id = randomBytes(32).toString('hex');
  // The key first: a failure here (empty passphrase, bad KDF settings) leaves no repository behind.
  const other = options.relatedTo;
  const otherSettings = other ? await readSettings(other) : undefined;
  const { key, blob } = await createKey(mode, mode === 'none' ? '' : await ask(options.passphrase), { kdf: options.kdf, repositoryId: id, idKeyFrom: other?.key });
  const repository = await Repository.create(backend, { segmentSize: options.segmentSize, appendOnly: options.appendOnly, makeParentDirs: options.makeParentDirs, id, retention: options.retention });
  try {
    if (storedInRepository(mode) || mode === 'none') await repository.putKeyBlob(blob, { ifAbsent: true });
    else await writeKeyFile(options.keyFile ?? keyFilePath(id, options.env), blob);
    const statePath = securityStatePath(id, options.env ?? process.env, options.securityDir);
    await saveSecurityState(statePath, { mode, fingerprint: keyFingerprint(key), journals: {} }, { replaceJournals: true });
    // A related repository cuts files as the other one does: its chunker sizes, whatever the caller asked.
    const opened = await withCodec(repository, key, other ? { ...options, chunker: otherSettings?.chunker } : options, { statePath, firstContact: false, rolledBack: [] });
    const retention = repository.config.retention;
    await writeSettings(opened, other ? { chunker: otherSettings?.chunker, related: other.repository.config.id, retention } : { chunker: options.chunker, retention });
    return opened;
  } catch (error) {
    await repository.close();
    throw error;
  }
}

/**
 * Opens a repository and its key. Refuses (`RepositorySecurityError`, see its codes) a key mode or key other than the
 * one this machine knows, a key sealed for another repository, a keyfile-mode key found in the repository, an unknown
 * unencrypted repository (unless allowed) and a rollback; a wrong passphrase is the engine's `WrongPassphraseError`.
 */
export async function openRepository(backend: Backend, options: OpenRepositoryOptions): Promise<OpenedRepository> {
  // The index is loaded once the key is open: the key authenticates the local index cache.
  const repository = await Repository.open(backend, { exclusive: options.exclusive, readOnly: options.readOnly, lock: options.lock, skipIndex: true });
  try {
    const env = options.env ?? process.env;
    const id = repository.config.id;
    const statePath = securityStatePath(id, env, options.securityDir);
    const known = await loadSecurityState(statePath);
    const { blob, mode } = await locateKeyBlob(repository, known, options);
    // Everything that needs no passphrase is checked before asking for one: a planted `none` key never gets further.
    if (known && known.mode !== mode) {
      throw new RepositorySecurityError('ESECURITY_MODE_CHANGED', `repository ${short(id)}: its key mode changed from ${known.mode} to ${mode} since this machine last used it, so someone may have planted a key: restore the real key ("cairn key import FILE"), or if you changed it yourself delete ${statePath}`);
    }
    const allowUnencrypted = options.allowUnknownUnencrypted ?? env.CAIRN_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK === 'yes';
    if (!known && isUnencrypted(mode) && !allowUnencrypted) {
      throw new RepositorySecurityError('ESECURITY_UNKNOWN_UNENCRYPTED', `repository ${short(id)} is unencrypted (${mode}) and unknown to this machine: if you trust it, set CAIRN_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes for this run`);
    }
    const key = await openKey(blob, mode === 'none' ? '' : await ask(options.passphrase));
    checkKeyRepository(key, id);
    checkKnownKey(known, key, id, statePath);
    if (!options.skipIndex) {
      const cache = options.indexCache === false ? undefined : localIndexCache(key, options.cacheDir ?? repositoryCacheDir(id, env), options.warn);
      await repository.loadIndex({ cache });
    }
    const fingerprint = keyFingerprint(key);
    const journalNames = await listJournalNames(repository);
    const present = journalPresence(journalNames);
    const rolledBack = known ? missingJournals(known.journals, present) : [];
    const policy = options.rollback ?? 'refuse';
    if (rolledBack.length > 0 && policy === 'refuse') {
      throw new RepositorySecurityError('ESECURITY_ROLLBACK', `repository ${short(id)} went back in time: ${rolledBack.length} archive journal record(s) this machine saw are gone (${rolledBack[0]}), so objects were deleted or rolled back without the key: run "cairn check" to see what changed; "cairn check --repair" accepts the current state`);
    }
    const journals: Record<string, number> = policy === 'accept' ? {} : { ...known?.journals };
    for (const [writer, highest] of Object.entries(journalView(present))) journals[writer] = Math.max(journals[writer] ?? -1, highest);
    // The chunker sizes chosen at init win over the caller's: all clients must cut alike.
    const security = { statePath, firstContact: !known, rolledBack };
    const probe = await withCodec(repository, key, { ...options, workers: 0 }, security);
    const settings = await readSettings(probe);
    const sealed = settings.retention;
    const plain = repository.config.retention;
    if (sealed?.mode !== plain?.mode || sealed?.seconds !== plain?.seconds) {
      throw new RepositorySecurityError('ESECURITY_RETENTION', `repository ${short(id)}: its config says ${describeRetention(plain)} but its sealed settings say ${describeRetention(sealed)}, so someone with write access to the store changed the config: restore the config object from the store's versions (the retention is part of the repository's settings and cannot be changed)`);
    }
    // Recorded only once everything checked out, so a refused first contact leaves nothing trusted behind.
    await saveSecurityState(statePath, { mode, fingerprint, journals }, { replaceJournals: policy === 'accept' });
    return await withCodec(repository, key, { ...options, chunker: settings.chunker ?? options.chunker }, security, journalNames);
  } catch (error) {
    await repository.close();
    throw error;
  }
}

const describeRetention = (r: RetentionPolicy | undefined): string => (r ? `${r.mode} retention for ${r.seconds} s` : 'no retention');

/** `journalNames`: the journal records listed at open, which the first record read uses instead of listing again. */
async function withCodec(repository: Repository, key: KeyMaterial, options: EngineCodecOptions & SecurityOptions, security: OpenedRepository['security'], journalNames?: readonly string[]): Promise<OpenedRepository> {
  const codec = await createEngineCodec(key, options);
  // Each stored journal entry is recorded at once: this machine then notices if it disappears later.
  const voucher = recordVoucher({ repository, codec }, journalCachePath(security.statePath), journalNames);
  const journal = createArchiveJournal({ repository, codec }, async (writer, seq) => {
    // What this session journals makes the voucher's listing old: the next record read lists again.
    voucher.journaled();
    const state = await loadSecurityState(security.statePath);
    if (state) await saveSecurityState(security.statePath, { ...state, journals: { ...state.journals, [writer]: Math.max(seq, state.journals[writer] ?? -1) } });
  });
  return {
    repository, codec, key, journal, security,
    vouchRecord: voucher.vouch,
    async close() {
      try {
        await codec.close();
      } finally {
        await repository.close();
      }
    },
  };
}

/**
 * The `vouchRecord` of an opened repository. The archives the journal names live are worked out at the first record
 * read, from the journal listing of the open (listed again once this session journaled something): journal entries this machine authenticated before come from its journal cache, new ones are read and cached.
 * A record that does not match is looked at once more against a fresh listing (this session may have journaled a
 * newer record meanwhile) before it is refused. A name the journal does not name live passes: a writer stopped before
 * its journal entry leaves such a record, and `check` reports it.
 */
function recordVoucher(ctx: Pick<OpenedRepository, 'repository' | 'codec'>, cachePath: string, listedAtOpen?: readonly string[]): { vouch(name: string, id: Uint8Array): Promise<void>; journaled(): void } {
  let live: Promise<Map<string, string>> | undefined;
  // The first load uses the listing of the open (one LIST fewer per command) unless this session journaled since;
  // a reload lists afresh.
  let listed = listedAtOpen;
  const load = async (): Promise<Map<string, string>> => {
    const cache = await loadJournalCache(cachePath);
    const names = listed ? [...listed] : await listJournalNames(ctx.repository);
    listed = undefined;
    const found = await journaledArchives(ctx, names, cache);
    const present = new Set(names);
    // A cache that cannot be written costs only the reads next time.
    if (found.read > 0 || [...cache.keys()].some((n) => !present.has(n))) await saveJournalCache(cachePath, cache, names).catch(() => undefined);
    return found.live;
  };
  const liveNow = (fresh: boolean): Promise<Map<string, string>> => {
    if (fresh || !live) {
      live = load();
      live.catch(() => { live = undefined; });
    }
    return live;
  };
  const journaled = (): void => { listed = undefined; live = undefined; };
  const vouch = async (name: string, id: Uint8Array): Promise<void> => {
    const hex = Buffer.from(id).toString('hex');
    const matches = (named: string | undefined): boolean => named === undefined || named === hex;
    if (matches((await liveNow(false)).get(name)) || matches((await liveNow(true)).get(name))) return;
    throw new RepositorySecurityError('ESECURITY_REPLACED', `archive "${name}": its record is not the one the archive journal names, so an older record was put back without the key: run "cairn check" to see what changed, and "cairn delete ${name}" to remove it`);
  };
  return { vouch, journaled };
}
