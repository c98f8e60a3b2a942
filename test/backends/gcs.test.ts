/** The conformance suite against the GCS test server on loopback (localstack/gcs: firebase-tools emulator + front layer). */
import { after, test } from 'node:test';
import type { Backend } from '../../src/store/backend.js';
import { conformanceSuite } from '../conformance/suite.js';
import { startFactory } from './factories/gcs.js';

const factory = await startFactory();
if (factory instanceof Error) {
  test('gcs conformance: server unavailable outside CI', (t) => t.skip(factory.message.split('\n')[0]));
} else {
  after(() => factory.stop());
  // Listings page at TEST_PAGE_SIZE (100) keys here: 330 keys cross four pages.
  conformanceSuite('gcs', (root: string): Promise<Backend> => factory.make(root), { listKeys: 330 });
}
