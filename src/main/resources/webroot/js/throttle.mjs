// A REST view kept fresh without flooding the server.

/**
 * `task` (returning a promise) runs at most once per `ms`, never twice at once; a call while it runs or waits runs
 * it once more afterwards. `env` lends the clocks (tests pass their own).
 */
export function throttled(task, ms, env = { now: () => performance.now(), later: (f, w) => setTimeout(f, w) }) {
  let busy = false, again = false, timer = false, last = -Infinity;
  const run = () => {
    if (busy || timer) { again = true; return; }
    const wait = last + ms - env.now();
    if (wait > 0) { timer = true; env.later(() => { timer = false; run(); }, wait); return; }
    busy = true;
    again = false;
    Promise.resolve(task()).finally(() => {
      busy = false;
      last = env.now();
      if (again) run();
    });
  };
  return run;
}
