/** Conformance cases on conditional writes: ifAbsent refusal and a 20-client race with one winner. */
import assert from 'node:assert/strict';
import type { Backend } from '../../src/store/backend.js';
import { AlreadyExistsError } from '../../src/store/errors.js';
import { assertBytes, assertRejects, collect, patternBytes, withStore, test, type MakeBackend } from './helpers.js';

export const RACERS = 20;

export function registerConcurrencyCases(make: MakeBackend, _settings: { largeBytes: number }): void {
  test('put with ifAbsent writes a new key and refuses an existing one', () => withStore(make, async (b) => {
    await b.put('lock', patternBytes(10, 1), { ifAbsent: true });
    const err = await assertRejects(b.put('lock', patternBytes(20, 2), { ifAbsent: true }), AlreadyExistsError, 'EALREADY_EXISTS');
    assert.equal(err.key, 'lock');
    assert.equal(err.transient, false);
    assertBytes(await b.get('lock'), patternBytes(10, 1), 'first value kept');
    await b.put('lock', patternBytes(30, 3), { ifAbsent: false }); // a plain put still overwrites
    assertBytes(await b.get('lock'), patternBytes(30, 3));
    await b.delete('lock');
    await b.put('lock', patternBytes(40, 4), { ifAbsent: true }); // free again after delete
    assertBytes(await b.get('lock'), patternBytes(40, 4));
  }));

  test(`${RACERS} concurrent ifAbsent puts of one key from ${RACERS} clients: exactly one winner`, () => withStore(make, async (_b, root) => {
    const clients: Backend[] = [];
    try {
      for (let i = 0; i < RACERS; i++) clients.push(await make(root));
      for (const round of [1, 2]) {
        const key = `race/${round}`;
        // Values differ in size and content so the winner's bytes are identifiable.
        const values = clients.map((_, i) => patternBytes(1000 + i * 37, round * 100 + i));
        const results = await Promise.allSettled(clients.map((c, i) => c.put(key, values[i] as Uint8Array, { ifAbsent: true })));
        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        assert.equal(winners.length, 1, `round ${round}: ${winners.length} winners`);
        for (const r of results) {
          if (r.status === 'rejected') {
            assert.ok(r.reason instanceof AlreadyExistsError, `loser got ${String(r.reason?.name)}: ${String(r.reason?.message)}`);
            assert.equal(r.reason.code, 'EALREADY_EXISTS');
          }
        }
        const winner = winners[0] as number;
        for (const c of [clients[0], clients[RACERS - 1]] as Backend[]) {
          assertBytes(await c.get(key), values[winner] as Uint8Array, 'winner value');
        }
      }
      assert.deepEqual((await collect((clients[3] as Backend).list('race/'))).map((e) => e.key), ['race/1', 'race/2']);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  }));

  test('concurrent plain puts of one key leave one whole value', () => withStore(make, async (b) => {
    const values = Array.from({ length: 8 }, (_, i) => patternBytes(100_000 + i, i + 50));
    await Promise.all(values.map((v) => b.put('same', v)));
    const got = await b.get('same');
    assert.ok(values.some((v) => v.length === got.length && Buffer.from(v).equals(got)), 'a whole value, never a mix');
  }));
}
