// The run charts (loss, lr, gradient norm) over steps, every drawn run a line; non-finite values and divergence
// marked; a guard's rewinds marked on the loss chart; a readout of the point nearest the mouse.
import { $, $$ } from './dom.mjs';
import { fmt, rewindText } from './format.mjs';
import { drawable, zeroCounts, offChartNote, nearestIndex } from './axes.mjs';
import { uPlot, pxRatio, yScale, logTicks, fmtValues } from './plot.mjs';
import { runs, page, drawnRuns } from './state.mjs';
import { KEYS, SHORT } from './runs.mjs';

export const log = { loss: true, lr: false, grad_norm: true };
const charts = page.charts;   // key -> uPlot
let chartRuns = [];           // the runs the charts were built for, in series order
let hoverKey = null;          // the chart under the mouse

export function buildCharts() {
  const drawn = chartRuns = drawnRuns(), px = pxRatio();   // uPlot scales widths, not dashes
  page.drawn = drawn.map(r => r.summary.id);
  hideReadout();
  for (const key of KEYS) {
    const el = $(`#chart-${key}`);
    if (charts[key]) charts[key].destroy();
    const u = charts[key] = new uPlot({
      width: el.clientWidth || 600,
      height: key === 'loss' ? 260 : 180,
      legend: { show: false },
      cursor: { sync: { key: 'losswatch' }, points: { show: false } },
      scales: { x: { time: false }, y: yScale(log[key]) },
      axes: [{ label: 'step', labelSize: 18, size: 36 }, { size: 64, values: fmtValues, ...(log[key] ? logTicks : {}) }],
      series: [{}, ...drawn.map(r => ({ label: r.summary.name, stroke: r.color, width: 1.5,
        dash: r.summary.parent ? [6 * px, 4 * px] : [], points: { show: false } }))],
      hooks: { draw: [u => drawMarks(u, drawn), ...(key === 'loss' ? [u => placeRewinds(u, drawn)] : [])],
        setCursor: [u => readout(u, key)] },
    }, [[]].concat(drawn.map(() => [])), el);
    const dot = document.createElement('div');
    dot.className = 'hover-dot';
    dot.hidden = true;
    u.over.append(dot);
    u.over.addEventListener('mouseenter', () => { hoverKey = key; });
    u.over.addEventListener('mouseleave', () => { if (hoverKey === key) hoverKey = null; hideReadout(); });
  }
}

/** One aligned table for all drawn runs ([x, run1 loss, lr, grad, run2 loss, …]); gaps where needed. */
export function updateCharts() {
  const drawn = drawnRuns();
  const tables = drawn.map(r => [r.series.step, ...KEYS.map(k => r.series[k])]);
  const joined = tables.length ? uPlot.join(tables) : [[]];
  const anySteps = drawn.some(r => r.series.step.length > 0);
  KEYS.forEach((key, ki) => {
    const counts = zeroCounts();
    const cols = drawn.map((r, ri) => joined[1 + ri * KEYS.length + ki].map(v => drawable(v, log[key], counts)));
    charts[key].setData([joined[0], ...cols]);
    $(`#chart-${key}`).dataset.points = counts.drawn;
    page.points[key] = counts.drawn;
    $(`.hidden-note[data-chart="${key}"]`).textContent = offChartNote(counts);
    const empty = $(`.empty[data-chart="${key}"]`);
    empty.textContent = !runs.size ? 'no runs yet: start one with the form'
      : !drawn.length ? 'no run drawn: check one in the legend or the table' : anySteps ? '' : 'no steps yet';
    empty.hidden = !empty.textContent;
  });
  if (hoverKey) readout(charts[hoverKey], hoverKey);   // the points under the mouse may have moved
}

export function resizeCharts() {
  for (const key of KEYS) {
    const el = $(`#chart-${key}`);
    if (charts[key] && el.clientWidth) charts[key].setSize({ width: el.clientWidth, height: charts[key].height });
  }
}

/** Red dashed lines where a drawn run had a non-finite value or diverged, labelled. */
function drawMarks(u, drawn) {
  const ctx = u.ctx, { left, top, width, height } = u.bbox, px = pxRatio();
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  ctx.strokeStyle = '#d92d20';
  ctx.fillStyle = '#d92d20';
  ctx.setLineDash([4 * px, 3 * px]);
  ctx.lineWidth = px;
  ctx.font = `${11 * px}px system-ui, sans-serif`;
  ctx.textAlign = 'left';   // uPlot leaves its axis labels' alignment behind
  ctx.textBaseline = 'alphabetic';
  let row = 0;
  for (const r of drawn) {
    for (const m of marksOf(r)) {
      const x = u.valToPos(m.step, 'x', true);
      if (!Number.isFinite(x)) continue;
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
      const text = `${r.summary.name}: ${m.label}`;
      const w = ctx.measureText(text).width;
      const tx = x - w - 4 * px >= left ? x - w - 4 * px : x + 4 * px;   // left of the line if it fits
      ctx.fillText(text, tx, top + (12 + 13 * (row++ % 6)) * px);
    }
  }
  ctx.restore();
}

