import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cap, logSplits, nearestIndex, drawable, zeroCounts, offChartNote, SCALE_CAP, LOG_FLOOR } from '../../main/resources/webroot/js/axes.mjs';

test('cap keeps a scale within ±1e15, and above 1e-300 on a log scale', () => {
  assert.equal(cap(1e308, false), SCALE_CAP);
  assert.equal(cap(-1e308, false), -SCALE_CAP);
  assert.equal(cap(0, true), LOG_FLOOR);
  assert.equal(cap(0.5, true), 0.5);
});

test('logSplits: 1, 2 and 5 in a narrow range; every n-th decade in a wide one; nothing for log10(0)', () => {
  assert.deepEqual(logSplits(0.01, 1), [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]);
  const wide = logSplits(1e-5, 1e300);
  assert.ok(wide.length <= 8 && wide.length >= 5, wide.join());
  assert.deepEqual(logSplits(0, 1), []);
  assert.deepEqual(logSplits(5e-324, 1).length > 0, true);
});

test('nearestIndex: binary search, the later of two as near', () => {
  const xs = [1, 3, 10, 20];
  assert.equal(nearestIndex(xs, 0), 0);
  assert.equal(nearestIndex(xs, 2), 1);
  assert.equal(nearestIndex(xs, 1.9), 0);
  assert.equal(nearestIndex(xs, 6), 1);
  assert.equal(nearestIndex(xs, 16), 3);
  assert.equal(nearestIndex(xs, 99), 3);
});

test('drawable counts what runs off a chart and says so', () => {
  const c = zeroCounts();
  const out = [undefined, null, NaN, 1, -1, 0, 1e16, 1e-310, 1e301].map(v => drawable(v, true, c));
  assert.deepEqual(out, [undefined, null, null, 1, null, null, 1e16, 1e-310, null]);
  assert.deepEqual(c, { nonPositive: 2, offScale: 2, tiny: 1, drawn: 3 });
  assert.equal(offChartNote(c), '2 values ≤ 0 not drawn (log scale); 2 values beyond ±1e15 run off the chart;'
    + ' 1 values below 1e-300 run off the chart');
  assert.equal(offChartNote(zeroCounts()), '');
});
