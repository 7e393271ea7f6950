// Results against configs: each run the filter lets through a point, any result (final or best loss, any metric's
// last, lowest or highest value) against any config value, log axes where the values allow: the sweep's U-curve,
// generalised. Text values (a schedule's name) are categories side by side. The best run is ringed and named.
import { $ } from './dom.mjs';
import { fmt } from './format.mjs';
import { valueOf, columnsOf, higherIsBetter, compareValues } from './compare.mjs';
import { uPlot, pxRatio, cappedRange, logTicks, fmtValues } from './plot.mjs';
import { runs, hidden, view, page, dirty, schedule } from './state.mjs';
import { table } from './table-state.mjs';
import { highlight, toggleRun } from './legend.mjs';
import { load, save } from './prefs.mjs';

const pick = { x: load('scatterX', null), y: load('scatterY', null), logx: load('scatterLogX', null), logy: load('scatterLogY', null) };
const sc = { chart: null, key: '', points: [], categories: null, hl: null };

/** The default axes: an lr-like config value that varies, a validation accuracy (else the best loss). */
function defaults(cols, rows) {
  const config = cols.filter(c => c.group === 'config'), results = cols.filter(c => c.group === 'result');
  const varies = c => new Set(rows.map(r => JSON.stringify(valueOf(r, c.id)))).size > 1;
  const x = config.find(c => /(^|\.)lr$|learning_rate/.test(c.label) && varies(c)) || config.find(varies) || config[0];
  const y = results.find(c => /val.*acc.*(?<!min|max)$/i.test(c.label) && c.id.endsWith(':last'))
    || results.find(c => c.id === 'result:best_loss') || results[0];
  return { x: x && x.id, y: y && y.id };
}

/** Points of the runs shown in the table: [{run, x, y, xv (the value), color}]; categories when x is text. */
function pointsOf(xCol, yCol) {
  const rows = view.order.map(id => table.rows.get(id)).filter(Boolean);
  const raw = rows.map(r => ({ r, xv: valueOf(r, xCol), y: valueOf(r, yCol) }))
    .filter(p => p.xv !== undefined && p.xv !== null && typeof p.y === 'number' && Number.isFinite(p.y));
  const numeric = raw.every(p => typeof p.xv === 'number');
  let categories = null;
  if (!numeric) {
    categories = [...new Set(raw.map(p => String(p.xv)))].sort(compareValues);
    const seen = new Map();
    for (const p of raw) {   // side by side within a category, so equal results stay apart
      const k = String(p.xv), n = seen.get(k) || 0;
      seen.set(k, n + 1);
      p.jitter = n;
    }
    const size = new Map([...seen]);
    for (const p of raw) {
      const m = size.get(String(p.xv));
      p.x = categories.indexOf(String(p.xv)) + (m > 1 ? (p.jitter / (m - 1) - 0.5) * 0.5 : 0);
    }
  } else for (const p of raw) p.x = p.xv;
  return { points: raw.map(p => ({ run: p.r.id, name: p.r.name, x: p.x, xv: p.xv, y: p.y,
    color: runs.get(p.r.id).color, drawn: !hidden.has(p.r.id) })), categories };
}

