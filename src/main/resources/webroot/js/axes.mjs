// Axis arithmetic shared by every chart: where a scale stops, which ticks a log axis gets, which point is nearest
// the mouse. Pure: no uPlot, no DOM.

// uPlot labels no axis whose range reaches 1e17: scales stop at ±1e15, larger values run off the chart
export const SCALE_CAP = 1e15;
export const MAX_DRAWN = 1e300;   // beyond 1e300 (a diverging run reaches 1e308): not drawn
// a log scale stops at 1e-300: a run converging to 0 passes denormals (5e-324), whose decade 1e-324 is 0
export const LOG_FLOOR = 1e-300;

/** v kept within ±SCALE_CAP, and above LOG_FLOOR on a log scale. */
export const cap = (v, isLog) => Math.max(isLog ? LOG_FLOOR : -SCALE_CAP, Math.min(SCALE_CAP, v));

/** Decades (every n-th when there are many, so a range of 1e-5..1e300 stays readable); 2 and 5 too when few. */
export function logSplits(min, max) {
  const lo = Math.floor(Math.log10(min)), hi = Math.ceil(Math.log10(max));
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];   // log10(0) = −∞: the loop below would never end
  const stride = Math.max(1, Math.ceil((hi - lo) / 6)), mult = hi - lo <= 2 ? [1, 2, 5] : [1];
  const out = [];
  for (let e = lo; e <= hi; e++) {
    if (e % stride !== 0) continue;
    for (const m of mult) {
      const v = m * 10 ** e;
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) out.push(v);
    }
  }
  return out;
}

/** The index of the value in ascending `xs` nearest to x (the later of two as near). */
export function nearestIndex(xs, x) {
  let lo = 0, hi = xs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < x) lo = mid + 1; else hi = mid;
  }
  return lo > 0 && x - xs[lo - 1] < xs[lo] - x ? lo - 1 : lo;
}

/**
 * What a value becomes on a chart: undefined stays undefined (another run's x: skipped, the line goes on), null
 * or non-finite a gap, ≤ 0 on a log scale a gap (counted), beyond MAX_DRAWN a gap; counts what runs off.
 * Returns {value, counts} where counts names what happened: nonPositive, offScale, tiny, drawn.
 */
export function drawable(v, isLog, counts) {
  if (v === undefined) return undefined;
  if (v === null || !Number.isFinite(v)) return null;
  if (isLog && v <= 0) { counts.nonPositive++; return null; }
  if (Math.abs(v) > SCALE_CAP) counts.offScale++;
  if (isLog && v < LOG_FLOOR) counts.tiny++;
  if (Math.abs(v) > MAX_DRAWN) return null;
  counts.drawn++;
  return v;
}

/** The note under a chart for what `drawable` counted; '' when all of it shows. */
export const offChartNote = c => [
  c.nonPositive ? `${c.nonPositive} values ≤ 0 not drawn (log scale)` : '',
  c.offScale ? `${c.offScale} values beyond ±1e15 run off the chart` : '',
  c.tiny ? `${c.tiny} values below 1e-300 run off the chart` : ''].filter(Boolean).join('; ');

export const zeroCounts = () => ({ nonPositive: 0, offScale: 0, tiny: 0, drawn: 0 });
