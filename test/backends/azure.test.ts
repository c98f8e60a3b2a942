/** The conformance suite against a real Azurite blob service on loopback (localstack/azure). */
import { after, test } from 'node:test';
import type { Backend } from '../../src/store/backend.js';
import { conformanceSuite } from '../conformance/suite.js';
import { startFactory } from './factories/azure.js';

const factory = await startFactory();
if (factory instanceof Error) {
  test('azure conformance: server unavailable outside CI', (t) => t.skip(factory.message.split('\n')[0]));
} else {
  after(() => factory.stop());
  // Listings page at TEST_PAGE_SIZE (200) keys here: 630 keys cross four pages.
  conformanceSuite('azure', (root: string): Promise<Backend> => factory.make(root), { listKeys: 630 });
}
