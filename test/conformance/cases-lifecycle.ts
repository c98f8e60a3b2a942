/** Conformance cases on the store's life: create and destroy are idempotent; destroy removes everything. */
import assert from 'node:assert/strict';
import { NotFoundError, StoreMissingError } from '../../src/store/errors.js';
import { assertBytes, collect, patternBytes, uniqueRoot, test, type MakeBackend } from './helpers.js';

export function registerLifecycleCases(make: MakeBackend): void {
  test('create and destroy are idempotent; destroy removes every object', async () => {
    const root = uniqueRoot();
    const b = await make(root);
    try {
      await b.create();
      await b.create();
      await b.put('a/b/c', patternBytes(10));
      await b.put('top', patternBytes(5));
      await b.create(); // creating an existing store keeps its objects
      assertBytes(await b.get('a/b/c'), patternBytes(10));

      await b.destroy();
      await b.destroy();
      const other = await make(root); // another client sees the destruction too
      try {
        await assert.rejects(other.get('top'), (err) => err instanceof NotFoundError || err instanceof StoreMissingError);
      } finally {
        await other.close();
      }
      await b.create();
      assert.deepEqual(await collect(b.list('')), [], 'a re-created store is empty');
      assert.equal(await b.stat('top'), undefined);
    } finally {
      await b.destroy();
      await b.close();
      await b.close(); // close is idempotent
    }
  });

  test('destroy of a never-created store succeeds', async () => {
    const b = await make(uniqueRoot());
    try {
      await b.destroy();
    } finally {
      await b.close();
    }
  });

  test('stores with different roots are independent', async () => {
    const [r1, r2] = [uniqueRoot(), uniqueRoot()];
    const a = await make(r1);
    const c = await make(r2);
    try {
      await a.create();
      await c.create();
      await a.put('k', patternBytes(3, 1));
      assert.equal(await c.stat('k'), undefined);
      await c.put('k', patternBytes(4, 2));
      assertBytes(await a.get('k'), patternBytes(3, 1));
      await a.destroy();
      assertBytes(await c.get('k'), patternBytes(4, 2));
    } finally {
      await a.destroy();
      await c.destroy();
      await a.close();
      await c.close();
    }
  });
}
