// The runs table as a comparison: which runs the filter lets through, in what order (a column's, or as they came
// with each branch under its parent), in which groups (each with its mean and range per column), with which
// columns. Also what the legend lists, and so what the charts draw.
import { $, $$ } from './dom.mjs';
import { fmt, num } from './format.mjs';
import { rowOf, columnsOf, varying, valueOf, parseFilter, matches, sortRows, groupRows, stats, higherIsBetter }
  from './compare.mjs';
import { palette } from './colors.mjs';
import { runs, hidden, dirty, view, page, schedule } from './state.mjs';
import { metricStats } from './runs.mjs';
import { showOnly } from './legend.mjs';
import { exportRuns } from './export.mjs';
import { table } from './table-state.mjs';
import { load, save } from './prefs.mjs';

const BUILT_IN = [['run:name', 'name'], ['run:state', 'state'], ['result:step', 'step', 'num'], ['result:loss', 'loss', 'num'],
  ['result:lr', 'lr', 'num']];
const RESORT_MS = 1000;   // a table sorted by live numbers reorders at most this often
const groupColors = palette();
let resortTimer = 0;

const settings = {
  sort: load('sort', null),            // {col, dir}
  groupBy: load('groupBy', ''),        // '', 'sweep', 'tag' or a column id
  columns: load('columns', null),      // the ids chosen; null: the config keys that vary
  filter: '',
};
view.drawGroups = load('drawGroups', false);
let available = [], lastOrder = 0, headKey = '';
const AUTO_COLUMNS = 3;   // config keys shown when none were chosen: at most this many, fewer when the table would scroll
let autoColumns = AUTO_COLUMNS;

/** Each run's comparable row: its summary, its metrics (the server's, else what the page holds), its numbers now. */
function refreshRows() {
  table.rows.clear();
  for (const r of runs.values()) {
    const row = rowOf(r.summary, metricStats(r));
    row.results.step = r.last.step;
    row.results.loss = r.last.loss;
    row.results.lr = r.last.lr;
    let best = num(r.summary.best_loss);
    for (const v of r.series.loss) if (v !== null && Number.isFinite(v) && (best === null || !(v >= best))) best = v;
    row.results.best_loss = best;
    table.rows.set(r.summary.id, row);
  }
}

/** As the runs came, each branch right under its parent's line. */
function lineOrder() {
  const out = [], placed = new Set(), children = new Map();
  for (const r of runs.values()) {
    const p = r.summary.parent;
    if (p && runs.has(p)) {
      if (!children.has(p)) children.set(p, []);
      children.get(p).push(r.summary.id);
    }
  }
  const place = id => {
    if (placed.has(id)) return;
    placed.add(id);
    out.push(id);
    for (const c of children.get(id) || []) place(c);
  };
  for (const r of runs.values()) if (!r.summary.parent || !runs.has(r.summary.parent)) place(r.summary.id);
  for (const id of runs.keys()) place(id);   // a cycle of parents, never expected: still shown
  return out;
}

/** Recomputes the view (at most every RESORT_MS when only numbers moved, at once when `now`) and lays it out. */
export function updateView(now = false) {
  const t = performance.now();
  if (!now && t - lastOrder < RESORT_MS && view.order.length <= runs.size) {
    if (!resortTimer) resortTimer = setTimeout(() => { resortTimer = 0; schedule(); }, lastOrder + RESORT_MS - t);
    dirty.view = true;
    return false;
  }
  lastOrder = t;
  dirty.view = false;
  refreshRows();
  const rows = [...table.rows.values()];
  available = columnsOf(rows);
  const chosen = settings.columns || varying(rows, autoColumns);
  table.columns = chosen.filter(id => available.some(c => c.id === id));
  const f = parseFilter(settings.filter);
  $('.filter-note').textContent = f.error || '';
  $('#filter').toggleAttribute('aria-invalid', Boolean(f.error));
  const byId = id => table.rows.get(id);
  let list = lineOrder().map(byId).filter(Boolean);
  if (!f.error) list = list.filter(r => matches(r, f.terms, available));
  if (settings.sort) list = sortRows(list, settings.sort.col, settings.sort.dir);
  view.groups = settings.groupBy ? groupRows(list, settings.groupBy) : null;
  if (view.groups) list = view.groups.flatMap(g => g.rows);
  view.order = list.map(r => r.id);
  view.passing = new Set(view.order);
  page.view = { order: view.order, groups: view.groups ? view.groups.map(g => ({ key: g.key, runs: g.rows.map(r => r.id) })) : null,
    columns: table.columns, autoColumns };
  layout();
  if (!settings.columns && autoColumns > 0 && table.columns.length >= autoColumns && overflows()) {
    autoColumns--;   // the columns nobody chose give way before the table scrolls sideways
    return updateView(true);
  }
  updatePickers();
  dirty.scatter = true;
  return true;
}