export function drawScatter() {
  const panel = $('#scatter-panel'), rows = [...table.rows.values()];
  panel.hidden = runs.size < 2;
  if (panel.hidden) { page.scatter = null; return; }
  const cols = columnsOf(rows), d = defaults(cols, rows);
  const xs = $('.scatter-x', panel), ys = $('.scatter-y', panel);
  const optKey = JSON.stringify(cols.map(c => c.id));
  if (xs.dataset.key !== optKey) {
    xs.dataset.key = optKey;
    xs.replaceChildren(...cols.filter(c => c.group === 'config').map(c => new Option(c.label, c.id)));
    ys.replaceChildren(...cols.filter(c => c.group === 'result').map(c => new Option(c.label, c.id)));
  }
  const xCol = cols.some(c => c.id === pick.x) ? pick.x : d.x, yCol = cols.some(c => c.id === pick.y) ? pick.y : d.y;
  if (!xCol || !yCol) { page.scatter = null; return; }
  xs.value = xCol;
  ys.value = yCol;
  const { points, categories } = pointsOf(xCol, yCol);
  const canLogX = !categories && points.length > 0 && points.every(p => p.x > 0);
  const canLogY = points.length > 0 && points.every(p => p.y > 0);
  const spread = v => (v.length ? Math.max(...v) / Math.min(...v) : 1);
  const logx = canLogX && (pick.logx !== null ? pick.logx : spread(points.map(p => p.x)) >= 100);
  const logy = canLogY && (pick.logy !== null ? pick.logy : /loss/i.test(yCol) && spread(points.map(p => p.y)) >= 10);
  $('.scatter-logx', panel).checked = logx;
  $('.scatter-logx', panel).disabled = !canLogX;
  $('.scatter-logy', panel).checked = logy;
  $('.scatter-logy', panel).disabled = !canLogY;
  const key = JSON.stringify([xCol, yCol, logx, logy, categories]);
  if (!sc.chart || sc.key !== key) build(key, logx, logy, categories, xs.selectedOptions[0], ys.selectedOptions[0]);
  sc.points = points;
  sc.categories = categories;
  const sorted = points.slice().sort((a, b) => a.x - b.x);
  sc.chart.setData([sorted.map(p => p.x), sorted.map(p => p.y)]);
  $('#chart-scatter').dataset.points = points.length;
  const label = ys.selectedOptions[0] ? ys.selectedOptions[0].text : yCol, higher = higherIsBetter(label);
  const best = points.slice().sort((a, b) => (higher ? b.y - a.y : a.y - b.y))[0];
  sc.best = best ? best.run : null;
  const xLabel = xs.selectedOptions[0] ? xs.selectedOptions[0].text : xCol;
  $('.status', panel).textContent = best ? `${points.length} runs; best ${label} (${higher ? 'highest' : 'lowest'}): `
    + `${best.name}, ${fmt(best.y)} at ${xLabel} = ${typeof best.xv === 'number' ? fmt(best.xv) : best.xv}` : 'no run has both values';
  page.scatter = { x: xCol, y: yCol, logx, logy, categories, best: sc.best, points: [] };
}

function build(key, logx, logy, categories, xOpt, yOpt) {
  if (sc.chart) sc.chart.destroy();
  sc.key = key;
  const el = $('#chart-scatter');
  sc.chart = new uPlot({
    width: el.clientWidth || 600,
    height: 240,
    legend: { show: false },
    cursor: { points: { show: false }, drag: { x: false, y: false } },
    scales: {
      x: categories ? { time: false, range: () => [-0.6, categories.length - 0.4] }
        : { time: false, ...(logx ? { distr: 3, log: 10 } : {}), range: pad(logx) },
      y: { ...(logy ? { distr: 3, log: 10 } : {}), range: pad(logy) },
    },
    axes: [{ label: xOpt ? xOpt.text : '', labelSize: 18, size: 36,
      ...(categories ? { splits: () => categories.map((_, i) => i), values: (u, v) => v.map(i => categories[Math.round(i)] ?? '') }
        : { values: fmtValues, ...(logx ? logTicks : {}) }) },
    { label: yOpt ? yOpt.text : '', labelSize: 18, size: 72, values: fmtValues, ...(logy ? logTicks : {}) }],
    series: [{}, { stroke: 'transparent', width: 0, points: { show: false } }],
    hooks: { draw: [drawPoints] },
  }, [[], []], el);
  sc.chart.over.addEventListener('mousemove', e => hover(e));
  sc.chart.over.addEventListener('mouseleave', () => hover(null));
  sc.chart.over.addEventListener('click', () => { if (sc.hl) toggleRun(sc.hl, hidden.has(sc.hl)); });
}

