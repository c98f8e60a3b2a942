// End to end: where the passphrase comes from, and the one line each failure prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { cairn, ok, oneLine, workspace } from './helpers.js';

test('CAIRN_PASSCOMMAND runs without a shell: ";" and "|" reach the program as text', async () => {
  const ws = await workspace();
  try {
    const mark = join(ws.dir, 'mark');
    const command = `printf %s secret;touch ${mark}|cat`;
    // What printf prints when nothing interprets ";" or "|": its arguments, joined.
    const passphrase = `secret;touch${mark}|cat`;
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey'], { env: { CAIRN_PASSPHRASE: passphrase } });
    const env = { CAIRN_PASSPHRASE: undefined, CAIRN_PASSCOMMAND: command };
    const r = await cairn(['-r', ws.repo, 'rlist'], { env });
    assert.equal(r.code, 0, r.stderr);
    await assert.rejects(stat(mark), { code: 'ENOENT' });
  } finally {
    await ws.cleanup();
  }
});

test('an empty or missing passphrase is one clear line, said once (exit 2)', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    const cases: NodeJS.ProcessEnv[] = [
      { CAIRN_PASSPHRASE: '' },
      { CAIRN_PASSPHRASE: undefined, CAIRN_PASSCOMMAND: 'printf ""' },
      { CAIRN_PASSPHRASE: undefined },
    ];
    for (const env of cases) {
      const r = await cairn(['-r', ws.repo, 'rlist'], { env });
      assert.equal(r.code, 2, JSON.stringify(env));
      const line = oneLine(r.stderr);
      assert.doesNotMatch(line, /Argon2id|invalid option/, line);
      assert.ok(line.split('CAIRN_PASSPHRASE').length <= 2, `said once: ${line}`);
    }
  } finally {
    await ws.cleanup();
  }
});
