/**
 * Where the local index cache of a repository lives and how it is kept: one file,
 * `$XDG_CACHE_HOME/cairn/<repository id>/index` (beside the files cache), read with a size bound
 * and replaced atomically (0600 in a 0700 folder). Its format and use are the repository layer's
 * (`IndexCache`); its HMAC key derives from the repository key, so only a holder of the key can
 * write a cache this machine will use.
 */
import { join } from 'node:path';
import { deriveLocalKey, type KeyMaterial } from '../engine/index.js';
import type { IndexCache, IndexCacheStorage } from '../repository/index.js';
import { readFileBounded, writeFileAtomic } from './local-file.js';

/** The cache file in a repository's cache folder (see `repositoryCacheDir`). */
export function indexCachePath(cacheDir: string): string {
  return join(cacheDir, 'index');
}

/** The file-backed storage of the index cache at `path`. */
export function fileIndexCacheStorage(path: string): IndexCacheStorage {
  return {
    read: (maxBytes) => readFileBounded(path, maxBytes),
    write: (bytes) => writeFileAtomic(path, bytes),
  };
}

/** The index cache of the repository whose key is `key`, kept in `cacheDir`. */
export function localIndexCache(key: KeyMaterial, cacheDir: string, warn?: (message: string) => void): IndexCache {
  return { storage: fileIndexCacheStorage(indexCachePath(cacheDir)), key: deriveLocalKey(key, 'index cache'), warn };
}
