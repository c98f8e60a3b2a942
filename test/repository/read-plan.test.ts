import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planRuns } from '../../src/repository/read-plan.js';

test('planRuns joins near neighbours, splits at a wide gap or a long span, keeps every entry once', () => {
  const e = (index: number, offset: number, size: number) => ({ index, offset, size });
  const runs = planRuns([e(0, 300, 100), e(1, 0, 100), e(2, 100, 100), e(3, 5000, 10), e(4, 5010, 10), e(5, 9000, 2000)], 1000, 1500);
  assert.deepEqual(runs.map((r) => r.map((x) => x.index)), [[1, 2, 0], [3, 4], [5]]);
  assert.deepEqual(planRuns([]), []);
  const many = Array.from({ length: 100 }, (_, i) => e(i, i * 100, 100));
  assert.deepEqual(planRuns(many, 0, 1000).map((r) => r.length), Array(10).fill(10));
});
