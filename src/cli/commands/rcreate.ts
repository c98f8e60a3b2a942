/** `cairn rcreate`: create a new, empty repository with a key of the chosen mode. */
import type { Command } from 'commander';
import { initRepository, readPassphrase } from '../../index.js';
import type { CliIO } from '../io.js';
import { globalsOf, parseEncryption, repoUrl } from '../options.js';
import { emit, openCliStore, type RepoCommandOptions } from './context.js';

export interface RcreateOptions extends RepoCommandOptions {
  encryption: string;
  appendOnly?: boolean;
}

/** Creates the repository; refuses (EREPOSITORY_EXISTS) when one is already there, leaving it unchanged. */
export async function runRcreate(options: RcreateOptions, io: CliIO): Promise<{ id: string; encryption: string }> {
  const backend = await openCliStore(options.repo, io);
  try {
    const opened = await initRepository(backend, {
      encryption: options.encryption,
      passphrase: () => readPassphrase({ env: io.env, confirm: true }),
      appendOnly: options.appendOnly,
      env: io.env,
    });
    const result = { id: opened.repository.config.id, encryption: opened.key.mode };
    await opened.close();
    emit(io, options, result, () => `created repository ${result.id} (${result.encryption})`);
    return result;
  } finally {
    await backend.close();
  }
}

export function registerRcreate(program: Command, io: CliIO): void {
  program.command('rcreate')
    .description('create a new, empty repository')
    .requiredOption('-e, --encryption <mode>', 'key mode: repokey-aes-ocb, repokey-chacha20-poly1305, keyfile-aes-ocb, keyfile-chacha20-poly1305, authenticated, none (repokey = repokey-aes-ocb, keyfile = keyfile-aes-ocb)', parseEncryption)
    .option('--append-only', 'refuse every operation that removes data')
    .action(async (opts: Omit<RcreateOptions, 'repo'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runRcreate({ ...opts, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
