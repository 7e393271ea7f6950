// losswatch's live page: the runs table (compare, filter, group, tag), the legend, live uPlot charts over /ws (loss,
// lr, gradient norm, every metric by name) with a hover readout, run controls, the forms, the studies, results
// against configs. Plain ES modules, no build step. State changes mark things dirty (state.mjs); one
// requestAnimationFrame draws them here.
import { $ } from './dom.mjs';
import { runs, dirty, page, setRenderer, schedule } from './state.mjs';
import { updateRow } from './runs-table.mjs';
import { updateView, setupView, measureWith, widthChanged } from './runs-view.mjs';
import { buildCharts, updateCharts, resizeCharts, setupCharts } from './charts.mjs';
import { updatePicker, setupMetricPicker } from './metric-panels.mjs';
import { drawScatter, setupScatter, resizeScatter } from './scatter.mjs';
import { drawStudies, setupStudies, resizeStudies } from './studies.mjs';
import { setupForms } from './forms.mjs';
import { backfill } from './metrics.mjs';
import { take, drawn } from './lag.mjs';
import { connect } from './stream.mjs';

const MAX_DRAW_GAP_MS = 250;
const SCATTER_MS = 500;   // the comparison follows live numbers at most this often
let nextDraw = 0, drawMs = 0, scatterAt = 0;

/** One frame draws whatever changed since the last; the charts take at most a quarter of the time. */
function render(now) {
  if (dirty.view) {
    const now2 = dirty.viewNow;
    dirty.viewNow = false;
    updateView(now2);
  }
  for (const r of runs.values()) if (r.rowDirty) updateRow(r);
  if (dirty.metrics && updatePicker()) dirty.structure = true;
  if (dirty.structure) { buildCharts(); dirty.structure = false; dirty.charts = true; nextDraw = 0; }
  if (dirty.studies) drawStudies();
  if (dirty.scatter && now - scatterAt >= SCATTER_MS) { dirty.scatter = false; scatterAt = now; drawScatter(); }
  else if (dirty.scatter) schedule();
  if (!dirty.charts) return;
  if (now < nextDraw) { schedule(); return; }   // many runs on a slow machine: charts skip frames
  dirty.charts = false;
  const t0 = performance.now(), t = take();
  updateCharts();
  backfill();
  queueMicrotask(() => {   // after uPlot's own microtask that paints
    const cost = performance.now() - t0;
    drawMs = drawMs ? 0.8 * drawMs + 0.2 * cost : cost;
    page.drawMs = drawMs;
    nextDraw = t0 + Math.min(MAX_DRAW_GAP_MS, 4 * drawMs);
    drawn(t);
  });
}

setRenderer(render);
window.addEventListener('resize', () => requestAnimationFrame(() => { resizeCharts(); resizeStudies(); resizeScatter(); widthChanged(); }));
measureWith(updateRow);
setupView();
setupCharts();
setupMetricPicker();
setupScatter();
setupForms();
setupStudies();
connect();
