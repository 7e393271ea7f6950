// The runs table's rows: one per run with its state, numbers, the columns chosen (config values, results), its
// tags and notes (editable here), its diagnosis and controls (lr, pause, resume, stop, what-if branches, run
// again, delete, export). runs-view.mjs orders, filters and groups them.
import { $ } from './dom.mjs';
import { fmt, rewindText, advisedLr, LIVE, whatIf } from './format.mjs';
import { valueOf } from './compare.mjs';
import { runs, hidden } from './state.mjs';
import { call } from './api.mjs';
import { feedback } from './alerts.mjs';
import { toggleRun, highlight, syncShown } from './legend.mjs';
import { runAgain } from './forms.mjs';
import { updateStudyTag } from './studies.mjs';
import { exportRuns } from './export.mjs';
import { table } from './table-state.mjs';

export function makeRow(r) {
  const id = r.summary.id;
  const tr = document.createElement('tr');
  tr.dataset.run = id;
  tr.innerHTML = `
    <td><input type="checkbox" class="show" ${hidden.has(id) ? '' : 'checked'}></td>
    <td class="name"><span class="swatch"></span><span class="label"></span><button type="button" class="edit"
      title="tags and notes">✎</button><div class="lineage" hidden></div>
      <div class="meta"><span class="exports">⤓<button type="button" data-export="csv"
        title="this run's history and config as CSV">csv</button><button type="button" data-export="json"
        title="this run's history and config as JSON">json</button><button type="button" class="zoom-run"
        title="zoom every chart to this run's x range (double-click a chart to undo)">⤢ x</button></span><span class="tags"></span><span class="notes"></span></div></td>
    <td class="state"><span class="badge"></span><span class="rewinds" hidden></span></td>
    <td class="num step"></td><td class="num loss"></td><td class="num lr"></td>
    <td class="diag"></td>
    <td><div class="controls">
      <span class="live-only">
        <input class="lr-input" type="text" inputmode="decimal" placeholder="new lr" aria-label="new lr">
        <button data-act="lr">set lr</button>
        <button data-act="pause">pause</button>
      </span>
      <button data-act="resume">resume</button>
      <span class="live-only"><button data-act="stop">stop</button></span>
      <span class="what-if">
        <button data-act="branch" data-factor="10" title="a new run from this one's state now, lr ×10">what if ×10</button>
        <button data-act="branch" data-factor="0.1" title="a new run from this one's state now, lr ÷10">what if ÷10</button>
      </span>
      <button data-act="again" hidden>run again</button>
      <button data-act="delete" class="danger">delete</button>
    </div></td>`;
  $('.swatch', tr).style.backgroundColor = r.color;   // the colour only: a branch's dashes are a background image
  if (r.summary.parent) {
    tr.dataset.parent = r.summary.parent;
    $('.swatch', tr).classList.add('dashed');
  }
  $('.show', tr).addEventListener('change', e => toggleRun(id, e.target.checked));
  tr.addEventListener('click', e => {
    const t = e.target, act = t.dataset && t.dataset.act;
    if (t.dataset && t.dataset.export) exportRuns([id], t.dataset.export, runs.get(id).summary.name);
    else if (t.classList.contains('edit')) toggleEditor(r);
    else if (t.classList.contains('zoom-run')) document.dispatchEvent(new CustomEvent('zoom-run', { detail: id }));
    else if (act === 'again') runAgain(runs.get(id));
    else if (act === 'branch') branch(id, Number(t.dataset.factor), t);
    else if (act) control(id, act, tr);
  });
  $('.lr-input', tr).addEventListener('keydown', e => { if (e.key === 'Enter') control(id, 'lr', tr); });
  tr.addEventListener('mouseenter', () => highlight(id, true));
  tr.addEventListener('mouseleave', () => highlight(id, false));
  r.rowDirty = true;
  return tr;
}

