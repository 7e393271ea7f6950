// The run charts: loss, lr and gradient norm, and one per metric picked, every drawn run a line (or each group its
// mean, its range shaded), against the x axis chosen: step, wall time, time since start, epoch or progress. A
// drag zooms every chart to the same x range, which stays as new steps arrive; a double-click undoes it. A run's
// first non-finite value (or its divergence) is marked once; a guard's rewinds are marked on the loss chart; the
// point nearest the mouse is read out.
import { $, $$ } from './dom.mjs';
import { fmt, rewindText, num } from './format.mjs';
import { drawable, zeroCounts, offChartNote, nearestIndex } from './axes.mjs';
import { xOf, fmtX, extent, epochMetric, fitRange, X_MODES } from './xaxis.mjs';
import { aggregate } from './aggregate.mjs';
import { uPlot, pxRatio, cappedRange, logTicks, fmtValues } from './plot.mjs';
import { runs, page, view, dirty, schedule, drawnRuns } from './state.mjs';
import { CORE, KEYS, SHORT } from './runs.mjs';
import { metricNames, shownMetrics, metricPanel, dropPanels } from './metric-panels.mjs';
import { load, save } from './prefs.mjs';

const CORE_TITLE = Object.fromEntries(CORE.map(c => [c.key, c.title]));
const LIMIT = Object.fromEntries(CORE.filter(c => c.limit !== undefined).map(c => [c.key, c.limit]));
const X_LABEL = { step: 'step', time: 'wall time', relative: 'time since the run started', epoch: 'epoch',
  progress: 'progress: step ÷ the run\'s steps' };
export const log = { ...Object.fromEntries(CORE.map(c => [c.key, c.log])), ...load('log', {}) };
// fit: the range that keeps a long run from squashing the others (null: all fit); fitAll: the person asked for all
export const axis = { mode: load('xMode', 'step'), zoom: null, fit: null, fitAll: false };
const charts = page.charts;   // key -> uPlot: each of CORE's, and m:<name> per metric
const panels = new Map();     // key -> {key, metric, el, curves: [{r, x, y, idx, steps}], bands, groups}
let hoverKey = null;          // the chart under the mouse

const metricKey = name => `m:${name}`;
const isLog = key => (key in log ? log[key] : /loss|perplex|ppl|grad|norm/i.test(key));

// ---- which x a run's rows have ----
/** What xOf needs of a run: its first step's time, its length, its logged epoch. */
function runAxis(r) {
  const spec = r.summary.spec || {}, config = spec.config || {};
  const planned = [spec.steps, config.total_steps, config.max_steps, config.steps, config.num_steps]
    .map(num).find(v => v !== null && v > 0);
  const epoch = epochMetric([...r.metrics.keys()]);
  return { t0: r.t0, total: planned || r.last.step || 0, epoch: epoch ? r.metrics.get(epoch) : null };
}

/** A table's rows as x and y, the rows without an x left out (their indices kept in idx). */
function curve(r, steps, t, y, ax) {
  const xs = xOf(axis.mode, steps, t, ax), out = { r, x: [], y: [], idx: [], steps: [] };
  for (let i = 0; i < xs.length; i++) {
    if (xs[i] === null || !Number.isFinite(xs[i])) continue;
    out.x.push(xs[i]); out.y.push(y[i]); out.idx.push(i); out.steps.push(steps[i]);
  }
  return out;
}

/** Where a run's step is on the x axis (its nearest row's x), or null. */
function xAt(r, step) {
  const s = r.series, ax = runAxis(r);
  if (axis.mode === 'step') return step;
  const i = s.step.length ? nearestIndex(s.step, step) : -1;
  const x = xOf(axis.mode, [step], [i >= 0 ? s.t[i] : null], ax)[0];
  return x === null || !Number.isFinite(x) ? null : x;
}

