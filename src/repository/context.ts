/** What compaction and check get to see of an open repository. Internal: not exported by index.ts. */
import type { Backend } from '../store/backend.js';
import type { RepositoryConfig } from './config.js';
import type { LoadedIndex } from './index-load.js';
import type { RepositoryLock } from './locks.js';

export interface RepositoryContext {
  backend: Backend;
  config: RepositoryConfig;
  state: LoadedIndex;
  lock: RepositoryLock | undefined;
}
