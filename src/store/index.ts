/** The public surface of the store layer: the Backend contract, its errors, keys and wrappers. */
export type { Backend, ByteRange, Capabilities, CreateStoreOptions, ListEntry, ObjectInfo, OpOptions, PutOptions } from './backend.js';
export * from './errors.js';
export { KEY_ALPHABET, MAX_KEY_LENGTH, compareKeys, validateKey, validatePrefix } from './keys.js';
export { checkRange } from './range.js';
export { intercept, type Around, type Call, type OpName } from './intercept.js';
export { withConcurrencyLimit } from './with-concurrency-limit.js';
export { withRetry, RETRY_DEFAULTS, type RecoveredInfo, type RetryInfo, type RetryPolicy } from './with-retry.js';
export { withTimeout, requestTimeout, progressDeadline, TIMEOUT_DEFAULTS, type TimeoutPolicy } from './with-timeout.js';
export { readBody } from './read-body.js';
export { withRateLimit, TokenBucket } from './with-rate-limit.js';
export { readOnly } from './read-only.js';
export { faulty, CrashError, type FaultKind, type FaultPlan, type FaultRule, type FaultStats, type FaultyBackend } from './faulty.js';
export { composeBackend, type ComposeOptions } from './compose.js';
export { openStore, defaultLimits, type Store, type StoreLimits, type StoreOptions } from './open.js';
export { withAccounting, RequestCounter, type AccountingOptions, type BackendUsage, type RequestKind } from './accounting.js';
export { seededRandom } from './random.js';
