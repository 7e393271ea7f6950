// What a chart's x axis can be: the step, the wall time, the time since the run's first step, the epoch (when the
// run logs one) or its progress (step over its length, so runs of any length line up). Pure.

export const X_MODES = [
  ['step', 'step'], ['time', 'wall time'], ['relative', 'time since start'], ['epoch', 'epoch'], ['progress', 'progress (aligned)'],
];

/** The metric a run logs its epoch as: `epoch`, or a name ending in `/epoch` or `.epoch`. */
export const epochMetric = names => names.find(n => n === 'epoch') || names.find(n => /[/.]epoch$/.test(n)) || null;

/**
 * The x of each of a run's rows in `mode`: `steps` and `t` (epoch ms) are its columns; `run` = {t0: its first
 * step's time, total: its length in steps, epoch: {step: […], value: […]} or null}. null where it has no x
 * (epoch mode without an epoch logged).
 */
export function xOf(mode, steps, t, run) {
  switch (mode) {
    case 'time': return t.map(v => (v === null || v === undefined ? null : v / 1000));
    case 'relative': return t.map(v => (v === null || v === undefined || run.t0 === null ? null : (v - run.t0) / 1000));
    case 'progress': return steps.map(s => (run.total > 0 ? s / run.total : null));
    case 'epoch': return run.epoch && run.epoch.step.length ? steps.map(s => interpolate(run.epoch, s)) : steps.map(() => null);
    default: return steps;
  }
}

/**
 * The epoch at step s from the points logged: linear between them; before the first, from 0 at step 0 when the
 * first is ≥ 0; after the last, on at the pace of the whole record (a live run logs its epoch now and then).
 */
export function interpolate(e, s) {
  const xs = e.step, ys = e.value, n = xs.length;
  if (s <= xs[0]) return xs[0] > 0 && ys[0] >= 0 ? ys[0] * s / xs[0] : ys[0];
  if (s >= xs[n - 1]) {
    const slope = n > 1 && xs[n - 1] > xs[0] ? (ys[n - 1] - ys[0]) / (xs[n - 1] - xs[0]) : 0;
    return ys[n - 1] + Math.max(0, slope) * (s - xs[n - 1]);
  }
  let lo = 0, hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= s) lo = mid; else hi = mid;
  }
  return ys[lo] + (ys[hi] - ys[lo]) * (s - xs[lo]) / (xs[hi] - xs[lo]);
}

/** A duration in seconds as people read one: 45 s, 3:05, 1:02:05, 2d 3h. */
export function fmtDuration(sec) {
  if (sec === null || !Number.isFinite(sec)) return '–';
  const neg = sec < 0 ? '−' : '';
  let s = Math.abs(sec);
  if (s < 60) return `${neg}${+s.toPrecision(3)} s`;
  const d = Math.floor(s / 86400);
  if (d >= 1) return `${neg}${d}d ${Math.floor((s % 86400) / 3600)}h`;
  s = Math.round(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = String(s % 60).padStart(2, '0');
  return h ? `${neg}${h}:${String(m).padStart(2, '0')}:${r}` : `${neg}${m}:${r}`;
}

/** An x value as its axis says it. */
export function fmtX(mode, v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (mode === 'relative') return fmtDuration(v);
  if (mode === 'time') return new Date(v * 1000).toLocaleTimeString();
  if (mode === 'progress') return `${+(v * 100).toPrecision(3)}%`;
  if (mode === 'epoch') return String(+v.toPrecision(4));
  return String(v);
}

/**
 * The y extent of curves ([{x, y}]) within [xmin, xmax] (all of it when null): finite values only, positive
 * ones on a log scale; null when there are none. A zoomed chart's y fits what it shows.
 */
export function extent(curves, xmin, xmax, isLog) {
  let min = Infinity, max = -Infinity;
  for (const { x, y } of curves) {
    for (let i = 0; i < y.length; i++) {
      const v = y[i], xv = x[i];
      if (v === null || !Number.isFinite(v) || (isLog && v <= 0) || xv === null) continue;
      if (xmin !== null && (xv < xmin || xv > xmax)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return min <= max ? [min, max] : null;
}

/** A run this many times as long as the median drawn run is cut off at the others' end by default. */
export const FIT_RATIO = 4;

/**
 * The x range that keeps one long run from squashing the others (a 100,000-step run among 1,000-step ones):
 * `ends` = [{id, min, max}], each drawn run's x extent. When a few runs (at most a quarter of three or more) reach
 * past FIT_RATIO × the median run's span, {range: [lo, the others' end], beyond: [their ids]}; else null (all fit).
 */
export function fitRange(ends) {
  const ok = ends.filter(e => Number.isFinite(e.min) && Number.isFinite(e.max));
  if (ok.length < 3) return null;
  const lo = Math.min(...ok.map(e => e.min));
  const spans = ok.map(e => e.max - lo).sort((a, b) => a - b), median = spans[(spans.length - 1) >> 1];
  if (!(median > 0)) return null;
  const beyond = ok.filter(e => e.max - lo > FIT_RATIO * median);
  if (!beyond.length || beyond.length > ok.length / 4) return null;
  const hi = Math.max(...ok.filter(e => !beyond.includes(e)).map(e => e.max));
  return { range: [lo, hi], beyond: beyond.sort((a, b) => b.max - a.max).map(e => e.id) };
}
