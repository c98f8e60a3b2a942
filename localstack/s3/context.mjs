// Per-request facts the front layer parsed (the Range asked for) handed down to the store
// fixes, which s3rver's controllers call without passing the request along.
import { AsyncLocalStorage } from 'node:async_hooks';

/** `{ range?: { start, end? } | { suffix } }` for the request being served. */
export const requestContext = new AsyncLocalStorage();
