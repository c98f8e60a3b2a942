/**
 * `cairn mount NAME|--all MOUNTPOINT`: one archive, or every archive (a folder each), as a read-only FUSE file system
 * until Ctrl-C, SIGTERM or `umount`. The repository is opened read-only and without a lock: nothing is written to it
 * (ADR 0059). Reads fetch only the chunks they cover.
 */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { UsageError } from '../errors.js';
import { globalsOf, repoUrl } from '../options.js';
import { listArchives, openArchiveTree } from '../../index.js';
import { checkMountpoint, MountView, startMount } from '../../mount/index.js';
import { resolveArchiveName } from '../archive-name.js';
import { emit, warnUnreadable, withRepository, type RepoCommandOptions } from './context.js';

export interface MountCommandOptions extends RepoCommandOptions {
  /** The archive (placeholders and "latest" allowed), or undefined with `all`. */
  name?: string;
  all?: boolean;
  mountpoint: string;
}

export interface MountResult {
  mountpoint: string;
  archives: string[];
  /** Calls that failed with EIO (a damaged or missing chunk, a store error); each was a warning. */
  errors: number;
}

/** Mounts, waits until unmounted (Ctrl-C/SIGTERM here, or `umount` elsewhere), then reports. */
export async function runMount(options: MountCommandOptions, io: CliIO): Promise<MountResult> {
  if (options.all === (options.name !== undefined)) throw new UsageError('name one archive, or --all for every archive (a folder each): cairn mount NAME MOUNTPOINT');
  const mountpoint = await checkMountpoint(options.mountpoint);
  return withRepository(options, io, { readOnly: true, lock: false, handlesInterrupt: true }, async (opened) => {
    let errors = 0;
    const onError = (path: string, error: unknown): void => {
      errors += 1;
      io.warn(`${path}: ${(error as Error).message.split('\n')[0]} (the read failed with EIO)`);
    };
    let archives: string[];
    let view: MountView;
    if (options.all) {
      // An archive whose record cannot be read (or that the journal does not vouch for) is left out with a warning, as rlist does.
      archives = (await listArchives(opened, { onUnreadable: warnUnreadable(io) })).map((a) => a.name);
      view = new MountView({ archives: { names: archives, open: (name) => openArchiveTree(opened, name), timeNs: BigInt(Date.now()) * 1_000_000n }, onError });
    } else {
      const name = await resolveArchiveName(opened, options.name!);
      const tree = await openArchiveTree(opened, name);
      // Reads the item stream now: a damaged archive fails here, not at the first `ls`.
      await tree.stat('');
      archives = [name];
      view = new MountView({ tree: async () => tree, onError });
    }
    const fs = await startMount(view, mountpoint);
    io.err(`cairn: mounted ${options.all ? `${archives.length} archives` : `archive ${archives[0]}`} read-only at ${mountpoint}; Ctrl-C or "umount ${mountpoint}" unmounts\n`);
    const signal = io.interrupt?.signal;
    const stop = (): void => { fs.unmount().catch((error: unknown) => io.warn((error as Error).message)); };
    if (signal?.aborted) stop(); else signal?.addEventListener('abort', stop, { once: true });
    try {
      await fs.ended;
    } finally {
      signal?.removeEventListener('abort', stop);
    }
    const result: MountResult = { mountpoint, archives, errors };
    emit(io, options, result, () => '');
    return result;
  });
}

export function registerMount(program: Command, io: CliIO): void {
  program.command('mount')
    .usage('[options] NAME MOUNTPOINT | --all MOUNTPOINT')
    .description('mount archive NAME, or with --all every archive (a folder each), read-only at MOUNTPOINT (an empty folder) with FUSE, '
      + 'until Ctrl-C or SIGTERM (or "umount MOUNTPOINT"); files, folders, symlinks, hard links, modes, owners and times as archived; '
      + 'a read fetches only the chunks it covers. Linux with /dev/fuse and libfuse 3 (Debian: libfuse3-3); nothing is written to the repository, and no lock is taken (docs/mount.md)')
    .argument('<name>', 'archive name, "latest" (the newest archive) or with placeholders; with --all, the mountpoint')
    .argument('[mountpoint]', 'an existing empty folder')
    .option('--all', 'mount every archive, one folder per archive name: cairn mount --all MOUNTPOINT')
    .action(async (first: string, second: string | undefined, opts: { all?: boolean }, cmd: Command) => {
      const g = globalsOf(cmd);
      const [name, mountpoint] = opts.all ? [undefined, first] : [first, second];
      if (mountpoint === undefined || (opts.all && second !== undefined)) throw new UsageError('usage: cairn mount NAME MOUNTPOINT, or cairn mount --all MOUNTPOINT');
      await runMount({ name, all: opts.all, mountpoint, repo: repoUrl(g, io), json: g.json, progress: false }, io);
    });
}
