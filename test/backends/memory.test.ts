/** Runs the conformance suite on the reference in-memory backend. */
import type { Backend } from '../../src/store/backend.js';
import { MemoryBackend } from '../../backends/memory/index.js';
import { conformanceSuite } from '../conformance/suite.js';

// A memory store lives in one object, so "a new client for root" is a fresh view of the shared
// store for that root: the suite's multi-client cases then see one set of objects.
const stores = new Map<string, MemoryBackend>();

function clientOf(store: MemoryBackend): Backend {
  return {
    name: store.name,
    location: store.location,
    capabilities: store.capabilities,
    get: (key, range, options) => store.get(key, range, options),
    put: (key, bytes, options) => store.put(key, bytes, options),
    delete: (key, options) => store.delete(key, options),
    list: (prefix, options) => store.list(prefix, options),
    stat: (key) => store.stat(key),
    create: () => store.create(),
    destroy: () => store.destroy(),
    close: async () => {},
  };
}

conformanceSuite('memory', async (root) => {
  let store = stores.get(root);
  if (!store) {
    store = new MemoryBackend(`memory:${root}`, false);
    stores.set(root, store);
  }
  return clientOf(store);
});
