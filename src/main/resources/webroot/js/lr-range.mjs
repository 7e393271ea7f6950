// The lr range test's panel: loss and smoothed loss against a log lr (GET /api/lr-range/{id}, fetched again as its
// steps stream in), the three lrs it suggests marked, each with a button that starts a run with it.
import { $, $$ } from './dom.mjs';
import { num, fmt } from './format.mjs';
import { throttled } from './throttle.mjs';
import { lrChart, yScale, logTicks } from './plot.mjs';
import { runs, dirty, page, schedule } from './state.mjs';
import { call } from './api.mjs';
import { startFrom, FOLLOW_UP_STEPS } from './forms.mjs';

const REFRESH_MS = 300;   // the REST view: fetched at most this often
const SUGGESTIONS = ['steepest', 'valley', 'minimum/10'];
const SUGGESTION_TEXT = {
  steepest: 'where the smoothed loss falls fastest (Lightning)',
  valley: 'in the longest descent, before the minimum (fastai)',
  'minimum/10': 'a tenth of the lr at the lowest smoothed loss',
};

/** The range test shown: which (picked or the newest), its REST view, its chart. */
export const range = { id: null, pinned: false, data: null, chart: null, chartRun: null, log: true, key: '', marks: [] };

range.refresh = throttled(async () => {
  const id = range.id;
  if (!id) return;
  const res = await call('GET', `/api/lr-range/${encodeURIComponent(id)}`);
  if (id !== range.id) return;
  range.data = res.ok ? res.json : { error: res.message };
  dirty.studies = true;
  schedule();
}, REFRESH_MS);

export function drawRange() {
  const panel = $('#range-panel'), el = $('#chart-range');
  const r = runs.get(range.id), d = range.data;
  if (!r) { page.studies.range = null; return; }
  if (!range.chart || range.chartRun !== range.id) buildRangeChart();   // the smoothed line in the run's colour
  const ok = d && !d.error && d.run === range.id;
  const lr = ok ? d.lr.map(num) : [], keep = v => (v === null || !Number.isFinite(v) || (range.log && v <= 0) ? null : v);
  const loss = ok ? d.loss.map(num).map(keep) : [], smoothed = ok ? d.smoothed.map(num).map(keep) : [];
  range.chart.setData([lr, loss, smoothed]);
  const sugg = ok ? d.suggestions || {} : {};
  range.marks = SUGGESTIONS.map(k => ({ key: k, lr: num(sugg[k]) })).filter(m => m.lr !== null && Number.isFinite(m.lr));
  placeSuggestions(range.chart);
  el.dataset.points = lr.length;
  const empty = $('.empty', panel);
  empty.textContent = d && d.error ? d.error : !ok ? 'loading…' : lr.length ? '' : 'no steps yet';
  empty.hidden = !empty.textContent;
  const state = ok ? d.state : r.summary.state;
  $('.status', panel).textContent = !ok ? state
    : `${state}: ${lr.length} of ${fmt(num(d.num_steps))} steps${d.stopped_early ? ', stopped early: the loss ran away' : ''}`;
  panel.dataset.run = range.id;
  panel.dataset.state = state;
  $('.key-line.smoothed', panel).style.borderTopColor = r.color;
  showSuggestions(panel, r, ok ? sugg : null);
  page.studies.range = { run: range.id, state, points: lr.length,
    suggestions: Object.fromEntries(range.marks.map(m => [m.key, m.lr])) };
}

function buildRangeChart() {
  const el = $('#chart-range'), r = runs.get(range.id);
  if (range.chart) range.chart.destroy();
  range.chart = lrChart(el, yScale(range.log), { size: 64, ...(range.log ? logTicks : {}) },
    [{}, { label: 'loss', stroke: '#9aa3b5', width: 1, points: { show: false } },
      { label: 'smoothed', stroke: r ? r.color : '#2f6fdb', width: 2, points: { show: false } }],
    { draw: [u => placeSuggestions(u)] }, [[], [], []]);
  range.chartRun = range.id;
}

/** A dashed line at each suggested lr, labelled: elements, so each has its title and the tests can find them. */
function placeSuggestions(u) {
  const els = $$('.suggest-mark', u.over);
  const { min, max } = u.scales.x;
  let n = 0;
  for (const m of range.marks || []) {
    if (min == null || !(m.lr >= min && m.lr <= max)) continue;
    const el = els[n] || u.over.appendChild(document.createElement('div'));
    el.className = 'suggest-mark';
    el.dataset.suggestion = m.key;
    el.dataset.lr = m.lr;
    el.style.left = `${u.valToPos(m.lr, 'x')}px`;
    el.style.setProperty('--row', n);
    el.textContent = m.key;
    el.title = `${m.key}: lr ${fmt(m.lr)}, ${SUGGESTION_TEXT[m.key]}`;
    n++;
  }
  for (const el of els.slice(n)) el.remove();
}

/** Each suggestion's lr, and a button that fills the form to start a run with it. */
function showSuggestions(panel, r, sugg) {
  const box = $('.suggestions', panel);
  if (!box.children.length) {
    for (const k of SUGGESTIONS) {
      const row = document.createElement('div');
      row.className = 'suggestion';
      row.dataset.suggestion = k;
      row.innerHTML = '<span class="key"></span> <b class="lr"></b> <button type="button">start a run with this lr</button>';
      $('.key', row).textContent = k;
      $('.key', row).title = SUGGESTION_TEXT[k];
      $('button', row).addEventListener('click', () => startFromSuggestion(k));
      box.append(row);
    }
  }
  for (const row of box.children) {
    const v = sugg ? num(sugg[row.dataset.suggestion]) : null, ok = v !== null && Number.isFinite(v) && v > 0;
    $('.lr', row).textContent = ok ? fmt(v) : '–';
    row.dataset.lr = ok ? v : '';
    const b = $('button', row);
    b.disabled = !ok;
    b.title = ok ? `fill the form with ${r.summary.name}'s spec, lr ${fmt(v)}, ${FOLLOW_UP_STEPS} steps` : 'no suggestion (yet)';
  }
}

function startFromSuggestion(key) {
  const r = runs.get(range.id), d = range.data;
  const lr = d && d.suggestions ? num(d.suggestions[key]) : null;
  if (!r || lr === null || !Number.isFinite(lr)) return;
  startFrom(r.summary, key, lr);
}

export function setupRange() {
  $('#range-panel .study-log').addEventListener('change', e => {
    range.log = e.target.checked;
    if (range.chart) { range.chart.destroy(); range.chart = null; }
    dirty.studies = true;
    schedule();
  });
}
