// The sweep's panel: each of its runs a point, its loss now against its lr (log-log), moving as the runs go; a run
// the sweep stopped early hollow, a diverged one a red ×. Drawn from what the page holds; which runs the early
// stop ended comes from GET /api/sweeps/{id}.
import { $ } from './dom.mjs';
import { num, fmt, LIVE } from './format.mjs';
import { SCALE_CAP, LOG_FLOOR } from './axes.mjs';
import { throttled } from './throttle.mjs';
import { lrChart, cappedRange, logTicks, pxRatio } from './plot.mjs';
import { runs, hidden, dirty, page, schedule } from './state.mjs';
import { call } from './api.mjs';
import { highlight, showOnly } from './legend.mjs';

const REFRESH_MS = 300;

/** The sweep shown: which (picked or the newest), which of its runs stopped early, its chart and points. */
export const sweep = { id: null, pinned: false, chart: null, key: '', early: {}, points: [], hl: null };

sweep.refresh = throttled(async () => {
  const id = sweep.id;
  if (!id) return;
  const res = await call('GET', `/api/sweeps/${encodeURIComponent(id)}`);
  if (id !== sweep.id || !res.ok) return;
  sweep.early = Object.fromEntries((res.json.runs || []).map(x => [x.id, x.early_stopped === true]));
  dirty.studies = true;
  schedule();
}, REFRESH_MS);

/** A sweep run's point: its lr (the sweep's, from its spec) and its loss at its latest step. */
function sweepPoint(r) {
  const s = r.summary, opt = (s.spec && s.spec.optimizer) || {};
  const lr = num(opt.lr) !== null ? num(opt.lr) : r.last.lr, loss = r.last.loss;
  const finite = loss !== null && Number.isFinite(loss);
  return { run: s.id, name: s.name, color: r.color, lr, loss, step: r.last.step, state: s.state,
    diverged: s.state === 'diverged' || (loss !== null && !finite),
    early: sweep.early[s.id] === true,
    // off the chart: at its top edge (a non-finite or runaway loss) or its bottom (≤ 0 on a log scale)
    edge: loss === null ? null : !finite || loss > SCALE_CAP ? 'top' : loss < LOG_FLOOR ? 'bottom' : null };
}

export function drawSweep(list) {
  const panel = $('#sweep-panel');
  if (!sweep.id) { page.studies.sweep = null; return; }
  if (!sweep.chart) buildSweepChart();
  const pts = sweep.points = list.map(sweepPoint).filter(p => p.loss !== null && p.lr !== null && p.lr > 0)
    .sort((a, b) => a.lr - b.lr);
  const x = pts.map(p => p.lr), y = pts.map(p => (p.edge ? null : p.loss));
  sweep.chart.setData([x, y]);
  $('#chart-sweep').dataset.points = pts.length;
  const empty = $('.empty', panel);
  empty.textContent = pts.length ? '' : 'no steps yet';
  empty.hidden = !empty.textContent;
  const best = pts.filter(p => !p.diverged && !p.edge).sort((a, b) => a.loss - b.loss)[0];
  const going = list.filter(r => LIVE.has(r.summary.state)).length;
  $('.status', panel).textContent = `${list.length} runs, ${going} going`
    + (best ? `; best now lr ${fmt(best.lr)} (loss ${fmt(best.loss)} at step ${best.step})` : '');
  panel.dataset.sweep = sweep.id;
  const only = $('.only', panel), ids = new Set(list.map(r => r.summary.id));
  only.dataset.mode = [...runs.keys()].every(id => ids.has(id) !== hidden.has(id)) ? 'all' : 'only';
  only.textContent = only.dataset.mode === 'all' ? 'draw all runs' : 'draw only this sweep';
  page.studies.sweep = { sweep: sweep.id, points: [] };   // filled as they are drawn
}

