import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xOf, interpolate, fmtDuration, fmtX, extent, epochMetric, fitRange } from '../../main/resources/webroot/js/xaxis.mjs';

test('x in each mode: steps, wall time in s, time since the first step, progress, epoch', () => {
  const steps = [1, 50, 100], t = [1000, 6000, 11000];
  const run = { t0: 1000, total: 200, epoch: { step: [50, 100], value: [1, 2] } };
  assert.deepEqual(xOf('step', steps, t, run), [1, 50, 100]);
  assert.deepEqual(xOf('time', steps, t, run), [1, 6, 11]);
  assert.deepEqual(xOf('relative', steps, t, run), [0, 5, 10]);
  assert.deepEqual(xOf('progress', steps, t, run), [0.005, 0.25, 0.5]);
  assert.deepEqual(xOf('epoch', steps, t, run), [0.02, 1, 2]);
  assert.deepEqual(xOf('epoch', steps, t, { ...run, epoch: null }), [null, null, null], 'no epoch logged: no x');
  assert.deepEqual(xOf('progress', steps, t, { ...run, total: 0 }), [null, null, null]);
});

test('the epoch between, before and after the points logged', () => {
  const e = { step: [100, 200, 300], value: [1, 2, 3] };
  assert.equal(interpolate(e, 150), 1.5);
  assert.equal(interpolate(e, 50), 0.5, 'from 0 at step 0');
  assert.equal(interpolate(e, 400), 4, 'on at the pace so far');
  assert.equal(interpolate({ step: [10], value: [0] }, 20), 0);
});

test('durations and x labels', () => {
  assert.equal(fmtDuration(45), '45 s');
  assert.equal(fmtDuration(185), '3:05');
  assert.equal(fmtDuration(3725), '1:02:05');
  assert.equal(fmtDuration(2 * 86400 + 3 * 3600 + 5), '2d 3h');
  assert.equal(fmtX('progress', 0.5), '50%');
  assert.equal(fmtX('step', 1200), '1200');
  assert.equal(fmtX('epoch', null), '–');
});

test('the y extent within an x window, log scales skipping values ≤ 0', () => {
  const curves = [{ x: [1, 2, 3, 4], y: [10, 5, NaN, 1] }, { x: [2, 3], y: [0, 7] }];
  assert.deepEqual(extent(curves, null, null, false), [0, 10]);
  assert.deepEqual(extent(curves, 2, 3, false), [0, 7]);
  assert.deepEqual(extent(curves, 2, 3, true), [5, 7]);
  assert.equal(extent(curves, 10, 20, false), null);
});

test('the epoch metric by its name', () => {
  assert.equal(epochMetric(['val/acc', 'train/epoch']), 'train/epoch');
  assert.equal(epochMetric(['epoch', 'train/epoch']), 'epoch');
  assert.equal(epochMetric(['epochs_left']), null);
});

test('one long run does not squash the others: the x range fits them, the long one named', () => {
  const short = k => ({ id: `s${k}`, min: 1, max: 1000 + k });
  const ends = [short(0), short(1), short(2), { id: 'long', min: 1, max: 100000 }, short(3)];
  assert.deepEqual(fitRange(ends), { range: [1, 1003], beyond: ['long'] });
  assert.equal(fitRange([short(0), { id: 'long', min: 1, max: 100000 }]), null, 'two runs: both shown');
  assert.equal(fitRange([short(0), short(1), short(2), { id: 'a', min: 1, max: 3900 }]), null, 'under 4× the median: all fit');
  const half = [short(0), short(1), { id: 'l1', min: 1, max: 1e5 }, { id: 'l2', min: 1, max: 1e5 }];
  assert.equal(fitRange(half), null, 'half the runs long: not outliers, all shown');
  const many = [...Array(40).keys()].map(short).concat([...Array(10).keys()].map(k => ({ id: `l${k}`, min: 0, max: 1e5 + k })));
  const f = fitRange(many);
  assert.deepEqual(f.range, [0, 1039]);
  assert.equal(f.beyond.length, 10);
  assert.equal(f.beyond[0], 'l9', 'the longest first');
  assert.equal(fitRange([short(0), short(1), { id: 'n', min: NaN, max: NaN }]), null, 'runs without an x do not count');
});