// ---- the charts' structure: which panels, which series ----
export function buildCharts() {
  const drawn = drawnRuns(), px = pxRatio();
  page.drawn = drawn.map(r => r.summary.id);
  hideReadout();
  const metrics = shownMetrics(metricNames());
  dropPanels(metrics);
  for (const k of [...panels.keys()]) {
    if (!KEYS.includes(k) && !metrics.some(n => metricKey(n) === k)) { charts[k].destroy(); delete charts[k]; panels.delete(k); }
  }
  const groups = view.drawGroups && view.groups ? view.groups : null;
  const keys = [...KEYS, ...metrics.map(metricKey)];
  keys.forEach((key, i) => {
    const metric = key.startsWith('m:') ? key.slice(2) : null;
    const el = metric ? $('.chart', metricPanel(metric, i - KEYS.length, setMetricLog, isLog(key))) : $(`#chart-${key}`);
    if (charts[key]) charts[key].destroy();
    const p = { key, metric, el, curves: [], bands: [], groups };
    panels.set(key, p);
    const lines = groups ? groups.map(g => ({ label: g.key, stroke: g.color || '#888', width: 2, points: { show: false } }))
      : drawn.map(r => ({ label: r.summary.name, stroke: r.color, width: 1.5,
        dash: r.summary.parent ? [6 * px, 4 * px] : [], points: { show: false } }));
    if (!lines.length) lines.push({ label: '', stroke: 'transparent', points: { show: false } });   // uPlot's mode 2 needs one
    const u = charts[key] = new uPlot({
      mode: 2,
      width: el.clientWidth || 600,
      height: key === 'loss' ? 260 : 180,
      legend: { show: false },
      cursor: { sync: { key: 'losswatch' }, points: { show: false }, drag: { x: true, y: false, setScale: false },
        bind: { dblclick: () => () => { setZoom(null); return null; } } },
      scales: { x: { time: axis.mode === 'time', range: xRange }, y: { ...(isLog(key) ? { distr: 3, log: 10 } : {}), range: yRange(p) } },
      axes: [{ label: X_LABEL[axis.mode], labelSize: 18, size: 36,
        ...(axis.mode === 'relative' || axis.mode === 'progress' ? { values: (u, vals) => vals.map(v => fmtX(axis.mode, v)) } : {}) },
      { size: 64, values: fmtValues, ...(isLog(key) ? logTicks : {}) }],
      series: [{}, ...lines],
      hooks: {
        drawAxes: [u => drawBands(u, p)],
        draw: [u => drawMarks(u, p), ...(key === 'loss' ? [u => placeMarks(u, p)] : []),
          ...(key in LIMIT ? [u => drawLimit(u, LIMIT[key])] : [])],
        setCursor: [u => readout(u, key)],
        setSelect: [u => zoomTo(u)],
      },
    }, [null, ...lines.map(() => [[], []])], el);
    const dot = document.createElement('div');
    dot.className = 'hover-dot';
    dot.hidden = true;
    u.over.append(dot);
    u.over.addEventListener('mouseenter', () => { hoverKey = key; });
    u.over.addEventListener('mouseleave', () => { if (hoverKey === key) hoverKey = null; hideReadout(); });
  });
}

function setMetricLog(name, on) {
  log[metricKey(name)] = on;
  save('log', log);
  dirty.structure = true;
  schedule();
}

/** The x range: the zoom's, else the drawn runs' but a far longer one's (fitRange), else the data's (a single x a unit either side). */
function xRange(u, min, max) {
  if (axis.zoom) return axis.zoom.slice();
  if (axis.fit && !axis.fitAll) [min, max] = axis.fit.range;
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  return min === max ? [min - 1, max + 1] : [min, max];
}

