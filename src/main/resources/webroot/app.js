// losswatch live page: run list, live uPlot charts over /ws, run controls, a form to start runs.
// Plain JS, no build step. State changes mark things dirty; one requestAnimationFrame draws them.
'use strict';
(() => {
  const SUBSCRIBE = { op: 'subscribe', runs: ['*'], mode: 'live', max_hz: 20 };
  const KEYS = ['loss', 'lr', 'grad_norm'];
  const MAX_POINTS = 4000;   // per run; beyond it the older points are thinned 2:1, spikes kept
  const MAX_MARKS = 50;      // non-finite markers kept per run
  const MAX_DRAW_GAP_MS = 250;
  // uPlot labels no axis whose range reaches 1e17: scales stop at ±1e15, larger values run off the chart
  const SCALE_CAP = 1e15, MAX_DRAWN = 1e300;   // beyond 1e300 (a diverging run reaches 1e308): not drawn
  const PALETTE = ['#2f6fdb', '#e8590c', '#2b8a3e', '#ae3ec9', '#0c8599', '#c2255c', '#5c940d', '#f08c00',
    '#364fc7', '#862e9c', '#087f5b', '#d9480f'];
  const SCHEDULE_PARAM = {   // the form's one schedule field, per schedule: [key, default]
    step: ['step_size', '100'], multistep: ['milestones', '500, 1000'], exponential: ['gamma', '0.999'],
    cosine: ['T_max', '2000'], linear: ['total_iters', '100'], onecycle: ['max_lr', '0.1'],
    plateau: ['patience', '10'], warmup_cosine: ['warmup_steps', '200'],
  };
  const DEFAULT_LR = { sgd: '0.01', adam: '0.01', adamw: '0.01', rmsprop: '0.01', adagrad: '0.1' };

  const $ = (sel, root = document) => root.querySelector(sel);
  const runs = new Map();          // id -> {summary, color, series, marks, last, row}
  const hidden = new Set();        // ids the user unchecked (kept across reconnects)
  const log = { loss: true, lr: false, grad_norm: true };
  const charts = {};               // key -> uPlot
  let colorNext = 0;
  let frame = 0, structureDirty = true, chartsDirty = false, drawnT = 0, lagShown = 0, nextDraw = 0, drawMs = 0;
  let ws = null, backoff = 500;

  // what tests (and the curious) can read: series[id] = {step, loss, lr, grad_norm, t}
  const api = window.losswatch = { series: {}, runs: {}, lag: null, points: {}, drawMs: 0 };

  // ---- numbers ----
  const num = v => (v === null || v === undefined ? null : typeof v === 'number' ? v : Number(v));
  const fmt = v => {
    if (v === null || v === undefined) return '–';
    if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : (v > 0 ? '∞' : '−∞');
    const a = Math.abs(v), r = +v.toPrecision(4);
    return a !== 0 && (a < 1e-3 || a >= 1e5) ? r.toExponential().replace('e+', 'e') : String(r);
  };

  // ---- runs and their series ----
  function emptySeries() {
    return { step: [], loss: [], lr: [], grad_norm: [], t: [] };
  }

  function addRun(summary) {
    const r = { summary, color: PALETTE[colorNext++ % PALETTE.length], series: emptySeries(), marks: [],
      last: { step: summary.step, loss: num(summary.loss), lr: num(summary.lr) }, row: null };
    runs.set(summary.id, r);
    api.series[summary.id] = r.series;
    r.row = makeRow(r);
    $('#runs tbody').append(r.row);
    $('#no-runs').hidden = true;
    structureDirty = true;
    return r;
  }

  function removeRun(id) {
    const r = runs.get(id);
    if (!r) return;
    r.row.remove();
    runs.delete(id);
    delete api.series[id];
    delete api.runs[id];
    $('#no-runs').hidden = runs.size > 0;
    structureDirty = true;
  }

  function clearSeries(r) {
    for (const k of Object.keys(r.series)) r.series[k] = [];
    r.marks = [];
  }

  function onRun(s) {
    if (s.state === 'deleted') { removeRun(s.id); schedule(); return; }
    let r = runs.get(s.id);
    if (!r) r = addRun(s);
    else if (s.cycle > r.summary.cycle) clearSeries(r);   // a demo run starting over
    r.summary = s;
    api.runs[s.id] = s;
    if (s.step >= r.last.step || s.cycle !== r.last.cycle) {
      r.last = { step: s.step, loss: num(s.loss), lr: num(s.lr), cycle: s.cycle };
    }
    r.rowDirty = true;
    chartsDirty = true;   // a state change can add or drop a divergence marker
    schedule();
  }

  function onSteps(m) {
    const r = runs.get(m.run);
    if (!r) return;
    if (m.cycle > r.summary.cycle) {   // a demo run started over: its steps count from 1 again
      r.summary.cycle = m.cycle;
      clearSeries(r);
    }
    const s = r.series;
    let last = s.step.length ? s.step[s.step.length - 1] : 0;
    for (let i = 0; i < m.step.length; i++) {
      const step = m.step[i];
      if (step <= last) continue;   // never out of order (uPlot needs ascending x)
      last = step;
      const p = { loss: num(m.loss[i]), lr: num(m.lr[i]), grad_norm: num(m.grad_norm[i]) };
      for (const k of KEYS) s[k].push(p[k]);
      s.step.push(step);
      s.t.push(m.t[i]);
      markNonFinite(r, step, p);
      r.last = { step, loss: p.loss, lr: p.lr, cycle: r.summary.cycle };
    }
    if (s.step.length > MAX_POINTS) thin(s);
    r.rowDirty = true;
    if (!hidden.has(m.run)) {
      chartsDirty = true;
      drawnT = Math.max(drawnT, m.t[m.t.length - 1] || 0);
    }
    schedule();
  }

  function markNonFinite(r, step, p) {
    const bad = KEYS.filter(k => p[k] !== null && !Number.isFinite(p[k]));
    if (!bad.length || r.marks.length >= MAX_MARKS) return;
    r.marks.push({ step, label: bad.map(k => `${k === 'grad_norm' ? 'grad' : k} ${fmt(p[k])}`).join(', ') });
  }

  /** Halves a series, keeping of each pair the higher loss (NaN counts highest) and always the last point. */
  function thin(s) {
    const out = emptySeries();
    const n = s.step.length, end = n - 1;
    for (let i = 0; i < end; i += 2) {
      const j = i + 1 < end && worse(s.loss[i + 1], s.loss[i]) ? i + 1 : i;
      for (const k of Object.keys(out)) out[k].push(s[k][j]);
    }
    for (const k of Object.keys(out)) { out[k].push(s[k][end]); s[k] = out[k]; }
  }
  const worse = (a, b) => Number.isNaN(a) || a > b;

  // ---- the run list ----
  function makeRow(r) {
    const id = r.summary.id;
    const tr = document.createElement('tr');
    tr.dataset.run = id;
    tr.innerHTML = `
      <td><input type="checkbox" class="show" ${hidden.has(id) ? '' : 'checked'}></td>
      <td class="name"><span class="swatch"></span><span class="label"></span></td>
      <td class="state"><span class="badge"></span></td>
      <td class="num step"></td><td class="num loss"></td><td class="num lr"></td>
      <td class="diag"></td>
      <td><div class="controls">
        <input class="lr-input" type="text" inputmode="decimal" placeholder="new lr">
        <button data-act="lr">set lr</button>
        <button data-act="pause">pause</button><button data-act="resume">resume</button>
        <button data-act="stop">stop</button><button data-act="delete" class="danger">delete</button>
      </div></td>`;
    $('.swatch', tr).style.background = r.color;
    $('.show', tr).addEventListener('change', e => toggleRun(id, e.target.checked));
    tr.addEventListener('click', e => {
      const act = e.target.dataset && e.target.dataset.act;
      if (act) control(id, act, tr);
    });
    $('.lr-input', tr).addEventListener('keydown', e => { if (e.key === 'Enter') control(id, 'lr', tr); });
    r.rowDirty = true;
    return tr;
  }

  function updateRow(r) {
    const s = r.summary, tr = r.row;
    tr.dataset.state = s.state;
    tr.dataset.step = r.last.step;
    tr.dataset.points = r.series.step.length;
    tr.className = s.state;
    $('.label', tr).textContent = s.name;
    $('.name', tr).title = `${s.id}\n${JSON.stringify(s.spec)}`;
    const badge = $('.badge', tr);
    badge.textContent = s.state;
    badge.className = `badge ${s.state}`;
    $('.step', tr).textContent = r.last.step;
    $('.loss', tr).textContent = fmt(r.last.loss);
    $('.lr', tr).textContent = fmt(r.last.lr);
    updateDiagnosis(r);
    const live = s.state === 'running' || s.state === 'paused' || s.state === 'created';
    for (const b of tr.querySelectorAll('button[data-act]')) {
      const a = b.dataset.act;
      b.disabled = a === 'pause' ? s.state !== 'running' : a === 'resume' ? s.state !== 'paused'
        : a === 'stop' || a === 'lr' || a === 'apply' ? !live : false;
    }
    r.rowDirty = false;
  }

  function updateDiagnosis(r) {
    const d = r.summary.diagnosis, cell = $('.diag', r.row);
    const key = d ? JSON.stringify([d.verdict, d.advice, d.suggested_lr]) : '';
    if (cell.dataset.key === key) return;   // keep the apply button alive between updates
    cell.dataset.key = key;
    cell.textContent = '';
    if (!d) return;
    const verdict = document.createElement('b');
    verdict.textContent = String(d.verdict || '').replace(/_/g, ' ');
    cell.title = [d.evidence, d.since_step ? `since step ${d.since_step}` : ''].filter(Boolean).join('\n');
    cell.append(verdict, ' ', d.advice || '');
    if (typeof d.suggested_lr === 'number') {
      const b = document.createElement('button');
      b.dataset.act = 'apply';
      b.textContent = `apply lr ${fmt(d.suggested_lr)}`;
      cell.append(' ', b);
    }
  }

  function toggleRun(id, show) {
    if (show) hidden.delete(id); else hidden.add(id);
    $('#select-all').checked = hidden.size === 0;
    structureDirty = true;
    schedule();
  }

  async function control(id, act, tr) {
    let method = 'POST', path = `/api/runs/${encodeURIComponent(id)}/${act}`, body;
    if (act === 'delete') { method = 'DELETE'; path = `/api/runs/${encodeURIComponent(id)}`; }
    if (act === 'apply') path = `/api/runs/${encodeURIComponent(id)}/apply-advice`;
    if (act === 'lr') {
      const input = $('.lr-input', tr), lr = Number(input.value);
      if (input.value.trim() === '' || !Number.isFinite(lr)) { notice('lr: enter a number', true); return; }
      body = { lr };
    }
    const res = await call(method, path, body);
    const name = runs.has(id) ? runs.get(id).summary.name : id;
    if (res.ok) notice(`${name}: ${act === 'lr' ? `lr → ${fmt(body.lr)}` : act}`);
    else notice(`${name}: ${res.message}`, true);
  }

  /**
   * fetch with JSON in and out; a 4xx/5xx becomes {ok:false, message} from the server's {error, field}. Every
   * change is typed application/json, even without a body: the server refuses other types (cross-site forms).
   */
  async function call(method, path, body) {
    try {
      const res = await fetch(path, { method, headers: { 'Content-Type': 'application/json' },
        body: body ? JSON.stringify(body) : undefined });
      const text = await res.text();
      let json = null;
      try { json = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
      if (res.ok) return { ok: true, json };
      const err = json && json.error ? json.error : `${res.status} ${res.statusText}`;
      const field = json && json.field ? ` (field: ${json.field})` : '';
      return { ok: false, message: err + field };
    } catch (e) {
      return { ok: false, message: `request failed: ${e.message}` };
    }
  }

  let noticeTimer = 0;
  function notice(text, error = false) {
    const el = $('#notice');
    el.textContent = text;
    el.className = error ? 'notice error' : 'notice';
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { el.textContent = ''; }, error ? 10000 : 3000);
  }

  // ---- charts ----
  const drawnRuns = () => [...runs.values()].filter(r => !hidden.has(r.summary.id));

  function buildCharts() {
    const drawn = drawnRuns();
    for (const key of KEYS) {
      const el = $(`#chart-${key}`);
      if (charts[key]) charts[key].destroy();
      charts[key] = new uPlot({
        width: el.clientWidth || 600,
        height: key === 'loss' ? 260 : 180,
        legend: { show: false },
        scales: { x: { time: false }, y: { ...(log[key] ? { distr: 3, log: 10 } : {}), range: cappedRange(log[key]) } },
        axes: [{ label: 'step', labelSize: 18, size: 36 },
          { size: 64, values: (u, vals) => vals.map(fmt), ...(log[key] ? { splits: logSplits, filter: (u, splits) => splits } : {}) }],
        series: [{}, ...drawn.map(r => ({ label: r.summary.name, stroke: r.color, width: 1.5,
          points: { show: false } }))],
        hooks: { draw: [u => drawMarks(u, drawn)] },
      }, [[]].concat(drawn.map(() => [])), el);
    }
  }

  /** uPlot's own range, its bounds kept within ±SCALE_CAP. */
  function cappedRange(isLog) {
    const cap = v => Math.max(-SCALE_CAP, Math.min(SCALE_CAP, v));
    return (u, min, max) => {
      if (!Number.isFinite(min) || !Number.isFinite(max)) return [min, max];
      const r = isLog ? uPlot.rangeLog(cap(min), cap(max), 10, true) : uPlot.rangeNum(cap(min), cap(max), 0.1, true);
      return [cap(r[0]), cap(r[1])];
    };
  }

  /** Decades (every n-th when there are many, so a range of 1e-5..1e300 stays readable); 2 and 5 too when few. */
  function logSplits(u, axisIdx, min, max) {
    const lo = Math.floor(Math.log10(min)), hi = Math.ceil(Math.log10(max));
    const stride = Math.max(1, Math.ceil((hi - lo) / 6)), mult = hi - lo <= 2 ? [1, 2, 5] : [1];
    const out = [];
    for (let e = lo; e <= hi; e++) {
      if (e % stride !== 0) continue;
      for (const m of mult) {
        const v = m * 10 ** e;
        if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) out.push(v);
      }
    }
    return out;
  }

  /** One aligned table for all drawn runs ([x, run1 loss, lr, grad, run2 loss, …]); gaps where needed. */
  function updateCharts() {
    const drawn = drawnRuns();
    const tables = drawn.map(r => [r.series.step, ...KEYS.map(k => r.series[k])]);
    const joined = tables.length ? uPlot.join(tables) : [[]];
    KEYS.forEach((key, ki) => {
      let nonPositive = 0, offScale = 0, points = 0;
      const cols = drawn.map((r, ri) => joined[1 + ri * KEYS.length + ki].map(v => {
        if (v === undefined) return undefined;              // another run's step: skipped, line continues
        if (v === null || !Number.isFinite(v)) return null; // a gap; marked by drawMarks
        if (log[key] && v <= 0) { nonPositive++; return null; }
        if (Math.abs(v) > SCALE_CAP) offScale++;
        if (Math.abs(v) > MAX_DRAWN) return null;
        points++;
        return v;
      }));
      charts[key].setData([joined[0], ...cols]);
      $(`#chart-${key}`).dataset.points = points;
      api.points[key] = points;
      $(`.hidden-note[data-chart="${key}"]`).textContent = [
        nonPositive ? `${nonPositive} values ≤ 0 not drawn (log scale)` : '',
        offScale ? `${offScale} values beyond ±1e15 run off the chart` : ''].filter(Boolean).join('; ');
    });
  }

  /** Red dashed lines where a drawn run had a non-finite value or diverged, labelled. */
  function drawMarks(u, drawn) {
    const ctx = u.ctx, { left, top, width, height } = u.bbox, px = uPlot.pxRatio || 1;
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

  // ---- one frame draws whatever changed since the last ----
  function schedule() {
    if (!frame) frame = requestAnimationFrame(render);
  }

  function render(now) {
    frame = 0;
    for (const r of runs.values()) if (r.rowDirty) updateRow(r);
    if (structureDirty) { buildCharts(); structureDirty = false; chartsDirty = true; nextDraw = 0; }
    if (!chartsDirty) return;
    if (now < nextDraw) { schedule(); return; }   // many runs on a slow machine: charts skip frames
    chartsDirty = false;
    const t0 = performance.now(), t = drawnT;
    drawnT = 0;
    updateCharts();
    queueMicrotask(() => {   // after uPlot's own microtask that paints
      const cost = performance.now() - t0;
      drawMs = drawMs ? 0.8 * drawMs + 0.2 * cost : cost;
      api.drawMs = drawMs;
      nextDraw = t0 + Math.min(MAX_DRAW_GAP_MS, 4 * drawMs);   // charts take at most a quarter of the time
      if (t) showLag(Date.now() - t);
    });
  }

  function showLag(ms) {
    api.lag = ms;
    const now = performance.now();
    if (now - lagShown < 250) return;   // readable, not flickering
    lagShown = now;
    $('#lag').textContent = `lag: ${Math.max(0, Math.round(ms))} ms`;
  }

  function resize() {
    for (const key of KEYS) {
      const el = $(`#chart-${key}`);
      if (charts[key] && el.clientWidth) charts[key].setSize({ width: el.clientWidth, height: charts[key].height });
    }
  }

  // ---- the WebSocket: subscribe to everything, reconnect with backoff, reload on reconnect ----
  function connect() {
    const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
    ws = socket;
    setConn('connecting', 'connecting…');
    socket.onopen = () => {
      backoff = 500;
      reset();
      socket.send(JSON.stringify(SUBSCRIBE));
      setConn('live', 'live');
    };
    socket.onmessage = ev => {
      const m = JSON.parse(ev.data);
      if (m.type === 'steps') onSteps(m);
      else if (m.type === 'frame') for (const e of m.runs) onSteps(e);
      else if (m.type === 'run') onRun(m.run);
      else if (m.type === 'alert') notice(`${m.name}: ${m.message}`, true);
      else if (m.type === 'error') notice(`server: ${m.message}`, true);
    };
    socket.onclose = () => {
      if (ws !== socket) return;
      setConn('closed', `disconnected, retrying in ${(backoff / 1000).toFixed(1)} s`);
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 10000);
    };
  }

  function reset() {
    for (const id of [...runs.keys()]) removeRun(id);
    colorNext = 0;
    structureDirty = true;
    schedule();
  }

  function setConn(state, text) {
    const el = $('#conn');
    el.dataset.state = state;
    el.textContent = text;
  }

  // ---- the form ----
  function setupForm() {
    const f = $('#new-run');
    f.optimizer.addEventListener('change', () => { f.lr.value = DEFAULT_LR[f.optimizer.value] || f.lr.value; });
    f.schedule.addEventListener('change', () => {
      const p = SCHEDULE_PARAM[f.schedule.value], label = $('.sched-param', f);
      label.hidden = !p;
      if (p) { $('span', label).textContent = p[0]; f.param.value = p[1]; }
    });
    f.addEventListener('submit', async e => {
      e.preventDefault();
      const err = $('#form-error');
      err.textContent = '';
      let spec;
      try { spec = specOf(f); } catch (ex) { err.textContent = ex.message; return; }
      const res = await call('POST', '/api/runs', spec);
      if (res.ok) notice(`started ${res.json.name}`); else err.textContent = res.message;
    });
  }

  function specOf(f) {
    const number = s => (s.trim() === '' ? undefined : Number(s));
    const spec = {
      problem: f.problem.value,
      optimizer: { type: f.optimizer.value, lr: number(f.lr.value) },
      steps: number(f.steps.value),
      steps_per_second: number(f.pace.value),
    };
    if (f.name.value.trim()) spec.name = f.name.value.trim();
    const raw = f.schedule_json.value.trim();
    if (raw) {
      try { spec.schedule = JSON.parse(raw); } catch (ex) { throw new Error(`schedule JSON: ${ex.message}`); }
    } else if (f.schedule.value !== 'constant') {
      spec.schedule = { type: f.schedule.value };
      const p = SCHEDULE_PARAM[f.schedule.value], v = f.param.value;
      if (p && v.trim() !== '') {
        spec.schedule[p[0]] = p[0] === 'milestones' ? v.split(',').map(x => Number(x.trim())) : Number(v);
      }
    }
    return spec;
  }

  // ---- start ----
  for (const box of document.querySelectorAll('.log-toggle')) {
    box.addEventListener('change', () => { log[box.dataset.chart] = box.checked; structureDirty = true; schedule(); });
  }
  $('#select-all').addEventListener('change', e => {
    for (const id of runs.keys()) if (e.target.checked) hidden.delete(id); else hidden.add(id);
    for (const box of document.querySelectorAll('#runs tbody .show')) box.checked = e.target.checked;
    structureDirty = true;
    schedule();
  });
  window.addEventListener('resize', () => requestAnimationFrame(resize));
  setupForm();
  connect();
})();
