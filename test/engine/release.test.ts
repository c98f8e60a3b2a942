/** releaseBytes: frees a buffer's memory now when the view is the whole buffer, and touches nothing else. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { releaseBytes } from '../../src/engine/index.js';

/** Node 22+ can detach an ArrayBuffer (`transfer`); Node 20 cannot, and there releaseBytes does nothing. */
const canFree = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';

test('a view that is the whole of its buffer is freed at once (Node 22+); on Node 20 it is left as it was', () => {
  const bytes = new Uint8Array(1024 * 1024).fill(7);
  releaseBytes(bytes);
  if (canFree) {
    assert.equal((bytes.buffer as ArrayBuffer & { detached: boolean }).detached, true);
    assert.equal(bytes.byteLength, 0);
  } else {
    assert.equal(bytes.byteLength, 1024 * 1024);
    assert.equal(bytes[1000], 7);
  }
  // Twice is harmless (a chunk released by two owners by mistake must not throw).
  releaseBytes(bytes);
});

test('a view into a larger buffer, a slice of Node\'s buffer pool and a SharedArrayBuffer are left alone', () => {
  const whole = new Uint8Array(4096).fill(1);
  const part = whole.subarray(0, 2048);
  releaseBytes(part);
  assert.equal(whole.byteLength, 4096);
  assert.equal(part.byteLength, 2048);

  const pooled = Buffer.from('abc');
  const neighbour = Buffer.from('def');
  assert.ok(pooled.buffer.byteLength > pooled.byteLength, 'small Buffers come from the pool');
  releaseBytes(pooled);
  assert.equal(pooled.toString(), 'abc');
  assert.equal(neighbour.toString(), 'def');

  const shared = new Uint8Array(new SharedArrayBuffer(64)).fill(9);
  releaseBytes(shared);
  assert.equal(shared.byteLength, 64);
  assert.equal(shared[63], 9);
});
