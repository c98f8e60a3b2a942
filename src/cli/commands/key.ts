/** `cairn key export|import|change-passphrase`: back up, restore and re-protect the repository key. */
import { Command } from 'commander';
import type { CliIO } from '../io.js';
import { globalsOf, repoUrl } from '../options.js';
import { runOperation, type RepoCommandOptions } from './context.js';

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

/** Writes the sealed key (still protected by the passphrase) to a file or stdout. */
export async function runKeyExport(options: KeyExportOptions, io: CliIO): Promise<void> {
  await runOperation<KeyExportOptions, { text?: string }>('key export', options, io, (r) => r.text ?? '');
}

/** Puts an exported key back into the repository (e.g. after the key object was lost). */
export async function runKeyImport(options: KeyImportOptions, io: CliIO): Promise<void> {
  await runOperation<KeyImportOptions, unknown>('key import', options, io, () => 'key imported');
}

/** Re-seals the key under a new passphrase (CAIRN_NEW_PASSPHRASE or a prompt); data is not rewritten. */
export async function runKeyChangePassphrase(options: RepoCommandOptions, io: CliIO): Promise<void> {
  await runOperation<RepoCommandOptions, unknown>('key change-passphrase', options, io, () => 'passphrase changed');
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