/** Whether the table is wider than its panel (its rows laid out as they are now). */
function overflows() {
  for (const r of runs.values()) if (r.rowDirty && !r.row.hidden) updateRowNow(r);
  const panel = $('section.runs');
  return panel.scrollWidth > panel.clientWidth + 1;
}

let updateRowNow = () => {};
/** runs-table.mjs's updateRow, lent by main.mjs (the view measures rows laid out as they will be drawn). */
export function measureWith(fn) { updateRowNow = fn; }

/** A wider window may take the columns back. */
export function widthChanged() {
  autoColumns = AUTO_COLUMNS;
  updateView(true);
}

/** The rows, group rows and legend entries in the view's order; runs the filter keeps out hidden. */
function layout() {
  buildHead();
  const body = $('#runs tbody'), legend = $('#legend');
  for (const el of $$('tr.group-row', body)) el.remove();
  const rowsInOrder = [];
  const groupOf = new Map();
  (view.groups || []).forEach((g, gi) => { for (const r of g.rows) if (!groupOf.has(r.id)) groupOf.set(r.id, gi); });
  let lastGroup = -1;
  for (const id of view.order) {
    const r = runs.get(id);
    if (view.groups && groupOf.get(id) !== lastGroup) {
      lastGroup = groupOf.get(id);
      rowsInOrder.push(groupRow(view.groups[lastGroup], lastGroup));
    }
    rowsInOrder.push(r.row);
    const editor = r.row.nextElementSibling;
    if (editor && editor.classList.contains('editor') && editor.dataset.run === id) rowsInOrder.push(editor);
    r.row.hidden = false;
    r.entry.hidden = false;
    r.rowDirty = true;   // its chosen columns
  }
  for (const r of runs.values()) {
    if (view.passing.has(r.summary.id)) continue;
    r.row.hidden = true;
    r.entry.hidden = true;
    rowsInOrder.push(r.row);
  }
  body.append(...rowsInOrder);   // moves: each element keeps its state (an lr being typed, a focused button)
  legend.append(...view.order.map(id => runs.get(id).entry), ...[...runs.values()].filter(r => !view.passing.has(r.summary.id)).map(r => r.entry));
  legendGroups();
  // what the charts draw follows the filter and the order: rebuilt when that changed, else only redrawn
  const drawnKey = JSON.stringify([view.order.filter(id => !hidden.has(id)), view.groups && view.groups.map(g => g.key)]);
  if (drawnKey !== lastDrawnKey) { lastDrawnKey = drawnKey; dirty.structure = true; } else dirty.charts = true;
  filterLegend();
}
let lastDrawnKey = '';

/** The header: the built-in columns, the chosen ones, each a sort button; "draw all" first. */
function buildHead() {
  const key = JSON.stringify([table.columns, settings.sort, available.map(c => c.id)]);
  if (key === headKey) return;
  headKey = key;
  const tr = $('#runs thead tr'), label = id => (available.find(c => c.id === id) || { label: id }).label;
  const all = hidden.size === 0;
  tr.innerHTML = `<th><input type="checkbox" id="select-all" title="draw all" ${all ? 'checked' : ''}></th>`;
  const cells = [...BUILT_IN.map(([id, text, cls]) => [id, text, cls]), ...table.columns.map(id => [id, label(id), 'col'])];
  for (const [id, text, cls] of cells) {
    const th = document.createElement('th');
    if (cls) th.className = cls;
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'sort';
    b.dataset.sort = id;
    const s = settings.sort && settings.sort.col === id ? settings.sort.dir : 0;
    b.textContent = `${text}${s > 0 ? ' ▲' : s < 0 ? ' ▼' : ''}`;
    b.title = s ? `sorted by ${text}, ${s > 0 ? 'lowest' : 'highest'} first: click to change` : `sort by ${text}`;
    th.dataset.col = id;
    th.append(b);
    tr.append(th);
  }
  tr.insertAdjacentHTML('beforeend', '<th>diagnosis</th><th>control</th>');
  for (const r of runs.values()) r.rowDirty = true;
}

