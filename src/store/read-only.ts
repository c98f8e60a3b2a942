/** A wrapper that refuses every request that would change the store. */
import type { Backend } from './backend.js';
import { ReadOnlyError } from './errors.js';
import { validateKey } from './keys.js';

/**
 * `b` for reading only: `get`, `list` and `stat` pass through; `put`, `delete`, `create` and
 * `destroy` reject with `ReadOnlyError` without reaching `b` (an invalid key still gives
 * `InvalidKeyError` first, as on every backend).
 */
export function readOnly(b: Backend): Backend {
  const refuse = (op: string, key?: string): Promise<never> => {
    if (key !== undefined) validateKey(key, b.name);
    return Promise.reject(new ReadOnlyError(`${op} refused: ${b.location} is opened read-only`, { backend: b.name, key }));
  };
  return {
    name: b.name,
    location: b.location,
    capabilities: b.capabilities,
    get: (key, range, options) => b.get(key, range, options),
    list: (prefix, options) => b.list(prefix, options),
    stat: (key, options) => b.stat(key, options),
    put: async (key) => refuse('put', key),
    delete: async (key) => refuse('delete', key),
    create: async () => refuse('create'),
    destroy: async () => refuse('destroy'),
    close: () => b.close(),
  };
}
