// abortable() (read-item.ts), which lets SIGINT/SIGTERM end `create NAME -` and `import-tar NAME -` while standard
// input is an idle pipe: the abort ends a read that would wait for ever, also when it came before the first read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { abortable } from '../../src/archive/read-item.js';
import { InterruptedError } from '../../src/archive/errors.js';

/** A stream nobody writes to nor ends: an open, idle pipe. */
const idle = (): PassThrough => new PassThrough();

const interrupted = (signal: string) => (error: unknown): boolean => {
  assert.ok(error instanceof InterruptedError, String(error));
  assert.equal(error.code, 'EINTERRUPTED');
  assert.equal(error.signal, signal);
  return true;
};

test('a signal aborted before the first read ends an idle source at once (its abort event fired before anyone listened)', { timeout: 5000 }, async () => {
  const controller = new AbortController();
  controller.abort('SIGTERM');
  const source = idle();
  await assert.rejects(abortable(source, controller.signal).next(), interrupted('SIGTERM'));
});

test('a signal aborted while a read waits on an idle source ends the wait; the pieces before it came through', { timeout: 5000 }, async () => {
  const controller = new AbortController();
  const source = idle();
  source.write(Buffer.from('first'));
  const it = abortable(source, controller.signal);
  assert.deepEqual(Buffer.from((await it.next()).value as Uint8Array), Buffer.from('first'));
  const waiting = it.next();
  setTimeout(() => controller.abort('SIGINT'), 50);
  await assert.rejects(waiting, interrupted('SIGINT'));
});

test('pieces already handed on are not kept alive by the wait for the abort (memory stays bounded on a large file)', { timeout: 20000 }, async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const controller = new AbortController();
  const handedOut: WeakRef<Uint8Array>[] = [];
  async function* pieces(): AsyncGenerator<Uint8Array> {
    for (let i = 0; ; i++) {
      const piece = new Uint8Array(1024 * 1024);
      handedOut.push(new WeakRef(piece));
      yield piece;
    }
  }
  // Take 64 pieces of a file that is still being read, dropping each, then look at what is still alive.
  const it = abortable(pieces(), controller.signal);
  for (let i = 0; i < 64; i++) await it.next();
  for (let round = 0; round < 3; round++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const alive = handedOut.filter((ref) => ref.deref() !== undefined).length;
  // The generator's own frame may hold the last piece or two; every earlier one must be collectable.
  assert.ok(alive <= 2, `${alive} of ${handedOut.length} pieces of 1 MiB are still reachable`);
  await it.return(undefined);
});

test('a signal aborted while the consumer holds a piece ends the next wait on an idle source', { timeout: 5000 }, async () => {
  const controller = new AbortController();
  const source = idle();
  source.write(Buffer.from('first'));
  const it = abortable(source, controller.signal);
  await it.next();
  controller.abort('SIGTERM');
  await assert.rejects(it.next(), interrupted('SIGTERM'));
});