/** A group's row: its runs shown or not, its name and size, each numeric column's mean and range. */
function groupRow(g, gi) {
  const tr = document.createElement('tr');
  tr.className = 'group-row';
  tr.dataset.group = g.key;
  const ids = g.rows.map(r => r.id), shown = ids.filter(id => !hidden.has(id)).length;
  const color = groupColors.colorOf(gi);
  tr.innerHTML = `<td><input type="checkbox" class="group-show"></td><td class="name" colspan="2"><span class="swatch"></span>
    <b class="group-key"></b> <span class="muted count"></span></td>`;
  const box = $('.group-show', tr);
  box.checked = shown === ids.length;
  box.indeterminate = shown > 0 && shown < ids.length;
  box.title = `draw ${box.checked ? 'none' : 'all'} of this group's runs`;
  box.addEventListener('change', () => showOnly(id => (ids.includes(id) ? box.checked : !hidden.has(id))));
  $('.swatch', tr).style.backgroundColor = color;
  $('.group-key', tr).textContent = g.key;
  $('.count', tr).textContent = `${g.rows.length} run${g.rows.length === 1 ? '' : 's'}`;
  for (const id of ['result:step', 'result:loss', 'result:lr', ...table.columns]) {
    const td = document.createElement('td'), st = stats(g.rows.map(r => valueOf(r, id)));
    td.className = 'num group-stat';
    td.dataset.col = id;
    if (st) {
      td.textContent = st.n > 1 && st.min !== st.max ? `${fmt(st.mean)} (${fmt(st.min)}–${fmt(st.max)})` : fmt(st.mean);
      td.title = `mean of ${st.n}: ${st.mean}; range ${st.min} to ${st.max}`;
      td.dataset.mean = st.mean;
    } else {
      const values = new Set(g.rows.map(r => valueOf(r, id)).filter(v => v !== undefined && v !== null).map(String));
      td.textContent = values.size === 1 ? [...values][0] : '';
      td.classList.remove('num');
    }
    tr.append(td);
  }
  tr.insertAdjacentHTML('beforeend', '<td></td><td></td>');
  g.color = color;
  return tr;
}

/** In the legend, each group a chip that shows or hides its runs. */
function legendGroups() {
  const box = $('.legend-groups');
  box.replaceChildren(...(view.groups || []).map((g, gi) => {
    const b = document.createElement('button'), ids = g.rows.map(r => r.id);
    b.type = 'button';
    b.className = 'group-chip';
    b.dataset.group = g.key;
    const shown = ids.filter(id => !hidden.has(id)).length;
    b.classList.toggle('off', shown === 0);
    b.innerHTML = '<span class="swatch"></span><span class="label"></span>';
    $('.swatch', b).style.backgroundColor = groupColors.colorOf(gi);
    $('.label', b).textContent = `${g.key} (${ids.length})`;
    b.title = `${shown ? 'hide' : 'show'} the ${ids.length} runs of ${g.key}`;
    b.addEventListener('click', () => showOnly(id => (ids.includes(id) ? shown === 0 : !hidden.has(id))));
    return b;
  }));
}

// ---- the controls: filter, group by, columns, draw groups, export, sort ----
function setFilter(text) {
  settings.filter = text;
  $('#filter').value = text;
  updateView(true);
  schedule();
}

/** The group-by choices: sweep, tag, then every column. */
function fillGroupBy() {
  const sel = $('#group-by'), key = JSON.stringify(available.map(c => c.id));
  if (sel.dataset.key === key) return;
  sel.dataset.key = key;
  sel.replaceChildren(new Option('nothing', ''), new Option('sweep', 'sweep'), new Option('tag (the first)', 'tag'),
    ...available.filter(c => c.group === 'config').map(c => new Option(c.label, c.id)));
  sel.value = settings.groupBy;
}

