// End to end on S3 (issue 11, defect 1): the same ownership rules as on a folder, for a bucket prefix.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cairn, ok } from './helpers.js';
import { s3Env, s3Url, startFactory } from '../backends/factories/s3.js';

const factory = await startFactory();
const text = (s: string) => new TextEncoder().encode(s);

if (factory instanceof Error) {
  test('rdelete on s3: server unavailable outside CI', (t) => t.skip(factory.message.split('\n')[0]));
} else {
  after(() => factory.stop());
  const env = s3Env(factory.env);
  const keys = async (root: string): Promise<string[]> => {
    const backend = await factory.make(root);
    const out: string[] = [];
    for await (const { key } of backend.list('')) out.push(key);
    await backend.close();
    return out;
  };

  test('s3: rcreate refuses a non-empty prefix; rdelete deletes only cairn objects under the prefix', async () => {
    const foreign = await factory.make('shared/');
    await foreign.put('photos/1.jpg', text('mine'));
    await foreign.close();
    const r = await cairn(['-r', s3Url(factory.env, 'shared/').href, 'rcreate', '-e', 'repokey'], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(await keys('shared/'), ['photos/1.jpg']);

    const url = s3Url(factory.env, 'repo/').href;
    await ok(['-r', url, 'rcreate', '-e', 'repokey'], { env });
    const planted = await factory.make('repo/');
    await planted.put('notes.txt', text('mine'));
    await planted.close();
    assert.equal((await cairn(['-r', url, 'rdelete', '--yes'], { env: { ...env, CAIRN_PASSPHRASE: 'wrong' } })).code, 2);
    const d = await cairn(['-r', url, '--json', 'rdelete', '--yes'], { env });
    assert.equal(d.code, 1, d.stderr);
    assert.deepEqual((JSON.parse(d.stdout) as { kept: string[] }).kept, ['notes.txt']);
    assert.deepEqual(await keys('repo/'), ['notes.txt']);
  });
}
