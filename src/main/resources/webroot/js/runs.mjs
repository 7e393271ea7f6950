// The runs as the stream tells of them: a summary on every change, steps as they come. Each run keeps its series
// (bounded: thinned as the server thins), its non-finite marks, its colour, its row and legend entry.
import { $ } from './dom.mjs';
import { num, fmt } from './format.mjs';
import { palette } from './colors.mjs';
import { bound, merge } from './downsample.mjs';
import { runs, hidden, dirty, page, schedule } from './state.mjs';
import { makeRow } from './runs-table.mjs';
import { makeEntry } from './legend.mjs';
import { studyNews, studyRemoved } from './studies.mjs';
import { clockSample, pending } from './lag.mjs';

/**
 * The columns a run's steps carry, each with a chart of its own (a panel #chart-<key> in index.html): its title,
 * its name in a readout, whether its y axis is logarithmic by default; `sparse`: measured every so many steps (a step
 * without it holds undefined, so its line goes from one measurement to the next); `limit`: a dashed line drawn at
 * that value. One place: a new column is a line here.
 */
export const CORE = [
  { key: 'loss', title: 'loss', short: 'loss', log: true },
  { key: 'lr', title: 'lr', short: 'lr', log: true },   // log: a ×10 step at a small lr shows as one
  { key: 'grad_norm', title: 'gradient norm', short: 'grad', log: true },
  // issue 23: lr × sharpness ÷ the optimizer's threshold, every curvature_every steps; above 1 a step overshoots
  { key: 'stability', title: 'stability', short: 'stability', log: true, sparse: true, limit: 1 },
];
export const KEYS = CORE.map(c => c.key);
export const SHORT = Object.fromEntries(CORE.map(c => [c.key, c.short]));
const SPARSE = CORE.filter(c => c.sparse).map(c => c.key);
const MAX_POINTS = 4000;   // per run; beyond it thinned 2:1, each four points keeping their min and max loss
const MAX_METRIC_POINTS = 2000;   // per run and metric, thinned as the loss is (by the metric's own value)
const colors = palette();

const emptySeries = () => ({ step: [], ...Object.fromEntries(KEYS.map(k => [k, []])), t: [] });

function addRun(summary) {
  const parent = summary.parent ? runs.get(summary.parent) : null;
  const r = { summary, index: 0, variant: 0, color: '', series: emptySeries(), metrics: new Map(), nonFinite: null,
    t0: null, history: true, last: { step: summary.step, loss: num(summary.loss), lr: num(summary.lr) }, row: null, entry: null };
  if (parent) {   // a branch: a shade of its family's colour, one no other member of the family has
    const family = [...runs.values()].filter(o => o.index === parent.index).map(o => o.variant);
    r.index = parent.index;
    while (family.includes(r.variant)) r.variant++;
    r.color = colors.shadeOf(r.index, r.variant);
  } else {
    // a deleted run's colour goes to the next new one (once its branches are gone too); others keep theirs
    const used = new Set([...runs.values()].map(o => o.index));
    while (used.has(r.index)) r.index++;
    r.color = colors.colorOf(r.index);
  }
  runs.set(summary.id, r);
  page.series[summary.id] = r.series;
  r.row = makeRow(r);
  r.entry = makeEntry(r);
  const after = parent && lastOfLine(parent.summary.id);
  if (after) {   // under its parent and the branches before it, in the table and the legend alike
    after.row.after(r.row);
    after.entry.after(r.entry);
  } else {
    $('#runs tbody').append(r.row);
    $('#legend').append(r.entry);
  }
  for (const o of runs.values()) if (o.summary.parent === summary.id) o.rowDirty = true;   // their lineage names it
  $('#no-runs').hidden = true;
  dirty.structure = dirty.view = true;
  return r;
}

/** Of the run `id` and its branches (and theirs), the one whose row comes last. */
function lastOfLine(id) {
  let last = null;
  for (const tr of document.querySelectorAll('#runs tbody tr')) {
    const r = runs.get(tr.dataset.run);
    if (r && descends(r, id)) last = r;
  }
  return last;
}

function descends(r, id) {
  for (let n = 0; r && n <= runs.size; n++, r = runs.get(r.summary.parent)) if (r.summary.id === id) return true;
  return false;
}

export function removeRun(id) {
  const r = runs.get(id);
  if (!r) return;
  r.row.remove();
  r.entry.remove();
  runs.delete(id);
  for (const o of runs.values()) if (o.summary.parent === id) o.rowDirty = true;
  delete page.series[id];
  delete page.runs[id];
  studyRemoved();
  $('#no-runs').hidden = runs.size > 0;
  dirty.structure = dirty.view = dirty.metrics = true;
}

function clearSeries(r) {
  for (const k of Object.keys(r.series)) r.series[k] = [];
  r.metrics = new Map();
  r.nonFinite = null;
  r.t0 = null;
}

/** A run's summary: new, changed, or deleted. */
export function onRun(s) {
  if (s.state === 'deleted') { removeRun(s.id); schedule(); return; }
  let r = runs.get(s.id);
  const was = r ? r.summary.state : undefined;
  if (!r) r = addRun(s);
  else if (s.cycle > r.summary.cycle) clearSeries(r);   // a demo run starting over, or rewound: its history comes again
  r.summary = s;
  page.runs[s.id] = s;
  if (s.step >= r.last.step || s.cycle !== r.last.cycle) {
    r.last = { step: s.step, loss: num(s.loss), lr: num(s.lr), cycle: s.cycle };
  }
  r.rowDirty = true;
  dirty.charts = true;   // a state change can add or drop a divergence marker
  dirty.view = true;     // its place in a sorted, filtered or grouped table may change
  if (s.metrics && Object.keys(s.metrics).some(n => !r.metrics.has(n))) dirty.metrics = true;
  studyNews(r, was);
  schedule();
}