/** The y range, capped; zoomed (or a long run cut off), it fits the values inside the x range shown. */
function yRange(p) {
  const capped = cappedRange(isLog(p.key));
  return (u, min, max) => {
    const shown = axis.zoom || (axis.fit && !axis.fitAll ? axis.fit.range : null);
    if (shown) {
      const e = extent(p.groups ? p.bands.flatMap(b => [{ x: b.x, y: b.min }, { x: b.x, y: b.max }]) : p.curves,
        shown[0], shown[1], isLog(p.key));
      if (e) [min, max] = e;
    }
    return capped(u, min, max);
  };
}

// ---- the data: each drawn run's rows (or each group's mean) on its chart ----
export function updateCharts() {
  const drawn = drawnRuns();
  const anySteps = drawn.some(r => r.series.step.length > 0);
  fit(drawn);
  for (const p of panels.values()) {
    const counts = zeroCounts(), key = p.key, lg = isLog(key);
    p.curves = drawn.map(r => {
      const ax = runAxis(r);
      if (!p.metric) return curve(r, r.series.step, r.series.t, r.series[key], ax);
      const ms = r.metrics.get(p.metric) || { step: [], t: [], value: [] };
      return curve(r, ms.step, ms.t, ms.value, ax);
    });
    let data;
    if (p.groups) {
      const ids = new Set(drawn.map(r => r.summary.id));
      p.bands = p.groups.map(g => {
        const members = p.curves.filter(c => ids.has(c.r.summary.id) && g.rows.some(x => x.id === c.r.summary.id));
        const a = aggregate(members.map(c => ({ x: c.x, y: c.y })), 300, lg);
        return { ...a, color: g.color || '#888', key: g.key, runs: members.length };
      });
      data = p.bands.map(b => [b.x, b.mean.map(v => drawable(v, lg, counts))]);
    } else {
      data = p.curves.map(c => [c.x, c.y.map(v => drawable(v, lg, counts))]);
    }
    while (data.length < charts[key].series.length - 1) data.push([[], []]);
    charts[key].setData([null, ...data]);
    p.el.dataset.points = counts.drawn;
    page.points[key] = counts.drawn;
    const box = p.el.closest('.panel');
    $('.hidden-note', box).textContent = offChartNote(counts);
    const empty = $('.empty', p.el.parentElement);
    const noX = axis.mode === 'epoch' && p.curves.length && p.curves.every(c => !c.x.length) && anySteps;
    const none = anySteps && !p.metric && !counts.drawn && p.curves.every(c => c.y.every(v => v === null || v === undefined || Number.isNaN(v)));
    empty.textContent = !runs.size ? 'no runs yet: start one with the form'
      : !drawn.length ? 'no run drawn: check one in the legend or the table'
        : noX ? 'no drawn run logs an epoch (a metric named epoch)'
          : none ? `no drawn run sends its ${CORE_TITLE[key]}` : anySteps || p.metric ? '' : 'no steps yet';
    empty.hidden = !empty.textContent;
  }
  if (hoverKey && charts[hoverKey]) readout(charts[hoverKey], hoverKey);   // the points under the mouse may have moved
}

export function resizeCharts() {
  for (const p of panels.values()) {
    const u = charts[p.key];
    if (u && p.el.clientWidth) u.setSize({ width: p.el.clientWidth, height: u.height });
  }
}