/** The data's range with a margin, so no point sits on an edge. */
function pad(isLog) {
  const capped = cappedRange(isLog);
  return (u, min, max) => {
    if (min === null || !Number.isFinite(min)) return isLog ? [0.1, 10] : [0, 1];
    if (isLog) return capped(u, min / 1.5, max * 1.5);
    const m = (max - min) * 0.08 || Math.abs(min) * 0.1 || 1;
    return [min - m, max + m];
  };
}

/** Each run a dot in its colour (hollow when not drawn); the best ringed. */
function drawPoints(u) {
  const ctx = u.ctx, px = pxRatio(), rad = 4.5 * px, { left, top } = u.bbox;
  ctx.save();
  ctx.lineWidth = 2 * px;
  for (const p of sc.points) {
    const x = u.valToPos(p.x, 'x', true), y = u.valToPos(p.y, 'y', true);
    p.px = (x - left) / px;
    p.py = (y - top) / px;
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    ctx.beginPath();
    ctx.arc(x, y, rad, 0, 2 * Math.PI);
    ctx.strokeStyle = p.color;
    ctx.fillStyle = p.drawn ? p.color : '#fff';
    ctx.fill();
    ctx.stroke();
    if (p.run === sc.best) {
      ctx.beginPath();
      ctx.arc(x, y, rad * 2.2, 0, 2 * Math.PI);
      ctx.strokeStyle = '#1d2330';
      ctx.lineWidth = 1.5 * px;
      ctx.stroke();
      ctx.lineWidth = 2 * px;
    }
  }
  ctx.restore();
  if (page.scatter) page.scatter.points = sc.points.map(p => ({ run: p.run, x: p.x, y: p.y, px: p.px, py: p.py, drawn: p.drawn }));
}

/** The point under the mouse: named under the chart, its row and legend entry lit; a click draws it or not. */
function hover(e) {
  let near = null;
  if (e) {
    const rect = sc.chart.over.getBoundingClientRect(), mx = e.clientX - rect.left, my = e.clientY - rect.top;
    for (const p of sc.points) {
      const d = Math.hypot(p.px - mx, p.py - my);
      if (d < 14 && (!near || d < near.d)) near = { ...p, d };
    }
  }
  if (sc.hl && (!near || near.run !== sc.hl)) highlight(sc.hl, false);
  sc.hl = near ? near.run : null;
  if (near) highlight(near.run, true);
  sc.chart.over.style.cursor = near ? 'pointer' : '';
  $('#scatter-panel .hover-line').textContent = near ? `${near.name}: ${$('.scatter-y').selectedOptions[0].text} ${fmt(near.y)}`
    + ` at ${$('.scatter-x').selectedOptions[0].text} = ${typeof near.xv === 'number' ? fmt(near.xv) : near.xv}`
    + ` (click: ${near.drawn ? 'hide' : 'draw'} it)` : '';
}

export function setupScatter() {
  const panel = $('#scatter-panel');
  const keys = { x: 'scatterX', y: 'scatterY', logx: 'scatterLogX', logy: 'scatterLogY' };
  const set = (k, v) => { pick[k] = v; save(keys[k], v); dirty.scatter = true; schedule(); };
  // a new axis gets its own log default
  $('.scatter-x', panel).addEventListener('change', e => { set('logx', null); set('x', e.target.value); });
  $('.scatter-y', panel).addEventListener('change', e => { set('logy', null); set('y', e.target.value); });
  $('.scatter-logx', panel).addEventListener('change', e => set('logx', e.target.checked));
  $('.scatter-logy', panel).addEventListener('change', e => set('logy', e.target.checked));
}

export function resizeScatter() {
  const el = $('#chart-scatter');
  if (sc.chart && el.clientWidth) sc.chart.setSize({ width: el.clientWidth, height: sc.chart.height });
}