function buildSweepChart() {
  sweep.chart = lrChart($('#chart-sweep'), { distr: 3, log: 10, range: sweepRange },
    { label: 'loss now', labelSize: 18, size: 72, ...logTicks },
    [{}, { label: 'loss', stroke: '#c3c9d5', width: 1, spanGaps: true, points: { show: false } }],
    { draw: [drawSweepPoints] }, [[], []]);
  sweep.chart.over.addEventListener('mousemove', e => sweepHover(e));
  sweep.chart.over.addEventListener('mouseleave', () => sweepHover(null));
}

/** The losses' range, as the other charts' (no finite loss yet: a decade either side of 1). */
function sweepRange(u, min, max) {
  if (min == null || max == null || !Number.isFinite(min) || !Number.isFinite(max)) return [0.1, 10];
  return cappedRange(true)(u, min, max);
}

/** Each run a dot in its colour: hollow if the sweep stopped it early, a red × if it diverged. */
function drawSweepPoints(u) {
  const ctx = u.ctx, px = pxRatio(), { left, top, width, height } = u.bbox;
  const rad = 4.5 * px, pad = 7 * px;
  ctx.save();
  ctx.lineWidth = 2 * px;
  for (const p of sweep.points) {
    const x = u.valToPos(p.lr, 'x', true);
    let y = p.edge === 'top' ? top + pad : p.edge === 'bottom' ? top + height - pad : u.valToPos(p.loss, 'y', true);
    y = Math.min(top + height - pad, Math.max(top + pad, y));
    p.x = (x - left) / px;   // CSS pixels within the plot (u.over), as the mouse's
    p.y = (y - top) / px;
    p.mark = p.diverged ? 'x' : p.early ? 'hollow' : 'dot';
    if (!(x >= left - 1 && x <= left + width + 1)) continue;
    ctx.beginPath();
    if (p.mark === 'x') {
      ctx.strokeStyle = '#d92d20';
      ctx.moveTo(x - rad, y - rad); ctx.lineTo(x + rad, y + rad);
      ctx.moveTo(x + rad, y - rad); ctx.lineTo(x - rad, y + rad);
      ctx.stroke();
    } else {
      ctx.arc(x, y, rad, 0, 2 * Math.PI);
      ctx.strokeStyle = p.color;
      ctx.fillStyle = p.mark === 'hollow' ? '#fff' : p.color;
      ctx.fill();
      ctx.stroke();
    }
  }
  ctx.restore();
  if (page.studies.sweep) {
    page.studies.sweep.points = sweep.points.map(p => ({ run: p.run, lr: p.lr, loss: p.loss, step: p.step,
      state: p.state, mark: p.mark, edge: p.edge, x: p.x, y: p.y }));
  }
}

/** The point under the mouse: its run named under the chart, its row and legend entry lit. */
function sweepHover(e) {
  const line = $('#sweep-panel .hover-line');
  let near = null;
  if (e) {
    const rect = sweep.chart.over.getBoundingClientRect(), mx = e.clientX - rect.left, my = e.clientY - rect.top;
    for (const p of sweep.points) {
      const d = Math.hypot(p.x - mx, p.y - my);
      if (d < 14 && (!near || d < near.d)) near = { ...p, d };
    }
  }
  if (sweep.hl && (!near || near.run !== sweep.hl)) highlight(sweep.hl, false);
  sweep.hl = near ? near.run : null;
  if (near) highlight(near.run, true);
  line.textContent = near ? `${near.name}: lr ${fmt(near.lr)}, loss ${fmt(near.loss)} at step ${near.step}, ${near.state}`
    + `${near.early ? ' (stopped early by the sweep)' : ''}` : '';
}

export function setupSweepPanel() {
  $('#sweep-panel .only').addEventListener('click', e => {
    const ids = new Set(sweep.points.map(p => p.run));
    for (const r of runs.values()) if (r.summary.sweep === sweep.id) ids.add(r.summary.id);
    const all = e.target.dataset.mode === 'all';
    showOnly(id => all || ids.has(id));
  });
}
