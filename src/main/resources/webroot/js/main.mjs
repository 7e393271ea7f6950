// losswatch's live page: the run list and legend, live uPlot charts over /ws with a hover readout, run controls,
// the forms, the studies. Plain ES modules, no build step. State changes mark things dirty (state.mjs); one
// requestAnimationFrame draws them here.
import { $ } from './dom.mjs';
import { runs, dirty, page, setRenderer, schedule } from './state.mjs';
import { updateRow } from './runs-table.mjs';
import { showOnly } from './legend.mjs';
import { log, buildCharts, updateCharts, resizeCharts } from './charts.mjs';
import { drawStudies, setupStudies, resizeStudies } from './studies.mjs';
import { setupForms } from './forms.mjs';
import { take, drawn } from './lag.mjs';
import { connect } from './stream.mjs';

const MAX_DRAW_GAP_MS = 250;
let nextDraw = 0, drawMs = 0;

/** One frame draws whatever changed since the last; the charts take at most a quarter of the time. */
function render(now) {
  for (const r of runs.values()) if (r.rowDirty) updateRow(r);
  if (dirty.structure) { buildCharts(); dirty.structure = false; dirty.charts = true; nextDraw = 0; }
  if (dirty.studies) drawStudies();
  if (!dirty.charts) return;
  if (now < nextDraw) { schedule(); return; }   // many runs on a slow machine: charts skip frames
  dirty.charts = false;
  const t0 = performance.now(), t = take();
  updateCharts();
  queueMicrotask(() => {   // after uPlot's own microtask that paints
    const cost = performance.now() - t0;
    drawMs = drawMs ? 0.8 * drawMs + 0.2 * cost : cost;
    page.drawMs = drawMs;
    nextDraw = t0 + Math.min(MAX_DRAW_GAP_MS, 4 * drawMs);
    drawn(t);
  });
}

setRenderer(render);
for (const box of document.querySelectorAll('.log-toggle')) {
  box.addEventListener('change', () => { log[box.dataset.chart] = box.checked; dirty.structure = true; schedule(); });
}
$('#select-all').addEventListener('change', e => showOnly(() => e.target.checked));
window.addEventListener('resize', () => requestAnimationFrame(() => { resizeCharts(); resizeStudies(); }));
setupForms();
setupStudies();
connect();
