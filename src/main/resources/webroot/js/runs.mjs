// The runs as the stream tells of them: a summary on every change, steps as they come. Each run keeps its series
// (bounded: thinned as the server thins), its non-finite marks, its colour, its row and legend entry.
import { $ } from './dom.mjs';
import { num, fmt } from './format.mjs';
import { palette } from './colors.mjs';
import { bound } from './downsample.mjs';
import { runs, hidden, dirty, page, schedule } from './state.mjs';
import { makeRow } from './runs-table.mjs';
import { makeEntry } from './legend.mjs';
import { studyNews, studyRemoved } from './studies.mjs';
import { clockSample, pending } from './lag.mjs';

export const KEYS = ['loss', 'lr', 'grad_norm'];
export const SHORT = { loss: 'loss', lr: 'lr', grad_norm: 'grad' };
const MAX_POINTS = 4000;   // per run; beyond it thinned 2:1, each four points keeping their min and max loss
const MAX_MARKS = 50;      // non-finite markers kept per run
const colors = palette();

const emptySeries = () => ({ step: [], loss: [], lr: [], grad_norm: [], t: [] });

function addRun(summary) {
  const parent = summary.parent ? runs.get(summary.parent) : null;
  const r = { summary, index: 0, variant: 0, color: '', series: emptySeries(), marks: [], history: true,
    last: { step: summary.step, loss: num(summary.loss), lr: num(summary.lr) }, row: null, entry: null };
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
  dirty.structure = true;
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
  dirty.structure = true;
}

function clearSeries(r) {
  for (const k of Object.keys(r.series)) r.series[k] = [];
  r.marks = [];
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
  for (let i = 0; i < m.step.length; i++) {
    const step = m.step[i];
    if (step <= last) continue;   // never out of order (uPlot needs ascending x)
    last = step;
    const p = { loss: num(m.loss[i]), lr: num(m.lr[i]), grad_norm: num(m.grad_norm[i]) };
    for (const k of KEYS) s[k].push(p[k]);
    s.step.push(step);
    s.t.push(m.t[i]);
    markNonFinite(r, step, p);
    r.last = { step, loss: p.loss, lr: p.lr, cycle: r.summary.cycle };
  }
  bound(s, MAX_POINTS);
  r.rowDirty = true;
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

function markNonFinite(r, step, p) {
  const bad = KEYS.filter(k => p[k] !== null && !Number.isFinite(p[k]));
  if (!bad.length || r.marks.length >= MAX_MARKS) return;
  r.marks.push({ step, label: bad.map(k => `${SHORT[k]} ${fmt(p[k])}`).join(', ') });
}

/** Every run forgotten: a reconnect loads them again. */
export function clearRuns() {
  for (const id of [...runs.keys()]) removeRun(id);
}
