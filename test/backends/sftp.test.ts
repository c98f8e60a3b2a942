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
  // SFTP lists folder by folder, unpaged: 330 keys over two folders say as much as 1 530 over six.
  conformanceSuite('sftp', (root: string): Promise<Backend> => factory.make(root), { listKeys: 330 });
}
