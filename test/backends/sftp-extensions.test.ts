/**
 * SFTP servers without OpenSSH's posix-rename@openssh.com and hardlink@openssh.com, modelled
 * with the real OpenSSH server (localstack/sftp/start.mjs):
 *  - refused but still advertised: `internal-sftp -P posix-rename,hardlink` (SFTP_DENY), as an
 *    sshd_config may set (sftp-server's -P takes request names: `sftp-server -Q requests`);
 *  - not offered at all, plain rename refusing an existing target as protocol v3 says (SFTP_HIDE,
 *    localstack/sftp/filter.mjs in front of sftp-server);
 *  - not offered, plain rename replacing the target (SFTP_RENAME_REPLACES), as many non-OpenSSH
 *    servers do.
 * Where the server can still publish atomically the conformance suite passes; where it cannot,
 * every write is refused with UnsupportedStoreError naming the missing extension, and nothing is
 * left in the store.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createSftpBackend } from '../../backends/sftp/index.js';
import { AlreadyExistsError, UnsupportedStoreError } from '../../src/store/errors.js';
import { conformanceSuite } from '../conformance/suite.js';
import { inCI, startServer, type RunningServer } from '../helpers/servers.js';
import { sftpUrl } from './factories/sftp.js';
import { cairn } from '../cli/helpers.js';

const POSIX_RENAME = 'posix-rename@openssh.com';
const HARDLINK = 'hardlink@openssh.com';
const FSYNC = 'fsync@openssh.com';

async function serverWith(env: Record<string, string>): Promise<RunningServer | Error> {
  try {
    const server = (await startServer('sftp', { env })) as RunningServer;
    after(() => server.stop());
    return server;
  } catch (err) {
    if (inCI) throw err;
    return err as Error;
  }
}

const modes: { name: string; env: Record<string, string>; refused?: string; conformance?: boolean }[] = [
  { name: 'both refused though advertised (internal-sftp -P)', env: { SFTP_DENY: 'posix-rename,hardlink' }, refused: POSIX_RENAME },
  { name: 'none offered, rename refuses an existing target', env: { SFTP_HIDE: `${POSIX_RENAME},${HARDLINK},${FSYNC}` }, refused: POSIX_RENAME },
  { name: 'none offered, rename replaces', env: { SFTP_HIDE: `${POSIX_RENAME},${HARDLINK},${FSYNC}`, SFTP_RENAME_REPLACES: '1' }, refused: HARDLINK },
  { name: 'no hardlink offered (rename refuses an existing target)', env: { SFTP_HIDE: HARDLINK }, conformance: true },
  { name: 'hardlink refused though advertised (internal-sftp -P)', env: { SFTP_DENY: 'hardlink' } },
  { name: 'no posix-rename nor fsync offered, rename replaces', env: { SFTP_HIDE: `${POSIX_RENAME},${FSYNC}`, SFTP_RENAME_REPLACES: '1' }, conformance: true },
];

for (const mode of modes) {
  const server = await serverWith(mode.env);
  if (server instanceof Error) {
    test(`sftp ${mode.name}: server unavailable outside CI`, (t) => t.skip(server.message.split('\n')[0]));
    continue;
  }
  const make = (root: string) => createSftpBackend(sftpUrl(server.env, root));
  if (mode.refused) {
    const refused = mode.refused;
    describe(`sftp, ${mode.name}`, () => {
      test(`every write is refused with UnsupportedStoreError naming ${refused}; nothing is left`, async () => {
        const b = await make('refused');
        try {
          await b.create();
          for (const ifAbsent of [true, false]) {
            await assert.rejects(b.put('config', new Uint8Array([1, 2, 3]), { ifAbsent }), (err: Error & { code?: string }) => {
              assert.ok(err instanceof UnsupportedStoreError, String(err));
              assert.equal(err.code, 'ESTORE_UNSUPPORTED');
              assert.ok(err.message.includes(refused), err.message);
              return true;
            });
          }
          assert.deepEqual(await readdir(join(server.env.SFTP_ROOT!, 'refused')), []);
        } finally {
          await b.destroy();
          await b.close();
        }
      });

      test('cairn rcreate says so in one line and exits 2', async () => {
        const url = sftpUrl(server.env, 'cli-refused');
        const r = await cairn(['-r', url.href, 'rcreate', '--encryption', 'none']);
        assert.equal(r.code, 2, r.stderr);
        const lines = r.stderr.split('\n').filter((l) => l.startsWith('cairn:'));
        assert.equal(lines.length, 1, r.stderr);
        assert.ok(lines[0]!.includes(refused), lines[0]);
      });
    });
  } else {
    // The whole suite where the publishing path differs from OpenSSH's; the race and a replace elsewhere.
    if (mode.conformance) conformanceSuite(`sftp, ${mode.name}`, make, { largeBytes: 16 * 1024 * 1024 });
    test(`sftp, ${mode.name}: put replaces an object and create-only refuses an existing one`, async () => {
      const b = await make('replace');
      try {
        await b.create();
        await b.put('a/b', new Uint8Array([1]));
        await b.put('a/b', new Uint8Array([2, 2]));
        assert.deepEqual(Buffer.from(await b.get('a/b')), Buffer.from([2, 2]));
        await assert.rejects(b.put('a/b', new Uint8Array([3]), { ifAbsent: true }), AlreadyExistsError);
        await b.put('a/c', new Uint8Array([4]), { ifAbsent: true });
        assert.deepEqual(Buffer.from(await b.get('a/c')), Buffer.from([4]));
      } finally {
        await b.destroy();
        await b.close();
      }
    });
    test(`sftp, ${mode.name}: create-only puts racing from separate clients have exactly one winner`, async () => {
      const clients = await Promise.all(Array.from({ length: 8 }, () => make('race')));
      try {
        await clients[0]!.create();
        for (let round = 0; round < 10; round++) {
          const results = await Promise.allSettled(clients.map((c, i) => c.put(`locks/k${round}`, new Uint8Array(70_000).fill(i), { ifAbsent: true })));
          const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
          assert.equal(winners.length, 1, `round ${round}`);
          for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof AlreadyExistsError, String(r.reason));
          assert.deepEqual(Buffer.from(await clients[1]!.get(`locks/k${round}`)), Buffer.alloc(70_000, winners[0]!));
        }
      } finally {
        await clients[0]!.destroy();
        await Promise.all(clients.map((c) => c.close()));
      }
    });
  }
}
