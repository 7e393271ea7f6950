import { test } from 'node:test';
import assert from 'node:assert/strict';
import { throttled } from '../../main/resources/webroot/js/throttle.mjs';

/** A clock the test moves by hand. */
function fakeTime() {
  let now = 0;
  const timers = [];
  return { now: () => now, later: (f, w) => timers.push({ at: now + w, f }),
    advance(ms) { now += ms; for (const t of timers.splice(0).sort((a, b) => a.at - b.at)) if (t.at <= now) t.f(); else timers.push(t); } };
}
const settle = () => new Promise(r => setImmediate(r));

test('at most one run per period; calls meanwhile make one more run, later', async () => {
  const time = fakeTime();
  let runs = 0;
  const run = throttled(() => { runs++; }, 300, time);
  run();
  await settle();
  assert.equal(runs, 1);
  run(); run(); run();
  await settle();
  assert.equal(runs, 1, 'waits for its period');
  time.advance(300);
  await settle();
  assert.equal(runs, 2, 'then runs once for all three calls');
});

test('never twice at once: a call while the task runs runs it again after', async () => {
  const time = fakeTime();
  let release, active = 0, most = 0, runs = 0;
  const run = throttled(() => { runs++; active++; most = Math.max(most, active); return new Promise(r => { release = () => { active--; r(); }; }); }, 0, time);
  run();
  run();
  await settle();
  assert.equal(runs, 1);
  release();
  await settle();
  assert.equal(runs, 2);
  release();
  await settle();
  assert.equal(most, 1);
});
