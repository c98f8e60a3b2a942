/** Conformance cases on the key grammar: every allowed character works, every invalid key is rejected. */
import assert from 'node:assert/strict';
import { InvalidKeyError } from '../../src/store/errors.js';
import { KEY_ALPHABET, MAX_KEY_LENGTH } from '../../src/store/keys.js';
import { assertBytes, assertRejects, collect, patternBytes, withStore, test, type MakeBackend } from './helpers.js';

const seg = (c: string, n: number) => c.repeat(n);

/** Valid keys covering every character, every allowed first character, nesting and maximum lengths. */
export const VALID_KEYS: readonly string[] = [
  `all/${KEY_ALPHABET}`,
  ...[...KEY_ALPHABET].filter((c) => c !== '.').map((c) => `first/${c}`),
  'dots/a.', 'dots/a..b', 'dots/x.y.z', 'eq/a=b=', 'deep/a/b/c/d/e/f/g/h',
  'Case', 'case', 'CASE',
  [seg('a', 128), seg('b', 128), seg('c', 128), seg('d', 125)].join('/'), // exactly MAX_KEY_LENGTH
];

/** Keys that break the grammar: each must be refused, never rewritten. */
export const INVALID_KEYS: readonly string[] = [
  '', '/', '/a', 'a/', 'a//b', '.', '..', '.a', 'a/.b', 'a/..', 'a/../b', './a',
  'a b', 'a\\b', 'a:b', 'a*b', 'a?b', 'ä', 'a\u0000b', 'a\nb', 'a%2Fb', 'a+b', '~a',
  seg('x', 129), `${seg('a', 128)}/${seg('b', 128)}/${seg('c', 128)}/${seg('d', 126)}`,
];

const INVALID_PREFIXES: readonly string[] = ['/a', '.a', 'a/.b', 'a//b', 'a b', 'ä', 'a\\', seg('x', MAX_KEY_LENGTH + 1)];

export function registerKeyCases(make: MakeBackend, settings: { caseInsensitive: boolean } = { caseInsensitive: false }): void {
  const caseSkip = settings.caseInsensitive ? { skip: 'the store folds case: case-distinct keys collide' } : {};
  test('keys with every allowed character round-trip and list', caseSkip, () => withStore(make, async (b) => {
    assert.equal(VALID_KEYS.at(-1)?.length, MAX_KEY_LENGTH);
    for (const [i, key] of VALID_KEYS.entries()) await b.put(key, patternBytes(i + 1, i));
    for (const [i, key] of VALID_KEYS.entries()) {
      assertBytes(await b.get(key), patternBytes(i + 1, i), key);
      assert.equal((await b.stat(key))?.size, i + 1, key);
    }
    const listed = (await collect(b.list(''))).map((e) => e.key);
    assert.deepEqual(new Set(listed), new Set(VALID_KEYS));
    assert.equal(listed.length, VALID_KEYS.length, 'case-distinct keys stay distinct');
  }));

  test('invalid keys and prefixes are rejected with InvalidKeyError before any I/O', () => withStore(make, async (b) => {
    for (const key of INVALID_KEYS) {
      const err = await assertRejects(b.put(key, patternBytes(1), { ifAbsent: false }), InvalidKeyError, 'EINVALID_KEY');
      assert.equal(err.transient, false);
      await assertRejects(b.put(key, patternBytes(1), { ifAbsent: true }), InvalidKeyError, 'EINVALID_KEY');
      await assertRejects(b.get(key), InvalidKeyError, 'EINVALID_KEY');
      await assertRejects(b.get(key, { offset: 0, length: 1 }), InvalidKeyError, 'EINVALID_KEY');
      await assertRejects(b.stat(key), InvalidKeyError, 'EINVALID_KEY');
      await assertRejects(b.delete(key), InvalidKeyError, 'EINVALID_KEY');
    }
    for (const prefix of INVALID_PREFIXES) {
      await assertRejects(collect(b.list(prefix)), InvalidKeyError, 'EINVALID_KEY');
    }
    assert.deepEqual(await collect(b.list('')), [], 'nothing was written');
  }));
}
