/**
 * `openStore(location, options)`: the one way the CLI and the library's documented entry points
 * open a store: the backend the URL names, wrapped by `composeBackend` in its documented order.
 */
import { openBackend, type OpenOptions } from '../../backends/index.js';
import type { Backend } from './backend.js';
import { composeBackend, type ComposeOptions } from './compose.js';

export interface StoreOptions extends OpenOptions, ComposeOptions {}

/**
 * Opens the backend `location` names (see `openBackend`) and wraps it with retry, limits,
 * per-request timeouts and request accounting (`composeBackend`). Closing the result closes the
 * backend. Use `openBackend` only for raw access without any of these (tests, tools).
 */
export async function openStore(location: string, options: StoreOptions = {}): Promise<Backend> {
  const backend = await openBackend(location, { env: options.env });
  return composeBackend(backend, options);
}
