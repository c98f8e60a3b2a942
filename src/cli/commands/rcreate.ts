/** `cairn rcreate`: create a new, empty repository with a key of the chosen mode. */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { operation } from '../library.js';
import { globalsOf, parseEncryption, repoUrl } from '../options.js';
import { emit, operationContext, type RepoCommandOptions } from './context.js';

export interface RcreateOptions extends RepoCommandOptions {
  encryption: string;
  otherRepo?: string;
  appendOnly?: boolean;
  chunkerParams?: string;
}

/** Creates the repository; refuses (EREPOSITORY_EXISTS) when one is already there, leaving it unchanged. */
export async function runRcreate(options: RcreateOptions, io: CliIO): Promise<void> {
  const ctx = operationContext(options, io);
  try {
    const result = await operation<RcreateOptions, { id: string }>('rcreate')(options, ctx);
    emit(io, options, result, () => `created repository ${result.id} (${options.encryption})`);
  } finally {
    ctx.progress.stop();
  }
}

export function registerRcreate(program: Command, io: CliIO): void {
  program.command('rcreate')
    .description('create a new, empty repository')
    .requiredOption('-e, --encryption <mode>', 'key mode: repokey-aes-ocb, repokey-chacha20-poly1305, keyfile-aes-ocb, keyfile-chacha20-poly1305, authenticated, none (repokey = repokey-aes-ocb, keyfile = keyfile-aes-ocb)', parseEncryption)
    .option('--other-repo <url>', 'share the chunk-id key and chunker seed of this related repository (for transfer)')
    .option('--append-only', 'refuse every operation that removes data')
    .option('--chunker-params <min,avg,max>', 'content-defined chunk sizes, e.g. 512K,2M,8M (the default), or fixed,4M')
    .action(async (opts: Omit<RcreateOptions, 'repo'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runRcreate({ ...opts, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
