/**
 * `cairn break-lock`: remove the repository's lock objects, for a holder that no longer runs on
 * another machine (a dead holder on this machine is removed by any command on its own). Asks for a
 * typed confirmation on a terminal; `--yes` otherwise. Needs no key: a lock holds no data.
 */
import type { Command } from 'commander';
import { breakLocks, isoTime, listLocks, Repository, type LockInfo } from '../../index.js';
import type { CliIO } from '../io.js';
import { UsageError } from '../errors.js';
import { localTime } from '../format.js';
import { globalsOf, repoUrl } from '../options.js';
import { emit, openCliStore, type RepoCommandOptions } from './context.js';

export interface BreakLockOptions extends RepoCommandOptions {
  yes?: boolean;
}

/** A lock time (ms) as every --json time: ISO 8601 UTC with nanoseconds. */
const iso = (ms: number) => isoTime(BigInt(ms) * 1_000_000n);

/** Removes every lock of the repository after confirmation; the holders fail their next commit. */
export async function runBreakLock(options: BreakLockOptions, io: CliIO): Promise<{ removed: number }> {
  if (!options.yes && !(io.isTTY && io.stdinIsTTY && io.readLine)) throw new UsageError('break-lock removes locks other cairn processes may still hold: add --yes to confirm (or run it on a terminal)');
  // The run's store: retried, limited and counted (the `backend` object of --json) like every command's.
  const backend = await openCliStore(options.repo, io);
  try {
    // Proves it is a repository (config readable) without taking a lock or loading the index.
    const repository = await Repository.open(backend, { lock: false, skipIndex: true, readOnly: true });
    await repository.close();
    const locks = await listLocks(backend, repository.config.id);
    if (locks.length > 0 && !options.yes) {
      for (const l of locks) io.err(`${describeLock(l)}\n`);
      const answer = await io.readLine!(`Remove ${locks.length} lock${locks.length === 1 ? '' : 's'}? A cairn still running there fails at its next commit. Type "yes" to confirm: `);
      if (answer?.trim() !== 'yes') throw new UsageError('not confirmed: no lock was removed');
    }
    await breakLocks(backend, locks.map((l) => l.key));
    const result = { removed: locks.length, locks: locks.map((l) => ({ ...l, since: iso(l.since), refreshed: iso(l.refreshed), expires: iso(l.expires) })) };
    emit(io, options, result, () => (locks.length === 0 ? 'the repository holds no lock' : `removed ${locks.length} lock${locks.length === 1 ? '' : 's'}:\n${locks.map((l) => `  ${describeLock(l)}`).join('\n')}`));
    return { removed: locks.length };
  } finally {
    await backend.close();
  }
}

function describeLock(l: LockInfo): string {
  return `${l.exclusive ? 'exclusive' : 'shared'} lock of cairn pid ${l.pid} on ${l.thisHost ? 'this host' : `another host (host id ${l.host})`} (session ${l.session}), since ${localTime(new Date(l.since))}, expires ${localTime(new Date(l.expires))}${l.dead ? ' (that process has ended)' : ''}`;
}

export function registerBreakLock(program: Command, io: CliIO): void {
  program.command('break-lock')
    .description('remove the repository\'s locks, left by a cairn that no longer runs (asks on a terminal; --yes otherwise)')
    .option('--yes', 'do not ask: needed when not on a terminal')
    .action(async (opts: Omit<BreakLockOptions, 'repo'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runBreakLock({ ...opts, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