export function updateRow(r) {
  const s = r.summary, tr = r.row;
  tr.dataset.state = s.state;
  tr.dataset.step = r.last.step;
  tr.dataset.points = r.series.step.length;
  tr.className = s.state + (tr.classList.contains('hl') ? ' hl' : '');
  $('.label', tr).textContent = s.name;
  $('.label', r.entry).textContent = s.name;
  $('.name', tr).title = `${s.name}\n${s.id}\n${JSON.stringify(s.spec)}`;
  const badge = $('.badge', tr);
  badge.textContent = s.state;
  badge.className = `badge ${s.state}`;
  $('.step', tr).textContent = r.last.step;
  $('.loss', tr).textContent = fmt(r.last.loss);
  $('.lr', tr).textContent = fmt(r.last.lr);
  updateColumns(r);
  updateMeta(r);
  updateDiagnosis(r);
  updateLineage(r);
  updateRewinds(r);
  updateStudyTag(r);
  const live = LIVE.has(s.state), builtin = s.source !== 'external';
  for (const el of tr.querySelectorAll('.live-only')) el.hidden = !live;
  $('[data-act=pause]', tr).hidden = s.state === 'paused';
  // a restart cut a built-in run off: the server takes it on from its last checkpoint (a script resumes its own)
  const interrupted = (s.state === 'interrupted' || s.state === 'lost') && builtin, resume = $('[data-act=resume]', tr);
  resume.hidden = s.state !== 'paused' && !interrupted;
  resume.title = s.state === 'lost' ? 'its node is gone: this node takes it over and goes on from its last checkpoint'
    : interrupted ? 'go on from its last checkpoint' : '';
  $('.what-if', tr).hidden = !builtin || !['running', 'paused'].includes(s.state);
  $('[data-act=pause]', tr).disabled = s.state !== 'running';
  for (const a of ['lr', 'stop']) $(`[data-act=${a}]`, tr).disabled = !live;
  const again = $('[data-act=again]', tr), lr = advisedLr(s);
  again.hidden = live || s.source === 'external';   // a script elsewhere trains it: nothing to run again here
  again.textContent = lr === null ? 'run again' : `run again, lr ${fmt(lr)}`;
  again.title = `fill the form with this run's spec${lr === null ? '' : `, lr ${fmt(lr)} as the diagnosis advises`}`;
  const apply = $('[data-act=apply]', tr);
  if (apply) apply.hidden = !live;   // an ended run takes its advice through "run again"
  r.rowDirty = false;
}

/** The chosen columns' cells, after the lr cell, in the header's order. */
function updateColumns(r) {
  const tr = r.row, row = table.rows.get(r.summary.id);
  let cells = [...tr.querySelectorAll('td.col')];
  if (cells.map(c => c.dataset.col).join('\n') !== table.columns.join('\n')) {
    for (const c of cells) c.remove();
    cells = table.columns.map(id => {
      const td = document.createElement('td');
      td.className = 'col';
      td.dataset.col = id;
      return td;
    });
    $('.lr', tr).after(...cells);
  }
  for (const td of cells) {
    const v = row ? valueOf(row, td.dataset.col) : undefined, numeric = typeof v === 'number';
    td.classList.toggle('num', numeric);
    td.textContent = v === undefined ? '' : numeric ? fmt(v) : String(v);
    td.title = v === undefined ? '' : `${td.dataset.col.replace(/^\w+:/, '')} = ${numeric ? v : String(v)}`;
  }
}

/** Tags as chips and the note's first line under the name (the whole note as its title). */
function updateMeta(r) {
  const s = r.summary, tags = $('.tags', r.row), notes = $('.notes', r.row);
  const list = s.tags || [], key = JSON.stringify(list);
  if (tags.dataset.key !== key) {
    tags.dataset.key = key;
    tags.replaceChildren(...list.map(t => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'tag';
      b.textContent = t;
      b.title = `show only the runs tagged ${t}`;
      b.addEventListener('click', e => { e.stopPropagation(); table.setFilter(`tag:${/\s/.test(t) ? `"${t}"` : t}`); });
      return b;
    }));
  }
  notes.textContent = (s.notes || '').split('\n')[0];
  notes.title = s.notes || '';
}

// ---- tags and notes, edited in a row under the run's ----
function toggleEditor(r) {
  const next = r.row.nextElementSibling;
  if (next && next.classList.contains('editor') && next.dataset.run === r.summary.id) { next.remove(); return; }
  const tr = document.createElement('tr'), s = r.summary;
  tr.className = 'editor';
  tr.dataset.run = s.id;
  tr.innerHTML = `<td></td><td colspan="99"><form class="edit-form" autocomplete="off">
      <label>tags <input name="tags" placeholder="comma-separated, e.g. baseline, cosine"></label>
      <label>notes <textarea name="notes" rows="2" placeholder="what this run tried, what it showed"></textarea></label>
      <button type="submit">save</button> <button type="button" class="cancel">cancel</button>
      <span class="error" role="alert"></span></form></td>`;
  const f = $('form', tr);
  f.tags.value = (s.tags || []).join(', ');
  f.notes.value = s.notes || '';
  $('.cancel', f).addEventListener('click', () => tr.remove());
  f.addEventListener('submit', async e => {
    e.preventDefault();
    const tags = f.tags.value.split(',').map(t => t.trim()).filter(Boolean);
    const res = await call('PATCH', `/api/runs/${encodeURIComponent(s.id)}`, { tags, notes: f.notes.value });
    if (!res.ok) { $('.error', f).textContent = res.message; return; }
    feedback(`${s.name}: tags and notes saved`);
    tr.remove();
  });
  r.row.after(tr);
  f.tags.focus();
}