// ---- one long run among short ones ----
/** Each drawn run's x extent (its first and last rows'); wall time and progress have no long run to cut. */
function fit(drawn) {
  const ends = axis.mode === 'time' || axis.mode === 'progress' ? [] : drawn.map(r => {
    const s = r.series, n = s.step.length;
    const xs = n ? xOf(axis.mode, [s.step[0], s.step[n - 1]], [s.t[0], s.t[n - 1]], runAxis(r)) : [];
    return { id: r.summary.id, min: xs[0] ?? NaN, max: xs[1] ?? NaN };
  });
  axis.fit = fitRange(ends);
  page.fit = axis.fit && { ...axis.fit, all: axis.fitAll };
  const note = $('.fit-note');
  note.hidden = !axis.fit;
  if (!axis.fit) return;
  const far = axis.fit.beyond.map(id => runs.get(id)), first = far[0];
  const reach = `${fmtX(axis.mode, ends.find(e => e.id === first.summary.id).max)}${axis.mode === 'step' ? ' steps' : ''}`;
  $('.text', note).textContent = axis.fitAll
    ? `${far.length === 1 ? first.summary.name : `${far.length} runs`} reach${far.length === 1 ? 'es' : ''} ${reach}, far past the others`
    : `x fits ${drawn.length - far.length} of ${drawn.length} runs: ${far.length === 1 ? first.summary.name
      : `${far.length} runs`} go${far.length === 1 ? 'es' : ''} on to ${reach}`;
  note.title = far.map(r => r.summary.name).join('\n');
  $('#fit-toggle').textContent = axis.fitAll ? 'fit the others' : 'show all';
}

// ---- zoom ----
function zoomTo(u) {
  const { left, width } = u.select;
  if (width > 4) setZoom([u.posToVal(left, 'x'), u.posToVal(left + width, 'x')].sort((a, b) => a - b));
  u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
}

/** Zooms every run chart to [from, to] of x (null: all of it); it stays as new steps come. */
export function setZoom(z) {
  axis.zoom = z;
  page.zoom = z;
  const note = $('.zoom-note');
  note.hidden = !z;
  if (z) $('.range', note).textContent = `${fmtX(axis.mode, z[0])} – ${fmtX(axis.mode, z[1])}`;
  dirty.charts = true;
  schedule();
}

export function setXMode(mode) {
  axis.mode = mode;
  save('xMode', mode);
  setZoom(null);
  dirty.structure = true;
  schedule();
}

/** Zooms every chart to one run's x range: where it has rows (its own length, on any x axis). */
export function zoomToRun(r) {
  const c = curve(r, r.series.step, r.series.t, r.series.loss, runAxis(r));
  if (c.x.length > 1) setZoom([c.x[0], c.x[c.x.length - 1]]);
}

// ---- marks ----
/** A group's range: shaded in its colour under its mean. */
function drawBands(u, p) {
  if (!p.groups) return;
  const ctx = u.ctx, { left, top, width, height } = u.bbox, lg = isLog(p.key);
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  for (const b of p.bands) {
    const pts = [];
    for (let i = 0; i < b.x.length; i++) {
      if (b.min[i] === null || (lg && b.min[i] <= 0)) continue;
      pts.push([u.valToPos(b.x[i], 'x', true), u.valToPos(b.min[i], 'y', true), u.valToPos(b.max[i], 'y', true)]);
    }
    if (pts.length < 2) continue;
    ctx.beginPath();
    pts.forEach(([x, , hi], i) => (i ? ctx.lineTo(x, hi) : ctx.moveTo(x, hi)));
    for (let i = pts.length - 1; i >= 0; i--) ctx.lineTo(pts[i][0], pts[i][1]);
    ctx.closePath();
    ctx.globalAlpha = 0.18;
    ctx.fillStyle = b.color;
    ctx.fill();
    ctx.globalAlpha = 1;
  }
  ctx.restore();
}

/** Where a run first went non-finite, or diverged: one mark a run, {step, text}; null when it never did. */
export function markOf(r) {
  const nf = r.nonFinite, s = r.summary;
  if (s.state === 'diverged') {
    const at = nf ? nf.step : s.step;
    return { step: at, text: `${s.name}: diverged at step ${at}${nf ? ` (${nf.label}${nf.count > 1 ? `, ${nf.count} non-finite values` : ''})` : ''}` };
  }
  if (!nf) return null;
  return { step: nf.step, text: `${s.name}: ${nf.label} at step ${nf.step}${nf.count > 1 ? `, ${nf.count} non-finite values from there` : ''}` };
}