function marksOf(r) {
  const marks = r.marks.slice(0, 5).map(m => ({ ...m }));
  if (r.summary.state === 'diverged') {
    const at = marks.find(m => m.step === r.summary.step);
    if (at) at.label = `diverged (${at.label})`;
    else marks.push({ step: r.summary.step, label: 'diverged' });
  }
  return marks;
}

/**
 * On the loss chart, a dotted line in the run's colour at each step its guard rewound it to: elements, not
 * canvas strokes, so each has its title (why, and the lr before and after). Kept across draws, so a tooltip
 * being read stays up while the run goes on.
 */
function placeRewinds(u, drawn) {
  const els = $$('.rewind-mark', u.over), { min, max } = u.scales.x;
  let n = 0;
  for (const r of drawn) {
    for (const w of r.summary.rewinds || []) {
      // back to step 0 is back to the start: at the left edge, where step 1 is
      if (min == null || !(w.to >= Math.floor(min) - 1 && w.to <= max)) continue;
      const el = els[n++] || u.over.appendChild(document.createElement('div'));
      el.className = 'rewind-mark';
      el.dataset.run = r.summary.id;
      el.dataset.to = w.to;
      el.style.left = `${Math.max(0, u.valToPos(w.to, 'x'))}px`;
      el.style.color = r.color;
      el.title = rewindText(r.summary.name, w);
    }
  }
  for (const el of els.slice(n)) el.remove();
}

// ---- the hover readout: the drawn run whose point is nearest the mouse, its step, loss, lr, grad ----
function readout(u, key) {
  const dot = $('.hover-dot', u.over);
  const { left, top } = u.cursor;
  if (hoverKey !== key || left == null || left < 0) { if (dot) dot.hidden = true; return; }
  const near = nearestPoint(u, key, left, top);
  if (!near) { hideReadout(); return; }
  const { r, i } = near, s = r.series, box = $('#readout');
  box.innerHTML = '<div class="who"><span class="swatch"></span><b></b></div><div class="at"></div><div class="vals"></div>';
  $('.swatch', box).style.background = r.color;
  $('b', box).textContent = r.summary.name;
  $('.at', box).textContent = `step ${s.step[i]}`;
  $('.vals', box).textContent = KEYS.map(k => `${SHORT[k]} ${fmt(s[k][i])}`).join(' · ');
  box.dataset.run = r.summary.id;
  box.dataset.step = s.step[i];
  box.hidden = false;
  if (dot) {
    dot.hidden = !Number.isFinite(near.y);
    dot.style.left = `${near.x}px`;
    dot.style.top = `${near.y}px`;
    dot.style.borderColor = r.color;
  }
  const rect = u.over.getBoundingClientRect(), w = box.offsetWidth;
  let x = rect.left + left + 14;
  if (x + w > document.documentElement.clientWidth - 4) x = rect.left + left - w - 14;   // flip to the left
  box.style.left = `${x + window.scrollX}px`;
  box.style.top = `${rect.top + top + 14 + window.scrollY}px`;
}

export function hideReadout() {
  $('#readout').hidden = true;
  for (const dot of $$('.hover-dot')) dot.hidden = true;
}

/** Of each drawn run, the point nearest the mouse's step; of those, the nearest on screen. */
function nearestPoint(u, key, left, top) {
  const at = u.posToVal(left, 'x');
  let best = null;
  for (const r of chartRuns) {
    const s = r.series;
    if (!runs.has(r.summary.id) || !s.step.length) continue;
    const i = nearestIndex(s.step, at), v = s[key][i];
    const x = u.valToPos(s.step[i], 'x');
    const y = v !== null && Number.isFinite(v) && !(log[key] && v <= 0) ? u.valToPos(v, 'y') : NaN;
    const d = Math.hypot(x - left, Number.isFinite(y) ? y - top : 1e4);   // an undrawn value: only if nothing else
    if (!best || d < best.d) best = { r, i, x, y, d };
  }
  return best;
}
