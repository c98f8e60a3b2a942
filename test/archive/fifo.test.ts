// The create queue's FIFO: order kept across compactions, iteration sees exactly what is queued.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fifo } from '../../src/archive/fifo.js';

test('Fifo keeps first-in first-out order through many pushes and shifts (past its compaction), and iterates what is queued', () => {
  const q = new Fifo<number>();
  assert.equal(q.shift(), undefined);
  assert.equal(q.peek(), undefined);
  let next = 0;
  let expected = 0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 700; i++) q.push(next++);
    for (let i = 0; i < 500; i++) {
      assert.equal(q.peek(), expected);
      assert.equal(q.shift(), expected++);
    }
    assert.equal(q.length, next - expected);
    assert.deepEqual([...q], Array.from({ length: next - expected }, (_, i) => expected + i));
  }
  while (q.length > 0) assert.equal(q.shift(), expected++);
  assert.equal(expected, next);
});

test('Fifo: 200 000 pushes and shifts take linear time (an array\'s shift made the create queue quadratic)', () => {
  const q = new Fifo<number>();
  const started = performance.now();
  for (let i = 0; i < 200_000; i++) q.push(i);
  for (let i = 0; i < 200_000; i++) assert.equal(q.shift(), i);
  assert.ok(performance.now() - started < 2_000, `${performance.now() - started} ms`);
});
