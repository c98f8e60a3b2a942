/** `cairn key export|import|change-passphrase`: back up, restore and re-protect the repository key. */
import { Command } from 'commander';
import type { CliIO } from '../io.js';
import { globalsOf, repoUrl } from '../options.js';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { changePassphrase, exportKey, importKey, openKey, readPassphrase, Repository } from '../../index.js';
import { UsageError } from '../errors.js';
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

async function keyBlob(repository: Repository): Promise<Uint8Array> {
  const blob = await repository.getKeyBlob();
  if (!blob) throw new UsageError('this repository keeps its key in a key file, not in the repository: back up that file instead');
  return blob;
}

/** Writes the sealed key (still protected by the passphrase) to a file or stdout. */
export async function runKeyExport(options: KeyExportOptions, io: CliIO): Promise<void> {
  const text = await withStore(options, io, false, async (repository) => exportKey(await keyBlob(repository), options.paper ? 'paper' : 'text'));
  if (options.path === undefined || options.path === '-') io.out(text.endsWith('\n') ? text : `${text}\n`);
  else await writeFile(resolve(io.cwd, options.path), text, { mode: 0o600, flag: 'wx' });
}

/** Puts an exported key back into the repository, after checking that the passphrase opens it. */
export async function runKeyImport(options: KeyImportOptions, io: CliIO): Promise<void> {
  const text = options.path === '-' ? Buffer.from(await io.readStdin()).toString('utf8') : await readFile(resolve(io.cwd, options.path), 'utf8');
  const blob = importKey(text);
  await openKey(blob, await readPassphrase({ env: io.env }));
  await withStore(options, io, true, (repository) => repository.putKeyBlob(blob));
  emit(io, options, { imported: true }, () => 'key imported');
}

/** Re-seals the key under a new passphrase (CAIRN_NEW_PASSPHRASE or a prompt); data is not rewritten. */
export async function runKeyChangePassphrase(options: RepoCommandOptions, io: CliIO): Promise<void> {
  await withStore(options, io, true, async (repository) => {
    const blob = await keyBlob(repository);
    const old = await readPassphrase({ env: io.env });
    const fresh = io.env.CAIRN_NEW_PASSPHRASE ?? await readPassphrase({ env: {}, prompt: 'New passphrase: ', confirm: true });
    await repository.putKeyBlob(await changePassphrase(blob, old, fresh));
  });
  emit(io, options, { changed: true }, () => 'passphrase changed');
}

export function registerKey(program: Command, io: CliIO): void {
  const key = new Command('key').description('manage the repository key');
  const repoOpts = (cmd: Command) => {
    const g = globalsOf(cmd);
    return { repo: repoUrl(g, io), json: g.json, progress: g.progress };
  };
  key.command('export').description('export the key (still sealed by the passphrase) for safekeeping')
    .argument('[path]', 'file to write (default: standard output)')
    .option('--paper', 'a text form with per-line checksums, to print and type back in')
    .action(async (path: string | undefined, opts: { paper?: boolean }, cmd: Command) => runKeyExport({ ...opts, path, ...repoOpts(cmd) }, io));
  key.command('import').description('import an exported key into the repository')
    .argument('<path>', 'file to read, or - for standard input')
    .option('--paper', 'the input is the paper form')
    .action(async (path: string, opts: { paper?: boolean }, cmd: Command) => runKeyImport({ ...opts, path, ...repoOpts(cmd) }, io));
  key.command('change-passphrase').description('protect the key with a new passphrase (from CAIRN_NEW_PASSPHRASE or a prompt)')
    .action(async (_opts: object, cmd: Command) => runKeyChangePassphrase(repoOpts(cmd), io));
  program.addCommand(key);
}
