/** Runs the conformance suite on the S3 backend against s3rver behind cairn's harness (localstack/s3). */
import { after, test } from 'node:test';
import type { Backend } from '../../src/store/backend.js';
import { conformanceSuite } from '../conformance/suite.js';
import { startFactory } from './factories/s3.js';

const factory = await startFactory();
if (factory instanceof Error) {
  test('s3 conformance: server unavailable outside CI', (t) => t.skip(factory.message.split('\n')[0]));
} else {
  after(() => factory.stop());
  // Listings page at 100 keys here (factories/s3.ts): 330 keys cross four pages.
  conformanceSuite('s3', (root: string): Promise<Backend> => factory.make(root), { listKeys: 330 });
}
