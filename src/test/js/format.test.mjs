import { test } from 'node:test';
import assert from 'node:assert/strict';
import { num, fmt, advisedLr, rewindText, sweepName, whatIf, isRangeTest } from '../../main/resources/webroot/js/format.mjs';

test('fmt: four significant digits, exponents outside [1e-3, 1e5), non-finite by name', () => {
  assert.equal(fmt(0.0042), '0.0042');
  assert.equal(fmt(1 / 3), '0.3333');
  assert.equal(fmt(0.00042), '4.2e-4');
  assert.equal(fmt(123456), '1.235e5');
  assert.equal(fmt(12345), '12350');
  assert.equal(fmt(0), '0');
  assert.equal(fmt(NaN), 'NaN');
  assert.equal(fmt(Infinity), '∞');
  assert.equal(fmt(-Infinity), '−∞');
  assert.equal(fmt(null), '–');
  assert.equal(fmt(undefined), '–');
});

test('num: wire values, the strings JSON needs for non-finite numbers included', () => {
  assert.equal(num(null), null);
  assert.equal(num(undefined), null);
  assert.equal(num(2.5), 2.5);
  assert.ok(Number.isNaN(num('NaN')));
  assert.equal(num('Infinity'), Infinity);
  assert.equal(num('-Infinity'), -Infinity);
});

test('advisedLr: retry_lr first, then suggested_lr; nothing that is not a positive finite number', () => {
  assert.equal(advisedLr({ diagnosis: { retry_lr: 0.01, suggested_lr: 0.1 } }), 0.01);
  assert.equal(advisedLr({ diagnosis: { suggested_lr: 0.1 } }), 0.1);
  assert.equal(advisedLr({ diagnosis: { retry_lr: -1 } }), null);
  assert.equal(advisedLr({ diagnosis: null }), null);
  assert.equal(advisedLr({}), null);
});

test('rewindText names the run, the steps, why and the lrs', () => {
  assert.equal(rewindText('guarded', { at: 120, to: 70, why: 'non_finite', lr_before: 1.1, lr_after: 0.11 }),
    'guarded: rewound at step 120 (non finite) to step 70, lr 1.1 → 0.11');
});

test('sweepName: the shared stem of its runs, or "lr sweep"', () => {
  assert.equal(sweepName(['u-curve lr=0.01', 'u-curve lr=0.1']), 'u-curve');
  assert.equal(sweepName(['a lr=0.01', 'b lr=0.1']), 'lr sweep');
});

test('whatIf and isRangeTest', () => {
  assert.equal(whatIf(10), 'what if ×10');
  assert.equal(whatIf(0.1), 'what if ÷10');
  assert.ok(isRangeTest({ spec: { schedule: { type: 'lr_range' } } }));
  assert.ok(!isRangeTest({ spec: {} }));
});
