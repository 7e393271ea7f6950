// The legend above the loss chart and the table's checkboxes: two views of one choice, what is drawn.
import { $ } from './dom.mjs';
import { runs, hidden, dirty, schedule } from './state.mjs';

export function makeEntry(r) {
  const id = r.summary.id;
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'entry';
  b.dataset.run = id;
  b.innerHTML = '<span class="swatch"></span><span class="label"></span>';
  if (r.summary.parent) b.classList.add('branch');   // marked as its line is: dashed
  $('.swatch', b).style.backgroundColor = r.color;
  b.addEventListener('click', () => toggleRun(id, hidden.has(id)));
  b.addEventListener('mouseenter', () => highlight(id, true));
  b.addEventListener('mouseleave', () => highlight(id, false));
  syncShown(r, b);
  return b;
}

/** A run's row and legend entry lit while the mouse is on either (or on its sweep point). */
export function highlight(id, on) {
  const r = runs.get(id);
  if (!r) return;
  r.row.classList.toggle('hl', on);
  r.entry.classList.toggle('hl', on);
}

/** The row's checkbox and the entry's look follow `hidden`. */
export function syncShown(r, entry = r.entry) {
  const shown = !hidden.has(r.summary.id);
  if (r.row) $('.show', r.row).checked = shown;
  entry.classList.toggle('off', !shown);
  entry.setAttribute('aria-pressed', String(shown));
  entry.title = `${shown ? 'hide' : 'show'} ${r.summary.name}${entry.dataset.lineage ? `\n${entry.dataset.lineage}` : ''}`;
}

export function toggleRun(id, show) {
  if (show) hidden.delete(id); else hidden.add(id);
  if (runs.has(id)) syncShown(runs.get(id));
  shownChanged();
}

/** Shows exactly the runs `show(id)` says, every row and entry following. */
export function showOnly(show) {
  for (const id of runs.keys()) if (show(id)) hidden.delete(id); else hidden.add(id);
  for (const r of runs.values()) syncShown(r);
  shownChanged();
}

function shownChanged() {
  const all = $('#select-all');
  if (all) all.checked = hidden.size === 0;
  dirty.structure = true;
  dirty.view = dirty.viewNow = true;   // the groups' boxes and chips say how many of theirs are drawn
  dirty.studies = true;   // the sweep's "draw only" button says what it would do now
  schedule();
}
