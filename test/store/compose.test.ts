/** The wrappers keep the contract: the conformance suite through every wrapper, with faults injected. */
import { composeBackend, faulty } from '../../src/store/index.js';
import { conformanceSuite } from '../conformance/suite.js';
import { memoryFactory } from '../conformance/memory-factory.js';

const memory = memoryFactory();

conformanceSuite('composed memory (limit, timeout, rate, retry)', async (root) =>
  composeBackend(await memory(root), { concurrency: 4, timeoutMs: 10_000, bytesPerSecond: 2 ** 40, retry: { baseDelayMs: 1 } }),
{ largeBytes: 8 * 1024 * 1024 });

// One request in ten fails transiently before reaching the store, and listings break twice
// part-way; retry must hide every one of them. (Listing steps are not failed at random: a
// resumed listing re-reads from the start, so a per-entry fault rate would never let it finish.)
const requests = ['get', 'put', 'delete', 'stat', 'create', 'destroy'] as const;
conformanceSuite('memory behind 10% transient faults and retry', async (root) =>
  composeBackend(faulty(await memory(root), {
    seed: root.length,
    rules: [{ op: [...requests], probability: 0.1, kind: 'transient' }, { op: 'list', nth: [2, 40], kind: 'transient' }],
  }),
    { concurrency: 8, retry: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 30 } }),
{ largeBytes: 8 * 1024 * 1024 });
