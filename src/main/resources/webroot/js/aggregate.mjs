// A group of runs as one curve: at each x of a common grid, the mean of its runs' values and their range. Pure.

/**
 * curves: [{x: […ascending], y: […]}]. The grid: `points` x values evenly over the span where any curve has
 * values. A curve's value at a grid x is its last finite value at or before x, within its own x range (a run
 * that ended, or has not got that far, says nothing there). → {x, mean, min, max, n} (null where no curve says
 * anything). `isLog`: the mean is geometric (of positive values), as a log axis shows it.
 */
export function aggregate(curves, points = 300, isLog = false) {
  const spans = curves.map(span).filter(Boolean);
  if (!spans.length) return { x: [], mean: [], min: [], max: [], n: [] };
  const lo = Math.min(...spans.map(s => s[0])), hi = Math.max(...spans.map(s => s[1]));
  const m = hi > lo ? points : 1;
  const x = Array.from({ length: m }, (_, i) => (m === 1 ? lo : lo + (hi - lo) * i / (m - 1)));
  const sum = new Float64Array(m), n = new Int32Array(m), min = new Array(m).fill(null), max = new Array(m).fill(null);
  for (const c of curves) {
    let j = 0, last = null;
    const sp = span(c);
    if (!sp) continue;
    for (let i = 0; i < m; i++) {
      if (x[i] < sp[0] - 1e-12 * Math.abs(sp[0]) || x[i] > sp[1] + 1e-12 * Math.abs(sp[1])) continue;
      while (j < c.x.length && c.x[j] <= x[i] * (1 + 1e-12) + 1e-300) {
        const v = c.y[j];
        if (v !== null && Number.isFinite(v) && !(isLog && v <= 0)) last = v;
        j++;
      }
      if (last === null) continue;
      sum[i] += isLog ? Math.log(last) : last;
      n[i]++;
      if (min[i] === null || last < min[i]) min[i] = last;
      if (max[i] === null || last > max[i]) max[i] = last;
    }
  }
  const mean = Array.from(sum, (s, i) => (n[i] ? (isLog ? Math.exp(s / n[i]) : s / n[i]) : null));
  return { x, mean, min, max, n: Array.from(n) };
}

/** The x span of a curve's finite values: [first, last], or null. */
function span(c) {
  let a = null, b = null;
  for (let i = 0; i < c.x.length; i++) {
    if (c.x[i] === null || c.y[i] === null || !Number.isFinite(c.y[i])) continue;
    if (a === null) a = c.x[i];
    b = c.x[i];
  }
  return a === null ? null : [a, b];
}
