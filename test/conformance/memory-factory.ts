/** A `make(root)` for the memory backend: each call is a new client of one shared store per root. */
import type { Backend } from '../../src/store/backend.js';
import { MemoryBackend } from '../../backends/memory/index.js';

/** Returns a factory whose clients for the same root see the same objects, like a server would. */
export function memoryFactory(): (root: string) => Promise<Backend> {
  const stores = new Map<string, MemoryBackend>();
  return async (root) => {
    let store = stores.get(root);
    if (!store) {
      store = new MemoryBackend(`memory:${root}`, false);
      stores.set(root, store);
    }
    const shared = store;
    return {
      name: shared.name,
      location: shared.location,
      capabilities: shared.capabilities,
      get: (key, range, options) => shared.get(key, range, options),
      put: (key, bytes, options) => shared.put(key, bytes, options),
      delete: (key, options) => shared.delete(key, options),
      list: (prefix, options) => shared.list(prefix, options),
      stat: (key) => shared.stat(key),
      create: () => shared.create(),
      destroy: () => shared.destroy(),
      close: async () => {}, // the shared store outlives any one client
    };
  };
}
