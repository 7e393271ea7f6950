// The lag readout: from a step's time (the server's clock) to its drawing (the browser's), the clocks' offset
// removed (clock.mjs). A server restart (maybe on another machine) starts it afresh.
import { $ } from './dom.mjs';
import { clock } from './clock.mjs';
import { page } from './state.mjs';

const c = clock(10000);
let newest = 0, shownAt = 0;

/** A message the server stamped `sentT` has just arrived. */
export function clockSample(sentT) {
  c.sample(sentT, Date.now(), performance.now());
  page.clockOffset = c.offset;
}

/** Steps stamped up to `t` (live ones, not history) wait to be drawn. */
export function pending(t) { newest = Math.max(newest, t); }

/** The newest pending stamp, now being drawn; 0 when none. */
export function take() {
  const t = newest;
  newest = 0;
  return t;
}

/** Steps stamped `t` are on screen now: the readout says how long that took (readable, not flickering). */
export function drawn(t) {
  const ms = t ? c.lag(t, Date.now()) : null;
  if (ms === null) return;
  page.lag = ms;
  const now = performance.now();
  if (now - shownAt < 250) return;
  shownAt = now;
  $('#lag').textContent = `lag: ${Math.max(0, Math.round(ms))} ms`;
}

export function resetLag() {
  c.reset();
  page.clockOffset = page.lag = null;
  newest = 0;
  $('#lag').textContent = 'lag: – ms';
}
