// abortable() (read-item.ts), which lets SIGINT/SIGTERM end `create NAME -` and `import-tar NAME -` while standard
// input is an idle pipe: the abort ends a read that would wait for ever, also when it came before the first read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
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
