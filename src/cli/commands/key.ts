/** `cairn key export|import|change-passphrase`: back up, restore and re-protect the repository key (repokey or key file). */
import { Command } from 'commander';
import type { CliIO } from '../io.js';
import { globalsOf, repoUrl } from '../options.js';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  changeRepositoryPassphrase, describeKey, exportKey, importKey, importRepositoryKey, loadSecurityState, locateKeyBlob,
  readPassphrase, Repository, securityStatePath,
} from '../../index.js';
import { emit, openCliStore, type RepoCommandOptions } from './context.js';

export interface KeyExportOptions extends RepoCommandOptions {
  /** File to write; `-` or absent = standard output. */
  path?: string;
  paper?: boolean;
}

export interface KeyImportOptions extends RepoCommandOptions {
  /** File to read; `-` = standard input. */
  path: string;
  paper?: boolean;
}

/** Opens the repository without its key (the key commands work on the sealed blob). */
async function withStore<T>(options: RepoCommandOptions, io: CliIO, exclusive: boolean, work: (repository: Repository) => Promise<T>): Promise<T> {
  const backend = await openCliStore(options.repo, io);
  try {
    const repository = await Repository.open(backend, { exclusive, readOnly: !exclusive });
    try {
      return await work(repository);
    } finally {
      await repository.close();
    }
  } finally {
    await backend.close();
  }
}

/** Where the key commands look for a key file: --key-file / CAIRN_KEY_FILE, else the default path. */
const where = (io: CliIO) => ({ keyFile: io.env.CAIRN_KEY_FILE || undefined, env: io.env });

/** Writes the sealed key (still protected by the passphrase), from the repository or the key file, to a file or stdout. */
export async function runKeyExport(options: KeyExportOptions, io: CliIO): Promise<void> {
  const text = await withStore(options, io, false, async (repository) => {
    const known = await loadSecurityState(securityStatePath(repository.config.id, io.env));
    return exportKey((await locateKeyBlob(repository, known, where(io))).blob, options.paper ? 'paper' : 'text');
  });
  const toStdout = options.path === undefined || options.path === '-';
  if (!toStdout) await writeFile(resolve(io.cwd, options.path!), text, { mode: 0o600, flag: 'wx' });
  // --json: one JSON document like every command (the key text in `key` when it goes to standard output).
  const result = { format: options.paper ? 'paper' : 'text', ...(toStdout ? { key: text } : { path: resolve(io.cwd, options.path!) }) };
  emit(io, options, result, () => (toStdout ? text : ''));
}

/** An export (text or paper form) or a raw key file, as the sealed blob. */
function parseKeyInput(bytes: Uint8Array): Uint8Array {
  if (Buffer.from(bytes.subarray(0, 8)).toString('latin1') === 'CAIRNKEY') {
    describeKey(bytes);
    return bytes;
  }
  return importKey(Buffer.from(bytes).toString('utf8'));
}

/**
 * Puts an exported key (or a key file) back: only a key of this repository (and the one this machine knows) is
 * accepted; a keyfile-mode key goes to the local key file, any other into the repository; the old one is kept.
 */
export async function runKeyImport(options: KeyImportOptions, io: CliIO): Promise<{ mode: string; keyFile?: string }> {
  const bytes = options.path === '-' ? await io.readStdin() : new Uint8Array(await readFile(resolve(io.cwd, options.path)));
  const blob = parseKeyInput(bytes);
  const passphrase = describeKey(blob).mode === 'none' ? '' : await readPassphrase({ env: io.env });
  const done = await withStore(options, io, true, (repository) => importRepositoryKey(repository, blob, passphrase, where(io)));
  const result = { imported: true, mode: done.mode, ...(done.path ? { keyFile: done.path } : {}) };
  emit(io, options, result, () => `key imported${done.path ? ` into the key file ${done.path}` : ' into the repository'} (the previous one is kept as ${done.path ? `${done.path}.prev` : 'keys/repokey.prev'})`);
  return { mode: done.mode, keyFile: done.path };
}

/** Re-seals the key under a new passphrase (CAIRN_NEW_PASSPHRASE or a prompt) where it lives; data is not rewritten. */
export async function runKeyChangePassphrase(options: RepoCommandOptions, io: CliIO): Promise<void> {
  const done = await withStore(options, io, true, async (repository) => {
    const old = await readPassphrase({ env: io.env });
    const fresh = async () => io.env.CAIRN_NEW_PASSPHRASE ?? await readPassphrase({ env: {}, prompt: 'New passphrase: ', confirm: true });
    return changeRepositoryPassphrase(repository, old, fresh, where(io));
  });
  emit(io, options, { changed: true, ...(done.path ? { keyFile: done.path } : {}) }, () => `passphrase changed${done.path ? ` in the key file ${done.path}` : ''} (the previous key is kept as ${done.path ? `${done.path}.prev` : 'keys/repokey.prev'})`);
}

export function registerKey(program: Command, io: CliIO): void {
  const key = new Command('key').description('manage the repository key (in the repository, or the local key file of keyfile modes)');
  const repoOpts = (cmd: Command) => {
    const g = globalsOf(cmd);
    return { repo: repoUrl(g, io), json: g.json, progress: g.progress };
  };
  key.command('export').description('export the key (still sealed by the passphrase) for safekeeping; keyfile modes: the key file\'s key')
    .argument('[path]', 'file to write (default: standard output)')
    .option('--paper', 'a text form with per-line checksums, to print and type back in')
    .action(async (path: string | undefined, opts: { paper?: boolean }, cmd: Command) => runKeyExport({ ...opts, path, ...repoOpts(cmd) }, io));
  key.command('import').description('import an exported key (or a key file) of this repository; keyfile modes: into the local key file (--key-file PATH or the default); the previous key is kept (.prev)')
    .argument('<path>', 'export (text or paper form) or key file to read, or - for standard input')
    .option('--paper', 'the input is the paper form')
    .action(async (path: string, opts: { paper?: boolean }, cmd: Command) => { await runKeyImport({ ...opts, path, ...repoOpts(cmd) }, io); });
  key.command('change-passphrase').description('protect the key with a new passphrase (from CAIRN_NEW_PASSPHRASE or a prompt), where it lives; the previous key is kept (.prev)')
    .action(async (_opts: object, cmd: Command) => runKeyChangePassphrase(repoOpts(cmd), io));
  program.addCommand(key);
}
