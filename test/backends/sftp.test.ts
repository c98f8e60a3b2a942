/** The conformance suite against a real OpenSSH sshd on loopback (localstack/sftp). */
import { after, test } from 'node:test';
import type { Backend } from '../../src/store/backend.js';
import { conformanceSuite } from '../conformance/suite.js';
import { startFactory } from './factories/sftp.js';

const factory = await startFactory();
if (factory instanceof Error) {
  test('sftp conformance: server unavailable outside CI', (t) => t.skip(factory.message.split('\n')[0]));
} else {
  after(() => factory.stop());
  conformanceSuite('sftp', (root: string): Promise<Backend> => factory.make(root));
}