/** The column picker: a checkbox per column, config first, then results. */
function fillColumnPicker() {
  const list = $('.col-picker .col-list'), key = JSON.stringify([available.map(c => c.id), table.columns]);
  if (list.dataset.key === key) return;
  list.dataset.key = key;
  const section = (title, cols) => {
    const div = document.createElement('div');
    div.className = 'col-group';
    div.innerHTML = `<b>${title}</b>`;
    for (const c of cols) {
      const label = document.createElement('label'), box = document.createElement('input');
      box.type = 'checkbox';
      box.value = c.id;
      box.checked = table.columns.includes(c.id);
      label.append(box, ` ${c.label}`);
      div.append(label);
    }
    return div;
  };
  const reset = document.createElement('button');
  reset.type = 'button';
  reset.className = 'reset';
  reset.textContent = 'the config keys that differ';
  reset.title = 'forget your choice: show the (at most 3) config keys whose values differ among the runs';
  list.replaceChildren(section('config', available.filter(c => c.group === 'config')),
    section('results', available.filter(c => c.group === 'result' && !BUILT_IN.some(([id]) => id === c.id))), reset);
}

// ---- the legend's search: which entries it lists; "show these", "hide these" ----
function filterLegend() {
  const q = $('#legend-search').value.trim().toLowerCase();
  let n = 0;
  for (const id of view.order) {
    const r = runs.get(id), row = table.rows.get(id);
    const hit = !q || [r.summary.name, ...(row ? row.tags : []), r.summary.sweep || ''].some(t => String(t).toLowerCase().includes(q));
    r.entry.hidden = !hit;
    if (hit) n++;
  }
  $('.legend-count').textContent = q ? `${n} of ${view.order.length} runs` : '';
  return n;
}

const listed = () => view.order.filter(id => !runs.get(id).entry.hidden);

export function setupView() {
  table.setFilter = setFilter;
  $('#legend-search').addEventListener('input', filterLegend);
  for (const b of $$('.legend-tools [data-legend]')) {
    b.addEventListener('click', () => {
      const ids = new Set(listed()), show = b.dataset.legend === 'show';
      showOnly(id => (ids.has(id) ? show : !hidden.has(id)));
    });
  }
  const filter = $('#filter');
  filter.addEventListener('input', () => { settings.filter = filter.value; updateView(true); schedule(); });
  $('#group-by').addEventListener('change', e => {
    settings.groupBy = e.target.value;
    save('groupBy', settings.groupBy);
    updateView(true);
    schedule();
  });
  const draw = $('#draw-groups');
  draw.checked = view.drawGroups;
  draw.addEventListener('change', () => { view.drawGroups = draw.checked; save('drawGroups', draw.checked); dirty.structure = true; schedule(); });
  $('.col-picker .col-list').addEventListener('change', e => {
    if (e.target.type !== 'checkbox') return;
    const ids = table.columns.filter(id => id !== e.target.value);
    if (e.target.checked) ids.push(e.target.value);
    settings.columns = ids;
    save('columns', ids);
    updateView(true);
    schedule();
  });
  $('.col-picker .col-list').addEventListener('click', e => {
    if (!e.target.classList.contains('reset')) return;
    settings.columns = null;
    save('columns', undefined);
    updateView(true);
    schedule();
  });
  $('#runs thead').addEventListener('click', e => {
    const col = e.target.dataset && e.target.dataset.sort;
    if (!col) return;
    const s = settings.sort, c = available.find(x => x.id === col);
    // first click: lowest first, or highest first for a result people want high (accuracy); then the other way;
    // then as they came
    const first = c && c.group === 'result' && higherIsBetter(c.label) ? -1 : 1;
    settings.sort = !s || s.col !== col ? { col, dir: first } : s.dir === first ? { col, dir: -first } : null;
    save('sort', settings.sort);
    updateView(true);
    schedule();
  });
  $('#runs thead').addEventListener('change', e => {
    if (e.target.id === 'select-all') showOnly(() => e.target.checked);
  });
  for (const b of $$('.compare-bar [data-export]')) {
    b.addEventListener('click', () => exportRuns(view.order.filter(id => !hidden.has(id)), b.dataset.export));
  }
}

/** After each view update: the pickers follow what the runs offer. */
export function updatePickers() {
  fillGroupBy();
  fillColumnPicker();
}