/** A chart's limit (the stability's 1: above it a step overshoots along the sharpest direction): a grey dashed line, labelled. */
function drawLimit(u, at) {
  const y = u.valToPos(at, 'y', true), { left, top, width, height } = u.bbox, px = pxRatio();
  if (!Number.isFinite(y) || y < top || y > top + height) return;
  const ctx = u.ctx;
  ctx.save();
  ctx.strokeStyle = ctx.fillStyle = '#667085';
  ctx.setLineDash([6 * px, 4 * px]);
  ctx.lineWidth = px;
  ctx.beginPath();
  ctx.moveTo(left, y);
  ctx.lineTo(left + width, y);
  ctx.stroke();
  ctx.font = `${11 * px}px system-ui, sans-serif`;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'bottom';
  ctx.fillText(`${at}: the limit`, left + 4 * px, y - 2 * px);
  ctx.restore();
}

/** A dashed red line where each drawn run first went non-finite or diverged: no text on the chart (the loss chart's marks say it). */
function drawMarks(u, p) {
  if (p.groups || p.metric) return;
  const ctx = u.ctx, { left, top, width, height } = u.bbox, px = pxRatio();
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  ctx.strokeStyle = '#d92d20';
  ctx.setLineDash([4 * px, 3 * px]);
  ctx.lineWidth = px;
  for (const c of p.curves) {
    const m = markOf(c.r), xv = m && xAt(c.r, m.step);
    if (xv === null || xv === undefined) continue;
    const x = u.valToPos(xv, 'x', true);
    if (!Number.isFinite(x)) continue;
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
  }
  ctx.restore();
}

/**
 * On the loss chart: elements, not canvas strokes, so each has its title and stays readable at 50 runs. A ⚠ in
 * the run's colour where it first went non-finite or diverged; a dotted line at each step its guard rewound it to.
 */
function placeMarks(u, p) {
  const els = $$('.rewind-mark, .nonfinite-mark', u.over), { min, max } = u.scales.x;
  let n = 0;
  const place = (cls, xv, r) => {
    const el = els[n++] || u.over.appendChild(document.createElement('div'));
    el.className = cls;
    el.dataset.run = r.summary.id;
    el.style.left = `${Math.max(0, u.valToPos(xv, 'x'))}px`;
    el.style.color = r.color;
    return el;
  };
  if (!p.groups) {
    for (const c of p.curves) {
      const r = c.r, m = markOf(r), xv = m && xAt(r, m.step);
      if (xv !== null && xv !== undefined && min != null && xv >= min && xv <= max) {
        const el = place('nonfinite-mark', xv, r);
        el.dataset.step = m.step;
        el.title = m.text;
        el.style.top = `${(n % 4) * 4}px`;
      }
      for (const w of r.summary.rewinds || []) {
        // back to step 0 is back to the start: at the left edge, where step 1 is
        const xw = axis.mode === 'step' ? w.to : xAt(r, Math.max(1, w.to));
        if (min == null || xw === null || !(xw >= Math.floor(min) - 1 && xw <= max)) continue;
        const el = place('rewind-mark', xw, r);
        el.dataset.to = w.to;
        el.title = rewindText(r.summary.name, w);
        el.style.top = '';
      }
    }
  }
  for (const el of els.slice(n)) el.remove();
  page.marks = $$('.nonfinite-mark', u.over).map(el => ({ run: el.dataset.run, step: Number(el.dataset.step), text: el.title }));
}

