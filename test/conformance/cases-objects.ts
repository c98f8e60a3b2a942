/** Conformance cases on single objects: round trips, ranges, missing keys, overwrite, delete, stat (size and store time). */
import assert from 'node:assert/strict';
import { InvalidRangeError, NotFoundError } from '../../src/store/errors.js';
import { assertBytes, assertRejects, collect, patternBytes, withStore, test, type MakeBackend } from './helpers.js';

export function registerObjectCases(make: MakeBackend, settings: { largeBytes: number; timeResolutionMs: number }): void {
  test('round trip of an empty value', () => withStore(make, async (b) => {
    await b.put('empty', new Uint8Array(0));
    assertBytes(await b.get('empty'), new Uint8Array(0));
    assert.equal((await b.stat('empty'))?.size, 0);
  }));

  test('round trip of a small value, not aliased to caller buffers', () => withStore(make, async (b) => {
    const value = patternBytes(1000, 7);
    const input = value.slice();
    await b.put('dir/small', input);
    input.fill(0); // the store must have copied the bytes before put resolved
    const first = await b.get('dir/small');
    assertBytes(first, value);
    // A plain Uint8Array, not a Buffer: `slice` of a Buffer is a view, which kept whole segments alive.
    for (const got of [first, await b.get('dir/small', { offset: 10, length: 100 })]) assert.equal(Object.getPrototypeOf(got), Uint8Array.prototype);
    first.fill(0); // mutating a returned buffer must not change the stored object
    assertBytes(await b.get('dir/small'), value);
  }));

  test(`round trip of a large value (${settings.largeBytes} bytes) and ranges inside it`, () => withStore(make, async (b) => {
    const value = patternBytes(settings.largeBytes, 3);
    await b.put('large', value);
    assertBytes(await b.get('large'), value, 'large value');
    assert.equal((await b.stat('large'))?.size, settings.largeBytes);
    const mid = Math.floor(settings.largeBytes / 2) + 1;
    assertBytes(await b.get('large', { offset: mid, length: 4096 }), value.subarray(mid, mid + 4096), 'large range');
  }));

  test('ranges at start, middle, end and past the end', () => withStore(make, async (b) => {
    const value = patternBytes(10_000, 11);
    await b.put('r', value);
    const cases: [number, number][] = [
      [0, 10], [0, 0], [0, 10_000], [4_321, 1_000], [9_990, 10], [9_995, 100],
      [0, 20_000], [10_000, 5], [12_345, 10], [9_999, 1],
    ];
    for (const [offset, length] of cases) {
      const got = await b.get('r', { offset, length });
      assertBytes(got, value.subarray(offset, offset + length), `range ${offset}+${length}`);
    }
  }));

  test('invalid ranges are rejected with InvalidRangeError', () => withStore(make, async (b) => {
    await b.put('r', patternBytes(100));
    for (const range of [{ offset: -1, length: 1 }, { offset: 0, length: -1 }, { offset: 1.5, length: 1 }]) {
      await assertRejects(b.get('r', range), InvalidRangeError, 'EINVALID_RANGE');
    }
  }));

  test('a missing key is NotFoundError for get (with or without range); stat gives undefined', () => withStore(make, async (b) => {
    const err = await assertRejects(b.get('no/such'), NotFoundError, 'ENOTFOUND_KEY');
    assert.equal(err.key, 'no/such');
    assert.equal(err.transient, false);
    await assertRejects(b.get('no/such', { offset: 0, length: 1 }), NotFoundError, 'ENOTFOUND_KEY');
    assert.equal(await b.stat('no/such'), undefined);
    await b.put('no/other', patternBytes(3));
    await assertRejects(b.get('no/such'), NotFoundError, 'ENOTFOUND_KEY');
    await assertRejects(b.get('no'), NotFoundError, 'ENOTFOUND_KEY'); // a "folder" is not an object
  }));

  test('put overwrites; stat follows', () => withStore(make, async (b) => {
    await b.put('o', patternBytes(5000, 1));
    await b.put('o', patternBytes(10, 2));
    assertBytes(await b.get('o'), patternBytes(10, 2));
    assert.equal((await b.stat('o'))?.size, 10);
    await b.put('o', new Uint8Array(0));
    assert.equal((await b.stat('o'))?.size, 0);
  }));

  test('delete removes; deleting twice or a never-written key succeeds', () => withStore(make, async (b) => {
    await b.put('d/x', patternBytes(10));
    await b.put('d/y', patternBytes(10));
    await b.delete('d/x');
    await b.delete('d/x');
    await b.delete('never/written/key');
    await assertRejects(b.get('d/x'), NotFoundError, 'ENOTFOUND_KEY');
    assert.equal(await b.stat('d/x'), undefined);
    assertBytes(await b.get('d/y'), patternBytes(10), 'sibling survives');
    await b.delete('d/y');
    await b.put('d/x', patternBytes(4, 9)); // the key can be written again after delete
    assertBytes(await b.get('d/x'), patternBytes(4, 9));
  }));

  test('stat gives the exact size of each object', () => withStore(make, async (b) => {
    for (const size of [0, 1, 4095, 4096, 65_537]) {
      await b.put(`s/${size}`, patternBytes(size, size));
      assert.equal((await b.stat(`s/${size}`))?.size, size);
    }
    assert.equal(await b.stat('s/7'), undefined);
    assert.equal(await b.stat('s'), undefined);
  }));

  // Locks judge staleness by the store's time (docs/adr/0055-lock-staleness-by-store-time.md).
  test('stat and list report when an object was last written, by the store\'s clock; an overwrite moves it on', () => withStore(make, async (b) => {
    // The local test servers share this machine's clock; stores keep whole seconds at least (FAT: even seconds).
    const step = settings.timeResolutionMs;
    const before = Date.now();
    await b.put('m/a', patternBytes(10, 1));
    const after = Date.now();
    const first = await b.stat('m/a');
    assert.ok(first && Number.isFinite(first.modified), `modified is a number: ${String(first?.modified)}`);
    assert.ok(first.modified >= Math.floor(before / step) * step - 1000 && first.modified <= after + 1000, `modified ${first.modified} within the put (${before}..${after})`);
    const [listed] = await collect(b.list('m/'));
    assert.equal(listed?.key, 'm/a');
    assert.ok(Math.abs((listed?.modified ?? Number.NaN) - first.modified) < 1000, `list ${listed?.modified} and stat ${first.modified} agree`);
    // One time step later (stores with whole seconds must see the difference), an overwrite is newer.
    await new Promise((r) => setTimeout(r, step + 100));
    await b.put('m/a', patternBytes(10, 2));
    const second = await b.stat('m/a');
    assert.ok(second && second.modified > first.modified, `overwrite: ${second?.modified} > ${first.modified}`);
    const [relisted] = await collect(b.list('m/'));
    assert.ok((relisted?.modified ?? 0) > first.modified, 'the listing follows the overwrite');
  }));
}
