import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregate } from '../../main/resources/webroot/js/aggregate.mjs';

test('the mean and range of a group on a common grid, each run within its own span', () => {
  const a = { x: [0, 10], y: [1, 3] }, b = { x: [0, 5], y: [3, 5] };
  const g = aggregate([a, b], 3);
  assert.deepEqual(g.x, [0, 5, 10]);
  assert.deepEqual(g.mean, [2, 3, 3], 'at 5: a holds 1, b is 5; at 10 b has ended');
  assert.deepEqual(g.min, [1, 1, 3]);
  assert.deepEqual(g.max, [3, 5, 3]);
  assert.deepEqual(g.n, [2, 2, 1]);
});

test('non-finite values say nothing; a log mean is geometric', () => {
  const g = aggregate([{ x: [0, 1], y: [NaN, 100] }, { x: [0, 1], y: [1, 1] }], 2, true);
  assert.equal(g.mean[0], 1);
  assert.ok(Math.abs(g.mean[1] - 10) < 1e-12, String(g.mean[1]));
  assert.deepEqual(aggregate([{ x: [], y: [] }]).x, []);
});