// ---- the hover readout: the drawn run (or group) whose point is nearest the mouse ----
function readout(u, key) {
  const dot = $('.hover-dot', u.over), p = panels.get(key);
  const { left, top } = u.cursor;
  if (!p || hoverKey !== key || left == null || left < 0) { if (dot) dot.hidden = true; return; }
  const near = nearestPoint(u, p, left, top);
  if (!near) { hideReadout(); return; }
  const box = $('#readout');
  box.innerHTML = '<div class="who"><span class="swatch"></span><b></b></div><div class="at"></div><div class="vals"></div>';
  if (near.band) {
    const b = near.band, i = near.i;
    $('.swatch', box).style.background = b.color;
    $('b', box).textContent = `${b.key} (${b.n[i]} of ${b.runs} runs)`;
    $('.at', box).textContent = `${X_LABEL[axis.mode]} ${fmtX(axis.mode, b.x[i])}`;
    $('.vals', box).textContent = `mean ${fmt(b.mean[i])} · range ${fmt(b.min[i])} – ${fmt(b.max[i])}`;
    delete box.dataset.run;
    box.dataset.group = b.key;
  } else {
    const { c, i } = near, r = c.r, row = c.idx[i], step = c.steps[i];
    $('.swatch', box).style.background = r.color;
    $('b', box).textContent = r.summary.name;
    $('.at', box).textContent = `step ${step}${axis.mode === 'step' ? '' : ` · ${fmtX(axis.mode, c.x[i])}`}`;
    $('.vals', box).textContent = p.metric ? `${p.metric} ${fmt(c.y[i])}`
      : KEYS.filter(k => r.series[k][row] !== undefined).map(k => `${SHORT[k]} ${fmt(r.series[k][row])}`).join(' · ');
    box.dataset.run = r.summary.id;
    box.dataset.step = step;
    delete box.dataset.group;
  }
  box.hidden = false;
  if (dot) {
    dot.hidden = !Number.isFinite(near.y);
    dot.style.left = `${near.x}px`;
    dot.style.top = `${near.y}px`;
    dot.style.borderColor = near.band ? near.band.color : near.c.r.color;
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

/**
 * The drawn point nearest the mouse on screen, of every drawn run (or group): from each line's point nearest the
 * mouse's x, outwards while a point could still be nearer (a noisy line has many points a pixel apart in x, far
 * apart in y). An undrawn value (a gap) counts only when nothing drawn is near.
 */
function nearestPoint(u, p, left, top) {
  const at = u.posToVal(left, 'x'), lg = isLog(p.key);
  let best = null;
  const consider = (xs, ys, extra) => {
    if (!xs.length) return;
    const i0 = nearestIndex(xs, at);
    const look = i => {
      const v = ys[i], x = u.valToPos(xs[i], 'x');
      const y = v !== null && Number.isFinite(v) && !(lg && v <= 0) ? u.valToPos(v, 'y') : NaN;
      const d = Math.hypot(x - left, Number.isFinite(y) ? y - top : 1e4);
      if (!best || d < best.d) best = { ...extra, i, x, y, d };
      return Math.abs(x - left);
    };
    look(i0);   // then its neighbours within reach (64 px at most: a mouse is not nearer a line farther off)
    for (let i = i0 - 1; i >= 0 && look(i) < Math.min(best.d, 64); i--);
    for (let i = i0 + 1; i < xs.length && look(i) < Math.min(best.d, 64); i++);
  };
  if (p.groups) for (const b of p.bands) consider(b.x, b.mean, { band: b });
  else for (const c of p.curves) if (runs.has(c.r.summary.id)) consider(c.x, c.y, { c });
  return best;
}

export function setupCharts() {
  const sel = $('#x-mode');
  sel.replaceChildren(...X_MODES.map(([v, text]) => new Option(text, v, false, v === axis.mode)));
  sel.addEventListener('change', () => setXMode(sel.value));
  $('#zoom-reset').addEventListener('click', () => setZoom(null));
  document.addEventListener('zoom-run', e => { const r = runs.get(e.detail); if (r) zoomToRun(r); });   // a row's ⤢
  $('#fit-toggle').addEventListener('click', () => { axis.fitAll = !axis.fitAll; dirty.charts = true; schedule(); });
  for (const box of $$('.log-toggle')) {
    box.checked = isLog(box.dataset.chart);
    box.addEventListener('change', () => { log[box.dataset.chart] = box.checked; save('log', log); dirty.structure = true; schedule(); });
  }
}
