// Which metric charts there are: every name the runs logged is offered in the picker; the ones picked (remembered)
// get a panel each, after the gradient norm's. A name is as the script wrote it: train/loss, val.acc, val_loss.
import { $, $$ } from './dom.mjs';
import { runs, dirty, page, schedule } from './state.mjs';
import { epochMetric } from './xaxis.mjs';
import { load, save } from './prefs.mjs';

const DEFAULT_SHOWN = 6;   // picked by default: the first names, validation ones first
let chosen = load('metrics', null);   // names picked; null: the default
let offeredKey = '';

/** Every metric name a run has logged (the summary's, or seen in its steps), validation ones first. */
export function metricNames() {
  const names = new Set();
  for (const r of runs.values()) {
    for (const n of r.metrics.keys()) names.add(n);
    for (const n of Object.keys(r.summary.metrics || {})) names.add(n);
  }
  const val = n => (/^val|valid|test|eval/i.test(n) ? 0 : 1);
  return [...names].sort((a, b) => val(a) - val(b) || a.localeCompare(b));
}

/** The names charted, in the picker's order. */
export function shownMetrics(names = metricNames()) {
  const epoch = epochMetric(names);
  return chosen ? names.filter(n => chosen.includes(n)) : names.filter(n => n !== epoch).slice(0, DEFAULT_SHOWN);
}

/** The picker: a chip per name, checked when charted. Returns whether the charts' set changed. */
export function updatePicker() {
  dirty.metrics = false;
  const names = metricNames(), shown = shownMetrics(names), key = JSON.stringify([names, shown]);
  if (key === offeredKey) return false;
  offeredKey = key;
  const picker = $('#metric-picker');
  picker.hidden = !names.length;
  $('.metric-names', picker).replaceChildren(...names.map(n => {
    const label = document.createElement('label'), box = document.createElement('input');
    label.className = 'metric-name';
    box.type = 'checkbox';
    box.value = n;
    box.checked = shown.includes(n);
    label.append(box, ` ${n}`);
    return label;
  }));
  page.metrics = { names, shown };
  return true;
}

/** A panel for a metric's chart (made once, kept while charted): {el: the chart's div, panel}. */
export function metricPanel(name, index, onLog, isLog) {
  const box = $('#metric-charts');
  let panel = $$('.panel', box).find(p => p.dataset.metric === name);
  if (!panel) {
    panel = document.createElement('div');
    panel.className = 'panel metric-panel';
    panel.dataset.metric = name;
    panel.innerHTML = `<div class="panel-head"><h2></h2><label><input type="checkbox" class="metric-log"> log scale</label>
      <span class="hidden-note"></span></div>
      <div class="chart-box"><div class="chart" data-points="0"></div><p class="empty"></p></div>`;
    $('h2', panel).textContent = name;
    $('.chart', panel).dataset.metric = name;
    const log = $('.metric-log', panel);
    log.checked = isLog;
    log.addEventListener('change', () => onLog(name, log.checked));
  }
  if (box.children[index] !== panel) box.insertBefore(panel, box.children[index] || null);
  return panel;
}

/** Panels of metrics no longer charted go. */
export function dropPanels(keep) {
  for (const p of $$('#metric-charts .panel')) if (!keep.includes(p.dataset.metric)) p.remove();
}

export function setupMetricPicker() {
  $('#metric-picker .metric-names').addEventListener('change', e => {
    if (e.target.type !== 'checkbox') return;
    const names = metricNames(), now = shownMetrics(names).filter(n => n !== e.target.value);
    if (e.target.checked) now.push(e.target.value);
    chosen = names.filter(n => now.includes(n));
    save('metrics', chosen);
    dirty.metrics = dirty.structure = true;
    schedule();
  });
}
