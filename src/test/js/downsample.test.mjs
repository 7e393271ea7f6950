import { test } from 'node:test';
import assert from 'node:assert/strict';
import { thin, bound, below, above } from '../../main/resources/webroot/js/downsample.mjs';

test('thin halves a table, keeping each four rows\' lowest and highest loss in order, and the last row', () => {
  const n = 9001, s = { step: [], loss: [], t: [] };
  for (let i = 1; i <= n; i++) {
    s.step.push(i);
    s.loss.push(i === 5001 ? 1e-6 : i === 7002 ? 1e6 : 1 + 0.01 * Math.sin(i));
    s.t.push(i * 10);
  }
  thin(s);
  assert.ok(s.step.length <= n / 2 + 2 && s.step.length >= n / 4);
  assert.equal(s.loss[s.step.indexOf(5001)], 1e-6, 'the dip survives');
  assert.equal(s.loss[s.step.indexOf(7002)], 1e6, 'the spike survives');
  assert.equal(s.step[s.step.length - 1], n, 'the last row stays');
  assert.ok(s.step.every((x, i) => i === 0 || x > s.step[i - 1]), 'in order');
  assert.ok(s.step.every((x, i) => s.t[i] === x * 10), 'the columns stay aligned');
});

test('NaN counts highest, a missing value never wins', () => {
  assert.ok(above(NaN, 5));
  assert.ok(!above(null, 5));
  assert.ok(above(5, null));
  assert.ok(below(1, NaN));
  assert.ok(!below(null, 1));
  const s = { step: [1, 2, 3, 4, 5], loss: [1, NaN, 2, null, 3] };
  thin(s);
  assert.ok(s.loss.some(Number.isNaN), 'the NaN is kept: it is the highest');
});

test('bound thins until at most max rows, by any column', () => {
  const s = { step: Array.from({ length: 10000 }, (_, i) => i + 1), value: Array.from({ length: 10000 }, (_, i) => i % 7) };
  bound(s, 1000, 'value');
  assert.ok(s.step.length <= 1000 && s.value.length === s.step.length);
});

test('merge: every step of either, the newer read where both have one, in order', async () => {
  const { merge } = await import('../../main/resources/webroot/js/downsample.mjs');
  const a = { step: [1, 3, 5], t: [10, 30, 50], value: [1, 3, 5] }, b = { step: [3, 4, 6], t: [31, 40, 60], value: [33, 4, 6] };
  assert.deepEqual(merge(a, b), { step: [1, 3, 4, 5, 6], t: [10, 31, 40, 50, 60], value: [1, 33, 4, 5, 6] });
  assert.deepEqual(merge({ step: [], t: [], value: [] }, a), a);
});

test('a sparse column keeps each four rows\' last measurement when thinning drops its row', () => {
  const n = 4001, s = { step: [], loss: [], stability: [] };
  for (let i = 1; i <= n; i++) {
    s.step.push(i);
    s.loss.push(1 + 0.01 * Math.sin(i));
    s.stability.push(i % 7 === 0 ? i / 1000 : undefined);   // measured every 7 steps
  }
  bound(s, 1000, 'loss', ['stability']);
  const kept = s.stability.filter(v => v !== undefined).length;
  assert.ok(s.step.length <= 1000);
  assert.ok(kept >= s.step.length / 8, `${kept} measurements of ${s.step.length} rows`);
  assert.ok(s.stability.every(v => v === undefined || Math.abs(v * 1000 - Math.round(v * 1000)) < 1e-9), 'measured values only');
});
