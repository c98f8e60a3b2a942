/**
 * A real file system without hard links for the fs backend's tests: a FAT32 image the test
 * makes itself (`mkfs.vfat`, package dosfstools) mounted through FUSE (`fusefat`, package
 * fusefat; this machine's kernel has no vfat module, and FUSE needs no loop device). On it
 * link(2) fails with EPERM, as on a FAT32 or exFAT USB disk. Needs root (FUSE mounts); without
 * root or the tools it returns the reason, and the caller skips locally but fails in CI.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NoHardLinkMount {
  /** The mounted folder (empty FAT32 file system). */
  dir: string;
  unmount(): Promise<void>;
}

function run(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  if (r.error) return `${cmd}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`;
  return r.status === 0 ? undefined : `${cmd} exited ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').at(-1)}`;
}

/** Mounts a fresh `sizeMiB` FAT32 image; an Error says why it could not. */
export async function mountFat32(sizeMiB = 512): Promise<NoHardLinkMount | Error> {
  if (process.getuid?.() !== 0) return new Error('not root: mounting a FAT32 image needs root (CI runs as root)');
  const base = await mkdtemp(join(tmpdir(), 'cairn-fat32-'));
  const image = join(base, 'fat32.img');
  const dir = join(base, 'mnt');
  await mkdir(dir);
  const failed = run('truncate', ['-s', `${sizeMiB}M`, image])
    ?? run('mkfs.vfat', ['-F', '32', image])
    ?? run('fusefat', ['-o', 'rw+', image, dir]);
  if (failed) {
    await rm(base, { recursive: true, force: true });
    return new Error(`cannot mount a FAT32 image (${failed}); install dosfstools and fusefat`);
  }
  return {
    dir,
    async unmount() {
      run('umount', [dir]);
      await rm(base, { recursive: true, force: true });
    },
  };
}
