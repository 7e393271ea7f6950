// Comparing runs: the columns a table can show (a run's spec or config, flattened; its results), their values,
// a filter typed as people type one, sorting and grouping with each group's mean and range. Pure: runs in
// (their summaries, plus what the page computed of their metrics), data out.

/** The scalars of a nested object by dotted path: {optimizer: {lr: 0.1}} → {"optimizer.lr": 0.1}; lists as text. */
export function flatten(obj, prefix = '', out = {}) {
  if (obj === null || obj === undefined) return out;
  if (typeof obj !== 'object') { if (prefix) out[prefix] = obj; return out; }
  if (Array.isArray(obj)) {
    if (prefix) out[prefix] = obj.every(v => v === null || typeof v !== 'object') ? obj.join(', ') : JSON.stringify(obj);
    return out;
  }
  for (const [k, v] of Object.entries(obj)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

/** The spec keys no comparison needs: who the run is, not how it was set up. */
const NOT_CONFIG = new Set(['name', 'source', 'sweep']);

/** A run's configuration as flat paths: its spec (a bare problem name is `problem`) with its config inside. */
export function configOf(summary) {
  const flat = flatten(summary.spec || {});
  for (const k of Object.keys(flat)) if (NOT_CONFIG.has(k)) delete flat[k];
  return flat;
}

/**
 * A run as the comparison reads it: {id, name, state, tags, notes, sweep, config: {path: v}, results: {key: v}}.
 * `metrics` (name → {last, min, max, step}) come from the summary when the server sends them, else from the page.
 */
export function rowOf(summary, metrics = {}) {
  const results = {
    step: num(summary.step), loss: num(summary.loss), best_loss: num(summary.best_loss), lr: num(summary.lr),
  };
  const m = { ...metrics, ...(summary.metrics || {}) };
  for (const [name, s] of Object.entries(m)) {
    results[`${name}:last`] = num(s.last);
    results[`${name}:min`] = num(s.min);
    results[`${name}:max`] = num(s.max);
  }
  return { id: summary.id, name: summary.name || '', state: summary.state || '', tags: summary.tags || [],
    notes: summary.notes || '', sweep: summary.sweep || null, created: summary.created || '', config: configOf(summary), results };
}
const num = v => (v === null || v === undefined ? null : typeof v === 'number' ? v : Number(v));

export const RESULT_LABELS = { step: 'step', loss: 'final loss', best_loss: 'best loss', lr: 'lr now' };

/**
 * Every column the rows offer: config paths (`config:<path>`), results (`result:<key>`), each metric's last,
 * min and max. [{id, label, group: 'config'|'result', numeric}], config first, each sorted by label.
 */
export function columnsOf(rows) {
  const config = new Map(), results = new Map();
  for (const r of rows) {
    for (const [k, v] of Object.entries(r.config)) {
      const c = config.get(k) || { id: `config:${k}`, label: k, group: 'config', numeric: true };
      if (v !== null && typeof v !== 'number') c.numeric = false;
      config.set(k, c);
    }
    for (const k of Object.keys(r.results)) {
      if (!results.has(k)) results.set(k, { id: `result:${k}`, label: resultLabel(k), group: 'result', numeric: true });
    }
  }
  const byLabel = (a, b) => a.label.localeCompare(b.label);
  return [...[...config.values()].sort(byLabel), ...[...results.values()].sort(resultOrder)];
}

const resultLabel = k => RESULT_LABELS[k] || k.replace(/:(last|min|max)$/, (_, w) => (w === 'last' ? '' : ` ${w}`));
const FIRST = ['loss', 'best_loss', 'step', 'lr'];
function resultOrder(a, b) {
  const ka = a.id.slice(7), kb = b.id.slice(7), ia = FIRST.indexOf(ka), ib = FIRST.indexOf(kb);
  if (ia >= 0 || ib >= 0) return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  return ka.localeCompare(kb);
}

/**
 * The config keys whose values differ among the rows (the ones worth a column by default), most distinct first;
 * of keys with the same value in every run (config.lr, optimizer.lr, optimizer.initial_lr), only the first: a
 * script's own config before the optimizer's, the shorter path before the longer.
 */
export function varying(rows, max = 4) {
  const values = new Map();
  for (const r of rows) {
    for (const [k, v] of Object.entries(r.config)) {
      if (!values.has(k)) values.set(k, new Set());
      values.get(k).add(JSON.stringify(v));
    }
  }
  const rank = k => (k.startsWith('config.') ? 0 : 1);
  const candidates = [...values].filter(([k, s]) => s.size > 1 || rows.some(r => !(k in r.config)))
    .sort((a, b) => b[1].size - a[1].size || rank(a[0]) - rank(b[0]) || a[0].length - b[0].length || a[0].localeCompare(b[0]));
  const kept = [], same = new Set();
  for (const [k] of candidates) {
    const all = JSON.stringify(rows.map(r => r.config[k] ?? null));
    if (same.has(all)) continue;
    same.add(all);
    kept.push(`config:${k}`);
    if (kept.length === max) break;
  }
  return kept;
}

/** A column's value in a row; undefined when the run has none. */
export function valueOf(row, colId) {
  const i = colId.indexOf(':'), kind = colId.slice(0, i), key = colId.slice(i + 1);
  if (kind === 'config') return row.config[key];
  if (kind === 'result') return row.results[key];
  if (kind === 'run') return key === 'tags' ? row.tags.join(', ') : row[key];
  return undefined;
}

// ---- the filter ----
const OPS = ['>=', '<=', '!=', '>', '<', '=', ':'];

/**
 * A filter as typed: words separated by spaces (quotes keep spaces), all must hold. A bare word matches the
 * name, tags, notes, state or sweep (case-insensitive); `key>x`, `key>=x`, `key<x`, `key<=x`, `key=x`, `key!=x`
 * compare a column (its path, or the end of one: `lr` is optimizer.lr or config.lr; a metric by name: `val/acc`
 * is its last value); `key=a..b` is a range, ends included; `tag:x` a tag, `state:x` a state, `key:x` a
 * substring. → {terms, error}: error names a term it cannot read.
 */
export function parseFilter(text) {
  const terms = [], words = String(text).match(/"[^"]*"|\S+/g) || [];
  for (const raw of words) {
    const w = raw.replace(/^"|"$/g, '');
    const op = raw.startsWith('"') ? null : firstOp(w, OPS.slice(0, -1)) || firstOp(w, [':']);
    if (!op) { terms.push({ word: w.toLowerCase() }); continue; }
    const [o, at] = op, key = w.slice(0, at), value = w.slice(at + o.length);
    if (value === '') return { terms: [], error: `"${w}": a value after ${o}` };
    const range = o === '=' && value.match(/^(.*)\.\.(.*)$/);
    if (range) {
      const lo = range[1] === '' ? -Infinity : Number(range[1]), hi = range[2] === '' ? Infinity : Number(range[2]);
      if (Number.isNaN(lo) || Number.isNaN(hi)) return { terms: [], error: `"${w}": a range of numbers, like lr=1e-4..1e-2` };
      terms.push({ key, op: '..', lo, hi });
    } else {
      if (['>', '>=', '<', '<='].includes(o) && Number.isNaN(Number(value))) return { terms: [], error: `"${w}": ${o} takes a number` };
      terms.push({ key, op: o, value });
    }
  }
  return { terms, error: null };
}

/** The earliest of `ops` in w (the longer one where two start together), not at its start: [op, index]. */
const firstOp = (w, ops) => ops.map(o => [o, w.indexOf(o)]).filter(([, i]) => i > 0)
  .sort((a, b) => a[1] - b[1] || b[0].length - a[0].length)[0];

/**
 * The columns a filter key names, the first of: config paths equal to it, config paths ending with it (`lr`:
 * optimizer.lr, config.lr), results by key or label (`loss`, `best loss`, `val/acc` is its last value,
 * `val/acc:max` its highest).
 */
export function keyColumns(key, columns) {
  const k = key.toLowerCase(), path = c => c.id.slice(c.id.indexOf(':') + 1).toLowerCase();
  const config = columns.filter(c => c.group === 'config'), results = columns.filter(c => c.group === 'result');
  for (const tier of [config.filter(c => path(c) === k), config.filter(c => path(c).endsWith(`.${k}`)),
    results.filter(c => path(c) === k || path(c) === `${k}:last` || c.label.toLowerCase() === k)]) {
    if (tier.length) return tier;
  }
  return [];
}

/** Whether a row passes every term. */
export function matches(row, terms, columns) {
  return terms.every(t => {
    if (t.word !== undefined) {
      return [row.name, row.notes, row.state, row.sweep || '', ...row.tags].some(s => String(s).toLowerCase().includes(t.word));
    }
    if (t.op === ':' && t.key.toLowerCase() === 'tag') return row.tags.some(g => g.toLowerCase() === t.value.toLowerCase());
    if (t.op === ':' && t.key.toLowerCase() === 'state') return row.state === t.value.toLowerCase();
    const cols = keyColumns(t.key, columns);
    return cols.some(c => test(valueOf(row, c.id), t));
  });
}

function test(v, t) {
  if (v === undefined || v === null) return t.op === '!=';
  if (t.op === '..') return typeof v === 'number' && v >= t.lo && v <= t.hi;
  if (t.op === ':') return String(v).toLowerCase().includes(t.value.toLowerCase());
  const n = Number(t.value), numeric = typeof v === 'number' && !Number.isNaN(n);
  const eq = numeric ? v === n || Math.abs(v - n) <= 1e-12 * Math.abs(n) : String(v).toLowerCase() === t.value.toLowerCase();
  switch (t.op) {
    case '=': return eq;
    case '!=': return !eq;
    case '>': return numeric && v > n;
    case '>=': return numeric && v >= n;
    case '<': return numeric && v < n;
    case '<=': return numeric && v <= n;
    default: return false;
  }
}

// ---- sorting and grouping ----
/** Compares two values of a column: numbers by value, NaN after numbers, text by locale, missing values last. */
export function compareValues(a, b) {
  const missing = v => v === undefined || v === null || (typeof v === 'number' && Number.isNaN(v));
  if (missing(a) || missing(b)) return missing(a) === missing(b) ? 0 : missing(a) ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/** Rows sorted by a column, `dir` 1 or -1; missing values last either way; ties keep their order. */
export function sortRows(rows, colId, dir = 1) {
  return rows.map((r, i) => [r, i]).sort(([a, i], [b, j]) => {
    const va = valueOf(a, colId), vb = valueOf(b, colId);
    const missing = v => v === undefined || v === null || (typeof v === 'number' && Number.isNaN(v));
    if (missing(va) || missing(vb)) return (missing(va) - missing(vb)) || i - j;
    return dir * compareValues(va, vb) || i - j;
  }).map(([r]) => r);
}

/** What a run is grouped by: its sweep, its first tag, or a column's value. */
export function groupKey(row, by) {
  if (by === 'sweep') return row.sweep ? `sweep ${row.sweep}` : 'no sweep';
  if (by === 'tag') return row.tags.length ? `tag ${row.tags[0]}` : 'no tag';
  const v = valueOf(row, by);
  return v === undefined || v === null ? '–' : typeof v === 'number' ? fmtKey(v) : String(v);
}
const fmtKey = v => String(+v.toPrecision(6));

/** Groups in the order their first row comes (each row in one): [{key, rows}]. */
export function groupRows(rows, by) {
  const groups = new Map();
  for (const r of rows) {
    const k = groupKey(r, by);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(r);
  }
  return [...groups].map(([key, list]) => ({ key, rows: list }));
}

/** Mean, min, max and count of the finite numbers among values; null when there are none. */
export function stats(values) {
  const xs = values.filter(v => typeof v === 'number' && Number.isFinite(v));
  if (!xs.length) return null;
  let sum = 0, min = Infinity, max = -Infinity;
  for (const x of xs) { sum += x; min = Math.min(min, x); max = Math.max(max, x); }
  return { mean: sum / xs.length, min, max, n: xs.length };
}

/** The group that is best by a column (highest mean when `higher`, else lowest), among groups with a value. */
export function bestGroup(groups, colId, higher) {
  let best = null;
  for (const g of groups) {
    const s = stats(g.rows.map(r => valueOf(r, colId)));
    if (s && (!best || (higher ? s.mean > best.s.mean : s.mean < best.s.mean))) best = { g, s };
  }
  return best && best.g;
}

/** Whether a column's best is its highest: accuracies, scores, rewards; not losses, errors or perplexities. */
export const higherIsBetter = label => /acc|score|f1|auc|precision|recall|reward|map\b|bleu|iou/i.test(label)
  && !/loss|err|ppl|perplex/i.test(label);