/** "↳ branch of <parent> at step k": the parent's name once the page knows it (a deleted one: its id). */
function updateLineage(r) {
  const s = r.summary, el = $('.lineage', r.row);
  el.hidden = !s.parent;
  if (!s.parent) return;
  const p = runs.get(s.parent), text = `↳ branch of ${p ? p.summary.name : `run ${s.parent}`} at step ${s.branched_at}`;
  if (el.textContent === text) return;
  el.textContent = text;
  el.title = text;
  r.entry.dataset.lineage = text;
  syncShown(r);
}

/** How many times the run's guard rolled it back; each rewind in the title (and marked on the loss chart). */
function updateRewinds(r) {
  const s = r.summary, list = s.rewinds || [], el = $('.rewinds', r.row);
  el.hidden = !list.length;
  el.dataset.count = list.length;
  el.textContent = `↺ ${list.length}`;
  el.title = `${list.length} rewind${list.length === 1 ? '' : 's'}:\n${list.map(w => rewindText(s.name, w)).join('\n')}`;
}

function updateDiagnosis(r) {
  const d = r.summary.diagnosis, cell = $('.diag', r.row);
  const key = d ? JSON.stringify([d.verdict, d.advice, d.suggested_lr]) : '';
  if (cell.dataset.key === key) return;   // keep the apply button alive between updates
  cell.dataset.key = key;
  cell.textContent = '';
  if (!d) return;
  const box = document.createElement('div'), verdict = document.createElement('b');
  box.className = 'diag-box';
  verdict.textContent = String(d.verdict || '').replace(/_/g, ' ');
  cell.title = [d.evidence, d.since_step ? `since step ${d.since_step}` : ''].filter(Boolean).join('\n');
  box.append(verdict, ' ', d.advice || '');
  if (typeof d.suggested_lr === 'number') {
    const b = document.createElement('button');
    b.dataset.act = 'apply';
    b.textContent = `apply lr ${fmt(d.suggested_lr)}`;
    box.append(' ', b);
  }
  cell.append(box);
}

const DONE = { pause: 'paused', resume: 'resumed', stop: 'stopped', delete: 'deleted', apply: 'advice applied' };

async function control(id, act, tr) {
  const name = runs.has(id) ? runs.get(id).summary.name : id;
  let method = 'POST', path = `/api/runs/${encodeURIComponent(id)}/${act}`, body;
  if (act === 'delete') { method = 'DELETE'; path = `/api/runs/${encodeURIComponent(id)}`; }
  if (act === 'apply') path = `/api/runs/${encodeURIComponent(id)}/apply-advice`;
  if (act === 'lr') {
    const input = $('.lr-input', tr), text = input.value.trim(), lr = Number(text);
    if (text === '') { feedback(`${name}: enter an lr first`, true); return; }
    if (!Number.isFinite(lr)) { feedback(`${name}: lr: "${text}" is not a number`, true); return; }
    body = { lr };
  }
  const res = await call(method, path, body);
  if (res.ok) feedback(`${name}: ${act === 'lr' ? `lr → ${fmt(body.lr)}` : DONE[act] || act}`);
  else feedback(`${name}: ${res.message}`, true);
}

/** "what if ×10 / ÷10": a branch of the run from its state now, the lr scaled; the server names it. */
async function branch(id, factor, button) {
  const name = runs.has(id) ? runs.get(id).summary.name : id, what = whatIf(factor);
  button.disabled = true;   // one click, one branch
  const res = await call('POST', `/api/runs/${encodeURIComponent(id)}/branch`, { lr_factor: factor });
  button.disabled = false;
  if (res.ok) feedback(`${name}: ${what} → started “${res.json.name}”`);
  else feedback(`${name}: ${what} failed: ${res.message}`, true);
}