/**
 * One run's new points: a steps message, or one entry of a frame. A run's first steps message after a
 * subscribe (marked downsampled by newer servers) is its history: old steps, which say nothing of the lag.
 */
export function onSteps(m, inFrame) {
  const r = runs.get(m.run);
  if (!r) return;
  const history = !inFrame && (m.downsampled === true || r.history);
  r.history = false;
  if (m.cycle < r.summary.cycle) return;   // sent before the run left that cycle: none of it stands now
  if (m.cycle > r.summary.cycle) {   // a demo run started over, or a guard rewound it: its history is sent again
    r.summary.cycle = m.cycle;
    clearSeries(r);
  }
  const s = r.series;
  let last = s.step.length ? s.step[s.step.length - 1] : 0;
  if (r.t0 === null && m.step.length && m.step[0] > last) r.t0 = m.t[0];
  for (let i = 0; i < m.step.length; i++) {
    const step = m.step[i];
    if (step <= last) continue;   // never out of order (uPlot needs ascending x)
    last = step;
    // a column not sent: null; a sparse one's step not measured: undefined
    const p = Object.fromEntries(KEYS.map(k => [k, !SPARSE.includes(k) ? (m[k] ? num(m[k][i]) : null)
      : m[k] && m[k][i] !== null && m[k][i] !== undefined ? num(m[k][i]) : undefined]));
    for (const k of KEYS) s[k].push(p[k]);
    s.step.push(step);
    s.t.push(m.t[i]);
    markNonFinite(r, step, p);
    r.last = { step, loss: p.loss, lr: p.lr, cycle: r.summary.cycle };
  }
  if (m.metrics) addMetrics(r, m.step, m.t, m.metrics);
  bound(s, MAX_POINTS, 'loss', SPARSE);
  r.rowDirty = true;
  dirty.view = true;   // its numbers in the table, and its place when sorted by one
  studyNews(r, r.summary.state);
  const newest = m.t[m.t.length - 1] || 0;
  // an old server sends no frames: a live bucket goes out right after its last step, so that step's time
  // stands in for the send time (the minimum over the window takes the quickest)
  if (!inFrame && !history && newest) clockSample(newest);
  if (!hidden.has(m.run)) {
    dirty.charts = true;
    if (!history) pending(newest);
  }
  schedule();
}

/**
 * The run's first non-finite value: where it is marked (once per run), and how many came after. A NaN lr or
 * gradient norm is one the run did not send (a script that measures no gradient norm): not marked; infinite, it is.
 */
function markNonFinite(r, step, p) {
  const bad = KEYS.filter(k => p[k] !== null && p[k] !== undefined && !Number.isFinite(p[k])
    && (k === 'loss' || !Number.isNaN(p[k])));
  if (!bad.length) return;
  if (r.nonFinite) { r.nonFinite.count++; return; }
  r.nonFinite = { step, label: bad.map(k => `${SHORT[k]} ${fmt(p[k])}`).join(', '), count: 1 };
}

/**
 * A message's metric columns: each metric keeps the steps it was logged at (a finite value; NaN is a step that did
 * not log it: the server cannot tell the two apart), in order, thinned by its own value.
 */
function addMetrics(r, steps, t, columns) {
  for (const [name, col] of Object.entries(columns)) {
    let ms = r.metrics.get(name);
    const add = { step: [], t: [], value: [] };
    const after = ms && ms.step.length ? ms.step[ms.step.length - 1] : 0;
    for (let i = 0; i < steps.length; i++) {
      const v = num(col[i]);
      if (v === null || !Number.isFinite(v) || steps[i] <= after) continue;
      add.step.push(steps[i]); add.t.push(t[i]); add.value.push(v);
    }
    if (!add.step.length) continue;
    if (!ms) { r.metrics.set(name, ms = { step: [], t: [], value: [] }); dirty.metrics = true; }
    for (const k of ['step', 't', 'value']) ms[k].push(...add[k]);
    bound(ms, MAX_METRIC_POINTS, 'value');
  }
}

/** A metric's points read over REST (the whole run, each metric thinned on its own): merged with what streamed. */
export function mergeMetrics(r, metrics) {
  for (const [name, read] of Object.entries(metrics)) {
    const tbl = { step: read.step || [], t: read.t || read.step.map(() => null), value: (read.value || []).map(num) };
    const ms = merge(r.metrics.get(name) || { step: [], t: [], value: [] }, tbl);
    if (!r.metrics.has(name)) dirty.metrics = true;
    r.metrics.set(name, bound(ms, MAX_METRIC_POINTS, 'value'));
  }
  r.rowDirty = true;
  if (!hidden.has(r.summary.id)) dirty.charts = true;
  dirty.view = true;
  schedule();
}

/** Each metric's last (at the latest step), lowest and highest value as the page holds them (thinning keeps both). */
export function metricStats(r) {
  const out = {};
  for (const [name, ms] of r.metrics) {
    if (!ms.step.length) continue;
    let min = Infinity, max = -Infinity;
    for (const v of ms.value) { if (v < min) min = v; if (v > max) max = v; }
    out[name] = { last: ms.value[ms.value.length - 1], step: ms.step[ms.step.length - 1], min, max };
  }
  return out;
}

/** Every run forgotten: a reconnect loads them again. */
export function clearRuns() {
  for (const id of [...runs.keys()]) removeRun(id);
}
