/**
 * What this machine keeps about a repository outside it: the key file of a keyfile-mode repository
 * (at its default place), the security state, and the files cache. `rdelete` removes them once the
 * repository itself is gone, so nothing of a deleted repository lingers in ~/.config or ~/.cache.
 */
import { rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { repositoryCacheDir } from './files-cache.js';
import { keyFilePath } from './repository-key.js';
import { securityStatePath } from './security-state.js';

/** The local traces of repository `id` that exist: paths of files and folders, in a fixed order. */
export async function localRepositoryState(id: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const key = keyFilePath(id, env);
  const candidates = [key, `${key}.prev`, dirname(securityStatePath(id, env)), repositoryCacheDir(id, env)];
  const present = await Promise.all(candidates.map((p) => stat(p).then(() => true, () => false)));
  return candidates.filter((_, i) => present[i]);
}

/**
 * Removes the local traces of repository `id` (see `localRepositoryState`) and returns the paths
 * removed. Call it only after the repository is deleted: without the key file its backups are lost.
 */
export async function removeLocalRepositoryState(id: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const paths = await localRepositoryState(id, env);
  for (const path of paths) await rm(path, { recursive: true, force: true });
  return paths;
}
