/** Conformance cases on listings: prefixes, byte order across nesting, pagination, no half-written objects. */
import assert from 'node:assert/strict';
import { compareKeys } from '../../src/store/keys.js';
import { NotFoundError } from '../../src/store/errors.js';
import { assertBytes, collect, forEachLimited, patternBytes, withStore, test, type MakeBackend } from './helpers.js';

/** `count` keys over several "folders", with characters that sort differently from folder order. */
function manyKeys(count: number): string[] {
  const keys: string[] = [];
  const tails = ['', '-x', '.x', '0', '=', 'A', '_', 'a', '/z'];
  for (let i = 0; i < count; i++) {
    const hex = i.toString(16).padStart(4, '0');
    keys.push(`many/${hex.slice(0, 2)}/${hex}${tails[i % tails.length]}`);
  }
  return keys;
}

export function registerListCases(make: MakeBackend, settings: { largeBytes: number; caseInsensitive?: boolean; listKeys: number }): void {
  test('list over many keys (several pages): every key once, with sizes, in byte order, by prefix', () => withStore(make, async (b) => {
    const keys = manyKeys(settings.listKeys);
    await forEachLimited(keys, 16, (key) => b.put(key, patternBytes(key.length, 1)));
    await b.put('manz', patternBytes(1));
    await b.put('man', patternBytes(2));
    const expected = [...keys].sort(compareKeys);

    const all = await collect(b.list('many/'));
    assert.deepEqual(all.map((e) => e.key), expected);
    for (const entry of all) assert.equal(entry.size, entry.key.length, `size of ${entry.key}`);

    assert.deepEqual((await collect(b.list(''))).map((e) => e.key), [...expected, 'man', 'manz'].sort(compareKeys));
    assert.deepEqual((await collect(b.list('many'))).map((e) => e.key), expected);
    assert.deepEqual((await collect(b.list('man'))).map((e) => e.key), ['man', ...expected, 'manz'].sort(compareKeys));
    const middle = Math.floor(settings.listKeys / 2).toString(16).padStart(4, '0');
    const prefix = `many/${middle.slice(0, 2)}/${middle.slice(0, 3)}`;
    const sub = expected.filter((k) => k.startsWith(prefix));
    assert.ok(sub.length > 1);
    assert.deepEqual((await collect(b.list(prefix))).map((e) => e.key), sub);
    assert.deepEqual(await collect(b.list('many/zz')), []);
    assert.deepEqual(await collect(b.list('nothing/')), []);
  }));

  const caseSkip = settings.caseInsensitive ? { skip: 'the store folds case: case-distinct keys collide' } : {};
  test('list orders by the full key bytes, not folder by folder', caseSkip, () => withStore(make, async (b) => {
    // '/' (0x2f) sorts after '-' and '.', before digits, '=', letters and '_'.
    // No key is also the "folder" of another (`k/a` beside `k/a/b`): file systems cannot hold both.
    const keys = ['k/b', 'k/a/b', 'k-a', 'k.a', 'k0', 'k=', 'kA', 'k_', 'ka', 'k/-', 'k/A/B/C', 'k/a-', 'k/a.b', 'k/a0', 'k/ab/c'];
    for (const key of keys) await b.put(key, patternBytes(1));
    assert.deepEqual((await collect(b.list(''))).map((e) => e.key), [...keys].sort(compareKeys));
    assert.deepEqual((await collect(b.list('k/a'))).map((e) => e.key), ['k/a-', 'k/a.b', 'k/a/b', 'k/a0', 'k/ab/c']);
  }));

  test('list and get never show a half-written object', () => withStore(make, async (b) => {
    const size = Math.min(settings.largeBytes, 16 * 1024 * 1024);
    const oldValue = patternBytes(1024, 5);
    const newValue = patternBytes(size, 6);
    await b.put('hw/over', oldValue);
    const seen = new Set<number>();
    let done = false;
    const puts = Promise.all([b.put('hw/new', newValue), b.put('hw/over', newValue)]).finally(() => { done = true; });
    let probes = 0;
    while (!done || probes === 0) {
      probes += 1;
      for (const entry of await collect(b.list('hw/'))) {
        assert.ok(entry.key === 'hw/new' || entry.key === 'hw/over', `unexpected key ${entry.key}`);
        assert.ok(entry.size === size || (entry.key === 'hw/over' && entry.size === oldValue.length), `partial size ${entry.size}`);
        seen.add(entry.size);
      }
      const st = await b.stat('hw/new');
      assert.ok(st === undefined || st.size === size, `stat saw partial size ${st?.size}`);
      if (probes % 8 === 1) {
        try {
          const got = await b.get('hw/new');
          assertBytes(got, newValue, 'get during put');
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
        }
      }
    }
    await puts;
    assert.deepEqual((await collect(b.list('hw/'))).map(({ key, size: n }) => ({ key, size: n })), [{ key: 'hw/new', size }, { key: 'hw/over', size }]);
  }));
}
