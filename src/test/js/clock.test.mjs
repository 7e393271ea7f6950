import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../main/resources/webroot/js/clock.mjs';

test('the offset is the least (receive − send) of the window: an hour of skew is no lag', () => {
  const c = clock(10000), skew = 3600000;
  c.sample(1000, 1000 + skew + 50, 0);
  c.sample(2000, 2000 + skew + 5, 1000);
  c.sample(3000, 3000 + skew + 80, 2000);
  assert.equal(c.offset, skew + 5);
  assert.equal(c.lag(3000, 3000 + skew + 80), 75);
});

test('a sample leaves the window after windowMs; reset forgets all', () => {
  const c = clock(1000);
  c.sample(0, 5, 0);
  c.sample(0, 50, 2000);
  assert.equal(c.offset, 50);
  c.reset();
  assert.equal(c.offset, null);
  assert.equal(c.lag(0, 10), null);
  assert.equal(c.sample(NaN, 1, 1), null, 'a sample with no time is ignored');
});
