// Studies: lr range tests and sweeps, each in its own panel beside the charts. A range test is a run whose
// schedule is lr_range; a sweep is the runs sharing a `sweep` id. Each panel shows the one picked, else the newest.
import { $ } from './dom.mjs';
import { isRangeTest, sweepName } from './format.mjs';
import { runs, dirty, schedule } from './state.mjs';
import { range, drawRange, setupRange } from './lr-range.mjs';
import { sweep, drawSweep, setupSweepPanel } from './sweeps.mjs';

const views = { range, sweep };
const newestFirst = (a, b) => String(b.summary.created || '').localeCompare(String(a.summary.created || ''));

/** A run's news, from onRun (`was`: its state before) or onSteps: which study it belongs to redraws. */
export function studyNews(r, was) {
  const s = r.summary;
  if (isRangeTest(s)) {
    if (was !== s.state) range.key = '';   // the picker's labels show states
    if (range.id === s.id) range.refresh();
    dirty.studies = true;
  }
  if (s.sweep) {
    if (was !== undefined && was !== s.state) sweep.refresh();   // an early stop shows in the sweep's view
    dirty.studies = true;
  }
  if (dirty.studies) schedule();
}

export function studyRemoved() {
  range.key = sweep.key = '';
  dirty.studies = true;
}

/** Which range test and which sweep the panels show: the one picked, else the newest. */
function pickStudies() {
  const ranges = [...runs.values()].filter(r => isRangeTest(r.summary)).sort(newestFirst);
  const sweeps = new Map();   // sweep id -> its runs, the newest sweep first
  for (const r of [...runs.values()].sort(newestFirst)) {
    if (!r.summary.sweep) continue;
    if (!sweeps.has(r.summary.sweep)) sweeps.set(r.summary.sweep, []);
    sweeps.get(r.summary.sweep).push(r);
  }
  if (!range.pinned || !runs.has(range.id)) {
    const id = ranges.length ? ranges[0].summary.id : null;
    if (id !== range.id) { range.id = id; range.data = null; range.pinned = false; if (id) range.refresh(); }
  }
  if (!sweep.pinned || !sweeps.has(sweep.id)) {
    const id = sweeps.size ? sweeps.keys().next().value : null;
    if (id !== sweep.id) { sweep.id = id; sweep.early = {}; sweep.pinned = false; if (id) sweep.refresh(); }
  }
  fillPicker($('#range-panel'), range, ranges.map(r => [r.summary.id, `${r.summary.name} · ${r.summary.state}`]));
  fillPicker($('#sweep-panel'), sweep, [...sweeps].map(([id, list]) =>
    [id, `${id} · ${sweepName(list.map(r => r.summary.name))} · ${list.length} run${list.length === 1 ? '' : 's'}`]));
  return sweeps;
}

function fillPicker(panel, view, options) {
  const key = JSON.stringify([view.id, options]);
  if (view.key === key) return;
  view.key = key;
  const pick = $('.pick', panel);
  pick.textContent = '';
  for (const [id, label] of options) pick.append(new Option(label, id, false, id === view.id));
  pick.hidden = options.length < 2;   // one to show: nothing to pick
  panel.hidden = !options.length;
}

function pickStudy(kind, id) {
  const view = views[kind];
  view.pinned = true;
  if (view.id !== id) {
    view.id = id;
    view.key = '';
    if (kind === 'range') view.data = null; else view.early = {};
    view.refresh();
  }
  dirty.studies = true;
  schedule();
}

export function drawStudies() {
  dirty.studies = false;
  const sweeps = pickStudies();
  drawRange();
  drawSweep(sweeps.get(sweep.id) || []);
}

/** In a run's row, which study it is part of: a tag that shows that study in its panel. */
export function updateStudyTag(r) {
  const s = r.summary, cell = $('.name', r.row);
  let tag = $('.study-tag', cell);
  const kind = isRangeTest(s) ? 'range' : s.sweep ? 'sweep' : null;
  if (!kind) { if (tag) tag.remove(); return; }
  if (!tag) {
    tag = document.createElement('button');
    tag.type = 'button';
    tag.className = 'study-tag';
    tag.addEventListener('click', e => {
      e.stopPropagation();
      const id = tag.dataset.study === 'range' ? s.id : tag.dataset.sweep;
      pickStudy(tag.dataset.study, id);
      $(`#${tag.dataset.study}-panel`).scrollIntoView({ block: 'nearest' });
    });
    cell.append(tag);   // on its own line under the name, as a branch's lineage: the row no wider
  }
  tag.dataset.study = kind;
  if (kind === 'sweep') {
    tag.dataset.sweep = s.sweep;
    tag.textContent = `sweep ${s.sweep}`;
    tag.title = `one of sweep ${s.sweep}'s runs: show its U-curve`;
  } else {
    tag.textContent = 'range test';
    tag.title = 'an lr range test: show its curve';
  }
}

export function setupStudies() {
  $('#range-panel .pick').addEventListener('change', e => pickStudy('range', e.target.value));
  $('#sweep-panel .pick').addEventListener('change', e => pickStudy('sweep', e.target.value));
  setupRange();
  setupSweepPanel();
}

export function resizeStudies() {
  for (const [view, id] of [[range, '#chart-range'], [sweep, '#chart-sweep']]) {
    const el = $(id);
    if (view.chart && el.clientWidth) view.chart.setSize({ width: el.clientWidth, height: view.chart.height });
  }
}
