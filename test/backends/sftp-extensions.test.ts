/**
 * SFTP servers without OpenSSH's posix-rename@openssh.com and hardlink@openssh.com, modelled
 * with the real OpenSSH server (localstack/sftp/start.mjs):
 *  - refused but still advertised: `internal-sftp -P posix-rename,hardlink` (SFTP_DENY), as an
 *    sshd_config may set (sftp-server's -P takes request names: `sftp-server -Q requests`);
 *  - not offered at all, plain rename refusing an existing target as protocol v3 says (SFTP_HIDE,
 *    localstack/sftp/filter.mjs in front of sftp-server);
 *  - not offered, plain rename replacing the target (SFTP_RENAME_REPLACES), as many non-OpenSSH
 *    servers do.
 * Where the server can still publish atomically the conformance cases on the put paths the mode
 * changes pass (see below); where it cannot, every write is refused with UnsupportedStoreError
 * naming the missing extension, and nothing is left in the store.
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

/*
 * What the modes change, and so which conformance cases run under them. SFTP_DENY, SFTP_HIDE and
 * SFTP_RENAME_REPLACES act only on the extended requests posix-rename@openssh.com,
 * hardlink@openssh.com and fsync@openssh.com and on plain SSH_FXP_RENAME (filter.mjs relays every
 * other packet unchanged; internal-sftp -P refuses only the named requests). In
 * backends/sftp/index.ts only put() sends those: #writeTemp (the fsync), the publishing step
 * (posix-rename to replace, hardlink for ifAbsent, else plain rename) and the probe of
 * #publishingOf that a client's first put runs. get, stat, list, delete, create, destroy and
 * close send none of them, so their cases prove nothing more here than in sftp.test.ts, which
 * runs the whole suite on OpenSSH as it is. Each mode runs the cases on the put paths it changes:
 *  - no hardlink offered, rename refuses an existing target: create-only puts publish by plain
 *    rename, chosen by the probe; replacing puts still use posix-rename. Cases: ifAbsent writes
 *    and refusals, and concurrent first puts sharing one probe.
 *  - no posix-rename nor fsync offered, rename replaces: every put changes (no fsync, replace by
 *    plain rename, create-only by hardlink after the probe). Cases: empty, small and replaced
 *    values, a replacement never seen half-written, ifAbsent writes and refusals, concurrent puts.
 * The race of create-only writers from separate clients is this file's own test, run in every
 * mode that can publish (8 clients, 10 rounds), so the suite's 20-client race is not repeated.
 */
const NO_HARDLINK_CASES = ['put with ifAbsent writes a new key', 'concurrent plain puts of one key'];
const NO_POSIX_RENAME_CASES = ['round trip of an empty value', 'round trip of a small value', 'put overwrites', 'never show a half-written object', ...NO_HARDLINK_CASES];

const modes: { name: string; env: Record<string, string>; refused?: string; conformance?: readonly string[] }[] = [
  { name: 'both refused though advertised (internal-sftp -P)', env: { SFTP_DENY: 'posix-rename,hardlink' }, refused: POSIX_RENAME },
  { name: 'none offered, rename refuses an existing target', env: { SFTP_HIDE: `${POSIX_RENAME},${HARDLINK},${FSYNC}` }, refused: POSIX_RENAME },
  { name: 'none offered, rename replaces', env: { SFTP_HIDE: `${POSIX_RENAME},${HARDLINK},${FSYNC}`, SFTP_RENAME_REPLACES: '1' }, refused: HARDLINK },
  { name: 'no hardlink offered (rename refuses an existing target)', env: { SFTP_HIDE: HARDLINK }, conformance: NO_HARDLINK_CASES },
  { name: 'hardlink refused though advertised (internal-sftp -P)', env: { SFTP_DENY: 'hardlink' } },
  { name: 'no posix-rename nor fsync offered, rename replaces', env: { SFTP_HIDE: `${POSIX_RENAME},${FSYNC}`, SFTP_RENAME_REPLACES: '1' }, conformance: NO_POSIX_RENAME_CASES },
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
    // The conformance cases on the put paths the mode changes (see above); the race and a replace in every mode.
    if (mode.conformance) conformanceSuite(`sftp, ${mode.name}`, make, { largeBytes: 16 * 1024 * 1024, only: mode.conformance });
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
