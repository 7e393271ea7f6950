// Thinning a run's columns as the server's M4 does, so a page that holds a run for hours keeps a bounded number of
// points and still shows every dip and spike. Pure.

const bad = v => v === null || Number.isNaN(v);
/** a < b, where a missing or NaN value is never the lower. */
export const below = (a, b) => !bad(a) && (bad(b) || a < b);
/** a > b, where NaN counts highest and a missing value never wins. */
export const above = (a, b) => (Number.isNaN(a) && !Number.isNaN(b)) || (!bad(a) && !bad(b) && a > b) || (b === null && a !== null);

/**
 * Halves a table of equally long columns ({step: […], loss: […], …}, in place): of each four rows it keeps the one
 * with the lowest and the one with the highest value of column `by` (NaN counts highest), in order, so dips and
 * spikes survive; the last row stays. A `sparse` column (undefined where not measured) keeps each four rows' last
 * measurement, on the last row kept of them when thinning dropped its own.
 */
export function thin(s, by = 'loss', sparse = []) {
  const keys = Object.keys(s).filter(k => Array.isArray(s[k]));
  const out = Object.fromEntries(keys.map(k => [k, []]));
  const keep = i => { for (const k of keys) out[k].push(s[k][i]); };
  const col = s[by], end = col.length - 1;
  for (let i = 0; i < end; i += 4) {
    let lo = i, hi = i;
    for (let j = i + 1; j < Math.min(i + 4, end); j++) {
      if (below(col[j], col[lo])) lo = j;
      if (above(col[j], col[hi])) hi = j;
    }
    keep(Math.min(lo, hi));
    if (lo !== hi) keep(Math.max(lo, hi));
    for (const k of sparse) {
      let m = -1;
      for (let j = i; j < Math.min(i + 4, end); j++) if (s[k][j] !== undefined) m = j;
      const at = out[k].length - 1;
      if (m >= 0 && out[k][at] === undefined) out[k][at] = s[k][m];
    }
  }
  keep(end);
  for (const k of keys) s[k] = out[k];
  return s;
}

/** Thins `s` until column `by` has at most `max` rows (`sparse` columns as `thin` keeps them). */
export function bound(s, max, by = 'loss', sparse = []) {
  while (s[by].length > max) thin(s, by, sparse);
  return s;
}

/**
 * Two tables of one metric ({step, t, value}, each ascending by step) as one: every step of either, `b`'s row
 * where both have one (it is the newer read). Returns a new table.
 */
export function merge(a, b) {
  const out = { step: [], t: [], value: [] };
  let i = 0, j = 0;
  const take = (s, k) => { out.step.push(s.step[k]); out.t.push(s.t[k]); out.value.push(s.value[k]); };
  while (i < a.step.length || j < b.step.length) {
    if (j >= b.step.length || (i < a.step.length && a.step[i] < b.step[j])) take(a, i++);
    else {
      if (i < a.step.length && a.step[i] === b.step[j]) i++;
      take(b, j++);
    }
  }
  return out;
}
