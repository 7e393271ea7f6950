// The lag: a step's time (the server's clock) to its drawing (the browser's), the clocks' offset removed. The
// offset is the least (receive − send) of the last window: the clocks' difference plus the quickest delivery.
// Pure: the caller passes both clocks' readings.

export function clock(windowMs = 10000) {
  let q = [];   // a sliding-window minimum, {at, d} with d increasing
  const c = {
    offset: null,
    /** A message sent at `sentT` (server ms) arrived at `nowMs` (browser ms), `at` (a monotonic ms) . */
    sample(sentT, nowMs, at) {
      if (!Number.isFinite(sentT)) return c.offset;
      const d = nowMs - sentT;
      while (q.length && q[q.length - 1].d >= d) q.pop();
      q.push({ at, d });
      while (q[0].at < at - windowMs) q.shift();
      return (c.offset = q[0].d);
    },
    /** How long ago (browser ms `nowMs`) the server stamped `t`; null until an offset is known. */
    lag: (t, nowMs) => (c.offset === null ? null : nowMs - c.offset - t),
    reset() { q = []; c.offset = null; },
  };
  return c;
}
