// losswatch live page: run list and legend, live uPlot charts over /ws with a hover readout, run controls, a
// form to start runs. Plain JS, no build step. State changes mark things dirty; one requestAnimationFrame draws them.
'use strict';
(() => {
  // steps come as binary columns (js/binary.mjs reads them): no number is parsed from text
  const SUBSCRIBE = { op: 'subscribe', runs: ['*'], mode: 'live', max_hz: 20, format: 'binary' };
  let decodeBinary = null;   // js/binary.mjs, loaded before the first connection
  const KEYS = ['loss', 'lr', 'grad_norm'];
  const SHORT = { loss: 'loss', lr: 'lr', grad_norm: 'grad' };
  const MAX_POINTS = 4000;   // per run; beyond it thinned 2:1, each four points keeping their min and max loss
  const MAX_MARKS = 50;      // non-finite markers kept per run
  const MAX_DRAW_GAP_MS = 250;
  // uPlot labels no axis whose range reaches 1e17: scales stop at ±1e15, larger values run off the chart
  const SCALE_CAP = 1e15, MAX_DRAWN = 1e300;   // beyond 1e300 (a diverging run reaches 1e308): not drawn
  // a log scale stops at 1e-300: a run converging to 0 passes denormals (5e-324), whose decade 1e-324 is 0
  const LOG_FLOOR = 1e-300;
  // the form's sections whose options GET /api/schema describes by type: section -> the schema's key
  const TYPED = { problem: 'problems', optimizer: 'optimizers', schedule: 'schedules' };
  const DEFAULT_LR = { sgd: '0.01', adam: '0.01', adamw: '0.01', rmsprop: '0.01', adagrad: '0.1' };
  const LIVE = new Set(['created', 'running', 'paused']);   // any other state has ended
  const CLOCK_WINDOW_MS = 10000;   // the clock offset is the best of this long
  const FEEDBACK_MS = 8000, ERROR_MS = 15000, ALERT_MS = 30000;
  const TOKEN_KEY = 'losswatch.token';

  const $ = (sel, root = document) => root.querySelector(sel);
  const runs = new Map();          // id -> {summary, index, color, series, marks, last, row, entry, history}
  const hidden = new Set();        // ids the user unchecked (kept across reconnects): the one truth of what is drawn
  const log = { loss: true, lr: false, grad_norm: true };
  const charts = {};               // key -> uPlot
  let chartRuns = [];              // the runs the charts were built for, in series order
  let hoverKey = null;             // the chart under the mouse
  let frame = 0, structureDirty = true, chartsDirty = false, drawnT = 0, lagShown = 0, nextDraw = 0, drawMs = 0;
  let ws = null, backoff = 500;
  let token = sessionStorage.getItem(TOKEN_KEY);
  let base = null;                 // {from, spec}: the run "run again" filled the form from
  let schema = null;               // GET /api/schema, once loaded: the forms' option fields are built from it

  // what tests (and the curious) can read: series[id] = {step, loss, lr, grad_norm, t}; receive(m) handles m
  // as if the WebSocket had delivered it
  const api = window.losswatch = { series: {}, runs: {}, lag: null, clockOffset: null, points: {}, drawMs: 0,
    charts, drawn: [], receive: m => onMessage(m) };

  // ---- numbers ----
  const num = v => (v === null || v === undefined ? null : typeof v === 'number' ? v : Number(v));
  const fmt = v => {
    if (v === null || v === undefined) return '–';
    if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : (v > 0 ? '∞' : '−∞');
    const a = Math.abs(v), r = +v.toPrecision(4);
    return a !== 0 && (a < 1e-3 || a >= 1e5) ? r.toExponential().replace('e+', 'e') : String(r);
  };

  // ---- colours: each run's is picked to stay apart from all picked before it ----
  /** The colour of OKLCH (L, C, h°), its chroma lowered until it fits sRGB: {hex, lab} (lab: OKLab). */
  function oklch(L, C, h) {
    const hr = h * Math.PI / 180;
    for (let c = C; ; c = Math.max(0, c - 0.005)) {
      const a = c * Math.cos(hr), b = c * Math.sin(hr);
      const l = (L + 0.3963377774 * a + 0.2158037573 * b) ** 3;
      const m = (L - 0.1055613458 * a - 0.0638541728 * b) ** 3;
      const s = (L - 0.0894841775 * a - 1.2914855480 * b) ** 3;
      const rgb = [4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
        -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
        -0.0041960863 * l - 0.7034186147 * m + 1.7076147010 * s];
      if (c === 0 || rgb.every(v => v >= -1e-4 && v <= 1 + 1e-4)) {
        const hex = rgb.map(v => {
          v = Math.min(1, Math.max(0, v));
          return Math.round(255 * (v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055)).toString(16).padStart(2, '0');
        }).join('');
        return { hex: `#${hex}`, lab: [L, a, b] };
      }
    }
  }

  const palette = [];   // picked so far
  let candidates = null;
  /**
   * The i-th run colour: from hues every 5° at three lightnesses, the candidate farthest (in OKLab) from every
   * colour picked before, so colour 14 is as far from colour 2 as the hues allow (a fixed palette repeats).
   */
  function colorOf(i) {
    if (!candidates) {
      candidates = [];
      for (const L of [0.58, 0.45, 0.7]) for (let h = 255; h < 615; h += 5) candidates.push(oklch(L, 0.16, h % 360));
      palette.push(candidates.shift());   // a blue first
    }
    const dist = (p, q) => Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
    while (palette.length <= i && candidates.length) {
      let best = 0, bestD = -1;
      candidates.forEach((c, k) => {
        const d = Math.min(...palette.map(p => dist(p.lab, c.lab)));
        if (d > bestD) { bestD = d; best = k; }
      });
      palette.push(candidates.splice(best, 1)[0]);
    }
    return palette[i % palette.length].hex;
  }

  // a branch: its family's hue (the run it came from, or that run's own parent…), lighter or darker by its place
  const SHADES = [0.14, -0.12, 0.24, -0.22];
  function shadeOf(i, variant) {
    colorOf(i);
    const [L, a, b] = palette[i % palette.length].lab, dL = SHADES[(variant - 1) % SHADES.length];
    return oklch(Math.min(0.9, Math.max(0.3, L + dL)), Math.hypot(a, b), Math.atan2(b, a) * 180 / Math.PI).hex;
  }

  // ---- runs and their series ----
  function emptySeries() {
    return { step: [], loss: [], lr: [], grad_norm: [], t: [] };
  }

  function addRun(summary) {
    const parent = summary.parent ? runs.get(summary.parent) : null;
    const r = { summary, index: 0, variant: 0, color: '', series: emptySeries(), marks: [], history: true,
      last: { step: summary.step, loss: num(summary.loss), lr: num(summary.lr) }, row: null, entry: null };
    if (parent) {   // a branch: a shade of its family's colour, one no other member of the family has
      const family = [...runs.values()].filter(o => o.index === parent.index).map(o => o.variant);
      r.index = parent.index;
      while (family.includes(r.variant)) r.variant++;
      r.color = shadeOf(r.index, r.variant);
    } else {
      // a deleted run's colour goes to the next new one (once its branches are gone too); others keep theirs
      const used = new Set([...runs.values()].map(o => o.index));
      while (used.has(r.index)) r.index++;
      r.color = colorOf(r.index);
    }
    runs.set(summary.id, r);
    api.series[summary.id] = r.series;
    r.row = makeRow(r);
    r.entry = makeEntry(r);
    const after = parent && lastOfLine(parent.summary.id);
    if (after) {   // under its parent and the branches before it, in the table and the legend alike
      after.row.after(r.row);
      after.entry.after(r.entry);
    } else {
      $('#runs tbody').append(r.row);
      $('#legend').append(r.entry);
    }
    for (const o of runs.values()) if (o.summary.parent === summary.id) o.rowDirty = true;   // their lineage names it
    $('#no-runs').hidden = true;
    structureDirty = true;
    return r;
  }

  /** Of the run `id` and its branches (and theirs), the one whose row comes last. */
  function lastOfLine(id) {
    let last = null;
    for (const tr of document.querySelectorAll('#runs tbody tr')) {
      const r = runs.get(tr.dataset.run);
      if (r && descends(r, id)) last = r;
    }
    return last;
  }

  function descends(r, id) {
    for (let n = 0; r && n <= runs.size; n++, r = runs.get(r.summary.parent)) if (r.summary.id === id) return true;
    return false;
  }

  function removeRun(id) {
    const r = runs.get(id);
    if (!r) return;
    r.row.remove();
    r.entry.remove();
    runs.delete(id);
    for (const o of runs.values()) if (o.summary.parent === id) o.rowDirty = true;
    delete api.series[id];
    delete api.runs[id];
    studyRemoved();
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
    const was = r ? r.summary.state : undefined;
    if (!r) r = addRun(s);
    else if (s.cycle > r.summary.cycle) clearSeries(r);   // a demo run starting over, or rewound: its history comes again
    r.summary = s;
    api.runs[s.id] = s;
    if (s.step >= r.last.step || s.cycle !== r.last.cycle) {
      r.last = { step: s.step, loss: num(s.loss), lr: num(s.lr), cycle: s.cycle };
    }
    r.rowDirty = true;
    chartsDirty = true;   // a state change can add or drop a divergence marker
    studyNews(r, was);
    schedule();
  }

  /**
   * One run's new points: a steps message, or one entry of a frame. A run's first steps message after a
   * subscribe (marked downsampled by newer servers) is its history: old steps, which say nothing of the lag.
   */
  function onSteps(m, inFrame) {
    const r = runs.get(m.run);
    if (!r) return;
    const history = !inFrame && (m.downsampled === true || r.history);
    r.history = false;
    if (m.cycle < r.summary.cycle) return;   // sent before the run left that cycle: none of it stands now
    if (m.cycle > r.summary.cycle) {   // a demo run started over, or a guard rewound it: its history is sent again
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
    while (s.step.length > MAX_POINTS) thin(s);
    r.rowDirty = true;
    studyNews(r, r.summary.state);
    const newest = m.t[m.t.length - 1] || 0;
    // an old server sends no frames: a live bucket goes out right after its last step, so that step's time
    // stands in for the send time (the minimum over the window takes the quickest)
    if (!inFrame && !history && newest) clockSample(newest);
    if (!hidden.has(m.run)) {
      chartsDirty = true;
      if (!history) drawnT = Math.max(drawnT, newest);
    }
    schedule();
  }

  function markNonFinite(r, step, p) {
    const bad = KEYS.filter(k => p[k] !== null && !Number.isFinite(p[k]));
    if (!bad.length || r.marks.length >= MAX_MARKS) return;
    r.marks.push({ step, label: bad.map(k => `${SHORT[k]} ${fmt(p[k])}`).join(', ') });
  }

  /**
   * Halves a series as the server's M4 does: of each four points it keeps the one with the lowest and the one
   * with the highest loss (NaN counts highest), in step order, so dips and spikes survive; the last point stays.
   */
  function thin(s) {
    const out = emptySeries();
    const keep = i => { for (const k of Object.keys(out)) out[k].push(s[k][i]); };
    const end = s.step.length - 1;
    for (let i = 0; i < end; i += 4) {
      let lo = i, hi = i;
      for (let j = i + 1; j < Math.min(i + 4, end); j++) {
        if (below(s.loss[j], s.loss[lo])) lo = j;
        if (above(s.loss[j], s.loss[hi])) hi = j;
      }
      keep(Math.min(lo, hi));
      if (lo !== hi) keep(Math.max(lo, hi));
    }
    keep(end);
    for (const k of Object.keys(out)) s[k] = out[k];
  }
  const bad = v => v === null || Number.isNaN(v);
  const below = (a, b) => !bad(a) && (bad(b) || a < b);
  const above = (a, b) => (Number.isNaN(a) && !Number.isNaN(b)) || (!bad(a) && !bad(b) && a > b) || (b === null && a !== null);

  // ---- the run list and the legend: one swatch, one visibility ----
  function makeRow(r) {
    const id = r.summary.id;
    const tr = document.createElement('tr');
    tr.dataset.run = id;
    tr.innerHTML = `
      <td><input type="checkbox" class="show" ${hidden.has(id) ? '' : 'checked'}></td>
      <td class="name"><span class="swatch"></span><span class="label"></span><div class="lineage" hidden></div></td>
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
      const act = e.target.dataset && e.target.dataset.act;
      if (act === 'again') runAgain(runs.get(id));
      else if (act === 'branch') branch(id, Number(e.target.dataset.factor), e.target);
      else if (act) control(id, act, tr);
    });
    $('.lr-input', tr).addEventListener('keydown', e => { if (e.key === 'Enter') control(id, 'lr', tr); });
    tr.addEventListener('mouseenter', () => highlight(id, true));
    tr.addEventListener('mouseleave', () => highlight(id, false));
    r.rowDirty = true;
    return tr;
  }

  function makeEntry(r) {
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

  function highlight(id, on) {
    const r = runs.get(id);
    if (!r) return;
    r.row.classList.toggle('hl', on);
    r.entry.classList.toggle('hl', on);
  }

  function syncShown(r, entry = r.entry) {
    const shown = !hidden.has(r.summary.id);
    if (r.row) $('.show', r.row).checked = shown;
    entry.classList.toggle('off', !shown);
    entry.setAttribute('aria-pressed', String(shown));
    entry.title = `${shown ? 'hide' : 'show'} ${r.summary.name}${entry.dataset.lineage ? `\n${entry.dataset.lineage}` : ''}`;
  }

  function toggleRun(id, show) {
    if (show) hidden.delete(id); else hidden.add(id);
    if (runs.has(id)) syncShown(runs.get(id));
    $('#select-all').checked = hidden.size === 0;
    structureDirty = true;
    studies.dirty = true;   // the sweep's "draw only" button says what it would do now
    schedule();
  }

  function updateRow(r) {
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

  const rewindText = (name, w) => `${name}: rewound at step ${w.at} (${String(w.why).replace(/_/g, ' ')}) to step ${w.to},`
    + ` lr ${fmt(num(w.lr_before))} → ${fmt(num(w.lr_after))}`;

  /** How many times the run's guard rolled it back; each rewind in the title (and marked on the loss chart). */
  function updateRewinds(r) {
    const s = r.summary, list = s.rewinds || [], el = $('.rewinds', r.row);
    el.hidden = !list.length;
    el.dataset.count = list.length;
    el.textContent = `↺ ${list.length}`;
    el.title = `${list.length} rewind${list.length === 1 ? '' : 's'}:\n${list.map(w => rewindText(s.name, w)).join('\n')}`;
  }

  const advisedLr = s => {   // an ended run takes no advice: its diagnosis gives the lr to retry with
    const d = s.diagnosis, v = d && (typeof d.retry_lr === 'number' ? d.retry_lr : d.suggested_lr);
    return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
  };

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
    const name = runs.has(id) ? runs.get(id).summary.name : id, what = `what if ${factor >= 1 ? `×${factor}` : `÷${1 / factor}`}`;
    button.disabled = true;   // one click, one branch
    const res = await call('POST', `/api/runs/${encodeURIComponent(id)}/branch`, { lr_factor: factor });
    button.disabled = false;
    if (res.ok) feedback(`${name}: ${what} → started “${res.json.name}”`);
    else feedback(`${name}: ${what} failed: ${res.message}`, true);
  }

  /**
   * fetch with JSON in and out; a 4xx/5xx becomes {ok:false, message, field} from the server's {error, field}.
   * Every change is typed application/json, even without a body: the server refuses other types (cross-site
   * forms). A 401 asks for the server's token once, keeps it for this tab and sends the request again.
   */
  async function call(method, path, body) {
    for (;;) {
      let res, json = null;
      try {
        const headers = { 'Content-Type': 'application/json' };
        if (token) headers.Authorization = `Bearer ${token}`;
        res = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
        const text = await res.text();
        try { json = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
      } catch (e) {
        return { ok: false, message: `request failed: ${e.message}` };
      }
      if (res.ok) return { ok: true, json };
      if (res.status === 401 && await askToken(Boolean(token))) continue;
      const field = json && json.field ? json.field : '';
      let message = json && json.error ? json.error : `${res.status} ${res.statusText}`;
      if (field && !message.startsWith(field)) message = `${field}: ${message}`;
      return { ok: false, message, field };
    }
  }

  // ---- the token: asked for on the first 401, kept in sessionStorage ----
  let tokenAsked = null;
  /** Resolves true once the user gave a token (to try), false if they cancelled; one question at a time. */
  function askToken(refused) {
    if (tokenAsked) return tokenAsked;
    const bar = $('#token-bar');
    $('.why', bar).textContent = refused
      ? 'The server refused that token: enter the one it was started with (--token).'
      : 'This server needs its token (--token) to change runs.';
    bar.hidden = false;
    bar.token.value = '';
    bar.token.focus();
    tokenAsked = new Promise(resolve => {
      const done = given => {
        bar.hidden = true;
        bar.onsubmit = null;
        $('.cancel', bar).onclick = null;
        tokenAsked = null;
        resolve(given);
      };
      bar.onsubmit = e => {
        e.preventDefault();
        const t = bar.token.value.trim();
        if (!t) return;
        token = t;
        sessionStorage.setItem(TOKEN_KEY, t);
        done(true);
      };
      $('.cancel', bar).onclick = () => {
        if (refused) { token = null; sessionStorage.removeItem(TOKEN_KEY); }
        done(false);
      };
    });
    return tokenAsked;
  }

  // ---- two message areas: what your own actions did, and the server's alerts (which never overwrite it) ----
  const timers = {};
  function say(id, text, ms, cls) {
    const el = $(`#${id}`);
    el.textContent = text;
    el.title = text;
    el.className = `${id} ${cls}`.trim();
    clearTimeout(timers[id]);
    timers[id] = setTimeout(() => { el.textContent = ''; el.title = ''; }, ms);
  }
  const feedback = (text, error = false) => say('feedback', text, error ? ERROR_MS : FEEDBACK_MS, error ? 'error' : '');
  // the server's message starts with the run's name already
  const showAlert = m => say('alert', m.message || `${m.name}: ${m.kind}`, ALERT_MS, `kind-${m.kind}`);

  // ---- charts ----
  const drawnRuns = () => [...runs.values()].filter(r => !hidden.has(r.summary.id));

  function buildCharts() {
    const drawn = chartRuns = drawnRuns(), px = uPlot.pxRatio || 1;   // uPlot scales widths, not dashes
    api.drawn = drawn.map(r => r.summary.id);
    hideReadout();
    for (const key of KEYS) {
      const el = $(`#chart-${key}`);
      if (charts[key]) charts[key].destroy();
      const u = charts[key] = new uPlot({
        width: el.clientWidth || 600,
        height: key === 'loss' ? 260 : 180,
        legend: { show: false },
        cursor: { sync: { key: 'losswatch' }, points: { show: false } },
        scales: { x: { time: false }, y: { ...(log[key] ? { distr: 3, log: 10 } : {}), range: cappedRange(log[key]) } },
        axes: [{ label: 'step', labelSize: 18, size: 36 },
          { size: 64, values: (u, vals) => vals.map(fmt), ...(log[key] ? { splits: logSplits, filter: (u, splits) => splits } : {}) }],
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

  /** uPlot's own range, its bounds kept within ±SCALE_CAP (and above LOG_FLOOR on a log scale). */
  function cappedRange(isLog) {
    const cap = v => Math.max(isLog ? LOG_FLOOR : -SCALE_CAP, Math.min(SCALE_CAP, v));
    return (u, min, max) => {
      if (!Number.isFinite(min) || !Number.isFinite(max)) return [min, max];
      const r = isLog ? uPlot.rangeLog(cap(min), cap(max), 10, true) : uPlot.rangeNum(cap(min), cap(max), 0.1, true);
      return [cap(r[0]), cap(r[1])];
    };
  }

  /** Decades (every n-th when there are many, so a range of 1e-5..1e300 stays readable); 2 and 5 too when few. */
  function logSplits(u, axisIdx, min, max) {
    const lo = Math.floor(Math.log10(min)), hi = Math.ceil(Math.log10(max));
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];   // log10(0) = −∞: the loop below would never end
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
    const anySteps = drawn.some(r => r.series.step.length > 0);
    KEYS.forEach((key, ki) => {
      let nonPositive = 0, offScale = 0, tiny = 0, points = 0;
      const cols = drawn.map((r, ri) => joined[1 + ri * KEYS.length + ki].map(v => {
        if (v === undefined) return undefined;              // another run's step: skipped, line continues
        if (v === null || !Number.isFinite(v)) return null; // a gap; marked by drawMarks
        if (log[key] && v <= 0) { nonPositive++; return null; }
        if (Math.abs(v) > SCALE_CAP) offScale++;
        if (log[key] && v < LOG_FLOOR) tiny++;
        if (Math.abs(v) > MAX_DRAWN) return null;
        points++;
        return v;
      }));
      charts[key].setData([joined[0], ...cols]);
      $(`#chart-${key}`).dataset.points = points;
      api.points[key] = points;
      $(`.hidden-note[data-chart="${key}"]`).textContent = [
        nonPositive ? `${nonPositive} values ≤ 0 not drawn (log scale)` : '',
        offScale ? `${offScale} values beyond ±1e15 run off the chart` : '',
        tiny ? `${tiny} values below 1e-300 run off the chart` : ''].filter(Boolean).join('; ');
      const empty = $(`.empty[data-chart="${key}"]`);
      empty.textContent = !runs.size ? 'no runs yet: start one with the form'
        : !drawn.length ? 'no run drawn: check one in the legend or the table' : anySteps ? '' : 'no steps yet';
      empty.hidden = !empty.textContent;
    });
    if (hoverKey) readout(charts[hoverKey], hoverKey);   // the points under the mouse may have moved
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

  /**
   * On the loss chart, a dotted line in the run's colour at each step its guard rewound it to: elements, not
   * canvas strokes, so each has its title (why, and the lr before and after). Kept across draws, so a tooltip
   * being read stays up while the run goes on.
   */
  function placeRewinds(u, drawn) {
    const els = [...u.over.querySelectorAll('.rewind-mark')], { min, max } = u.scales.x;
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

  function marksOf(r) {
    const marks = r.marks.slice(0, 5).map(m => ({ ...m }));
    if (r.summary.state === 'diverged') {
      const at = marks.find(m => m.step === r.summary.step);
      if (at) at.label = `diverged (${at.label})`;
      else marks.push({ step: r.summary.step, label: 'diverged' });
    }
    return marks;
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

  function hideReadout() {
    $('#readout').hidden = true;
    for (const dot of document.querySelectorAll('.hover-dot')) dot.hidden = true;
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

  function nearestIndex(steps, x) {
    let lo = 0, hi = steps.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (steps[mid] < x) lo = mid + 1; else hi = mid;
    }
    return lo > 0 && x - steps[lo - 1] < steps[lo] - x ? lo - 1 : lo;
  }

  // ---- one frame draws whatever changed since the last ----
  function schedule() {
    if (!frame) frame = requestAnimationFrame(render);
  }

  function render(now) {
    frame = 0;
    for (const r of runs.values()) if (r.rowDirty) updateRow(r);
    if (structureDirty) { buildCharts(); structureDirty = false; chartsDirty = true; nextDraw = 0; }
    if (studies.dirty) drawStudies();
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
      if (t && clock.offset !== null) showLag(Date.now() - clock.offset - t);
    });
  }

  // ---- the lag: a step's time (the server's clock) to its drawing (the browser's), the clocks' offset removed ----
  // The offset is the least (receive − send) of the last CLOCK_WINDOW_MS: the clocks' difference plus the
  // quickest delivery. A server restart (maybe on another machine) starts it afresh.
  const clock = { q: [], offset: null };   // q: a sliding-window minimum, {at, d} with d increasing

  function clockSample(sentT) {
    if (!Number.isFinite(sentT)) return;
    const at = performance.now(), d = Date.now() - sentT, q = clock.q;
    while (q.length && q[q.length - 1].d >= d) q.pop();
    q.push({ at, d });
    while (q[0].at < at - CLOCK_WINDOW_MS) q.shift();
    clock.offset = api.clockOffset = q[0].d;
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
    resizeStudies();
  }

  // ---- the WebSocket: subscribe to everything, reconnect with backoff, reload on reconnect ----
  function connect() {
    const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
    socket.binaryType = 'arraybuffer';
    ws = socket;
    setConn('connecting', 'connecting…');
    socket.onopen = () => {
      backoff = 500;
      reset();
      socket.send(JSON.stringify(SUBSCRIBE));
      setConn('live', 'live');
    };
    socket.onmessage = ev => onMessage(typeof ev.data === 'string' ? JSON.parse(ev.data) : decodeBinary(ev.data));
    socket.onclose = () => {
      if (ws !== socket) return;
      setConn('closed', `disconnected, retrying in ${(backoff / 1000).toFixed(1)} s`);
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 10000);
    };
  }

  /** Live mode: one frame per tick, {t: sent, runs: [steps of each run with news]}; older servers: steps. */
  function onMessage(m) {
    if (m.type === 'frame') {
      clockSample(m.t);
      for (const entry of m.runs || []) onSteps(entry, true);
    } else if (m.type === 'steps') onSteps(m, false);
    else if (m.type === 'run') onRun(m.run);
    else if (m.type === 'alert') showAlert(m);
    else if (m.type === 'error') feedback(`server: ${m.message}`, true);
  }

  function reset() {
    for (const id of [...runs.keys()]) removeRun(id);
    clock.q = [];
    clock.offset = api.clockOffset = api.lag = null;
    drawnT = 0;
    $('#lag').textContent = 'lag: – ms';
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
    f.optimizer.addEventListener('change', () => {
      f.lr.value = DEFAULT_LR[f.optimizer.value] || schemaLr(f.optimizer.value) || f.lr.value;
      showOptions(f, 'optimizer');
    });
    f.problem.addEventListener('change', () => showOptions(f, 'problem'));
    f.schedule.addEventListener('change', () => showOptions(f, 'schedule'));
    for (const form of [f, $('#lr-range'), $('#sweep')]) {
      form.addEventListener('input', e => e.target.removeAttribute('aria-invalid'));
      form.addEventListener('change', e => e.target.removeAttribute('aria-invalid'));
    }
    $('#again-note .clear').addEventListener('click', () => setBase(null));
    f.addEventListener('submit', async e => {
      e.preventDefault();
      const err = $('#form-error');
      const spec = attempt(f, err, () => specOf(f));
      if (!spec) return;
      const res = await call('POST', '/api/runs', spec);
      if (res.ok) { feedback(`started ${res.json.name}`); return; }
      err.textContent = res.message;   // the server's own words, naming the field
      const input = inputFor(f, res.field);
      if (input) input.setAttribute('aria-invalid', 'true');
    });
    setupRangeTest(f);
    setupSweep(f);
    loadSchema(f);
  }

  /** Clears a form's errors, runs read(): its value, or null when it threw (the error shown, its field marked). */
  function attempt(form, err, read) {
    err.textContent = '';
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    try {
      return read();
    } catch (ex) {
      if (!(ex instanceof InputError)) throw ex;
      err.textContent = ex.message;
      if (ex.input) { ex.input.setAttribute('aria-invalid', 'true'); ex.input.focus(); }
      return null;
    }
  }

  /** GET /api/schema once; then the type lists and every option field come from it. */
  async function loadSchema(f) {
    let s = null;
    for (let wait = 500; !s; wait = Math.min(wait * 2, 8000)) {
      try {
        const res = await fetch('/api/schema');
        if (res.ok) s = await res.json();
      } catch (e) { /* the server is away: try again */ }
      if (!s) await new Promise(r => setTimeout(r, wait));
    }
    schema = api.schema = s;
    for (const [section, key] of Object.entries(TYPED)) {
      const select = f[section], chosen = select.value;
      select.replaceChildren(...Object.keys(s[key]).map(t => new Option(t, t, false, t === chosen)));
      showOptions(f, section);
    }
    const range = $('#lr-range'), sweep = $('#sweep');
    buildFields($('.opts', range), 'lr_range', s.lr_range.filter(o => o.kind !== 'object'));
    const lr = s.sweep.find(o => o.name === 'lr'), early = s.sweep.find(o => o.name === 'early_stop');
    buildFields($('.opts[data-section=lr]', sweep), 'lr', lr.options);
    buildFields($('.opts[data-section=early_stop]', sweep), 'early_stop', early.options, 'early stop ');
    if (base) fillFrom(f, base.spec);
  }

  /** An optimizer's own default lr from the schema (a learning-rate-free one's multiplier, 1), as text; '' if none. */
  function schemaLr(type) {
    const lr = schema && (schema.optimizers[type] || []).find(o => o.name === 'lr');
    return lr && typeof lr.default === 'number' ? String(lr.default) : '';
  }

  /** The options of a section's chosen type (an optimizer's lr has its own field), empty, defaults as placeholders. */
  function showOptions(f, section) {
    const box = $(`.opts[data-section=${section}]`, f);
    const options = schema ? schema[TYPED[section]][f[section].value] || [] : [];
    buildFields(box, section, options.filter(o => !(section === 'optimizer' && o.name === 'lr') && o.kind !== 'object'));
    if (section === 'optimizer') f.lr.placeholder = schema ? placeholder(options.find(o => o.name === 'lr')) : '';
  }

  /** One field per option, named section.option; a required one is marked. */
  function buildFields(box, section, options, prefix = '') {
    box.replaceChildren(...options.map(o => {
      const label = document.createElement('label'), span = document.createElement('span');
      span.textContent = prefix + o.name;
      let input;
      if (o.kind === 'boolean' || o.kind === 'choice') {
        input = document.createElement('select');
        const values = o.kind === 'boolean' ? ['true', 'false'] : o.choices;
        if (!o.required) input.append(new Option(`${o.default === null ? '–' : o.default} (default)`, ''));
        for (const v of values) input.append(new Option(v, v));
      } else {
        input = document.createElement('input');
        input.type = 'text';
        input.inputMode = o.kind === 'integer' || o.kind === 'integers' ? 'numeric' : o.kind === 'strings' || o.kind === 'string' ? 'text' : 'decimal';
        input.placeholder = placeholder(o);
      }
      input.name = `${section}.${o.name}`;
      input.dataset.kind = o.kind;
      if (o.must) input.title = o.must;
      if (o.required) label.classList.add('required');
      label.append(span, ' ', input);
      return label;
    }));
  }

  function placeholder(o) {
    if (!o) return '';
    if (o.required) return 'required';
    if (o.default_text) return o.default_text;
    if (o.default === null) return 'optional';
    return Array.isArray(o.default) ? o.default.join(', ') : typeof o.default === 'number' ? fmt(o.default) : String(o.default);
  }

  /** The values typed in a box's fields, read by kind: {name: value}; empty fields are left out. */
  function readFields(box) {
    const out = {};
    for (const input of box.querySelectorAll('input, select')) {
      const name = input.name.slice(input.name.indexOf('.') + 1), kind = input.dataset.kind, text = input.value.trim();
      if (text === '') continue;
      if (kind === 'boolean') out[name] = text === 'true';
      else if (kind === 'choice' || kind === 'string') out[name] = text;
      else if (kind === 'number' || kind === 'integer') out[name] = numberIn(input, input.name);
      else {
        const parts = text.split(',').map(x => x.trim());
        if (kind === 'strings') { out[name] = parts; continue; }
        const list = parts.map(Number);
        if (parts.some((x, i) => x === '' || !Number.isFinite(list[i]))) {
          throw new InputError(input, `${input.name}: "${text}" is not a list of numbers`);
        }
        out[name] = list;
      }
    }
    return out;
  }

  /** Fills a box's fields from an object's values (those it has no field for are left to the base spec). */
  function fillFields(box, values) {
    for (const input of box.querySelectorAll('input, select')) {
      const v = values ? values[input.name.slice(input.name.indexOf('.') + 1)] : undefined;
      input.value = v === undefined || v === null ? '' : Array.isArray(v) ? v.join(', ') : String(v);
    }
  }

  function inputFor(f, field) {
    if (!field) return null;
    const top = field.split('.')[0];
    if (field === 'optimizer.lr') return f.lr;
    if (top === 'schedule' && f.schedule_json.value.trim()) return f.schedule_json;
    const own = f.querySelector(`[name="${CSS.escape(field.replace(/\[\d+\]$/, ''))}"]`);
    if (own) return own;
    return { name: f.name, problem: f.problem, optimizer: f.optimizer, steps: f.steps, steps_per_second: f.pace,
      schedule: f.schedule }[top] || null;
  }

  class InputError extends Error {
    constructor(input, message) { super(message); this.input = input; }
  }

  /** A field's number, or undefined when empty; anything else is refused here, naming the field and the value. */
  function numberIn(input, label) {
    const text = input.value.trim();
    if (text === '') return undefined;
    const v = Number(text);
    if (Number.isNaN(v)) throw new InputError(input, `${label}: "${text}" is not a number`);
    if (!Number.isFinite(v)) throw new InputError(input, `${label}: "${text}" is not a finite number`);
    return v;
  }

  /**
   * A typed section as the form says: the base run's own if of the same type (options the form shows no field
   * for are kept), each field's value over it; a bare type name when it has no options.
   */
  function sectionOf(f, section, from) {
    const type = f[section].value, box = $(`.opts[data-section=${section}]`, f);
    const out = from && typeof from === 'object' && from.type === type ? { ...from } : { type };
    for (const input of box.querySelectorAll('input, select')) delete out[input.name.slice(section.length + 1)];
    return Object.assign(out, readFields(box));
  }

  /** The RunSpec the form describes; options the form has no field for come from the run it was filled from. */
  function specOf(f) {
    const from = base ? base.spec : {};
    const spec = {};
    for (const [k, v] of Object.entries(from)) {
      if (!['name', 'problem', 'optimizer', 'schedule', 'steps', 'steps_per_second'].includes(k)) spec[k] = v;
    }
    if (f.name.value.trim()) spec.name = f.name.value.trim();
    const problem = sectionOf(f, 'problem', from.problem);
    spec.problem = Object.keys(problem).length === 1 ? problem.type : problem;
    const optimizer = sectionOf(f, 'optimizer', from.optimizer);
    const lr = numberIn(f.lr, 'lr');
    if (lr === undefined) delete optimizer.lr; else optimizer.lr = lr;
    spec.optimizer = optimizer;
    const raw = f.schedule_json.value.trim();
    if (raw) {
      try { spec.schedule = JSON.parse(raw); } catch (ex) { throw new InputError(f.schedule_json, `schedule JSON: ${ex.message}`); }
    } else if (f.schedule.value !== 'constant') {
      spec.schedule = sectionOf(f, 'schedule', from.schedule);
    }
    const steps = numberIn(f.steps, 'steps'), pace = numberIn(f.pace, 'steps/s');
    if (steps !== undefined) spec.steps = steps;
    if (pace !== undefined) spec.steps_per_second = pace;
    return spec;
  }

  // ---- the range test and the sweep: the spec above, and their own options from the schema ----
  function setupRangeTest(f) {
    const form = $('#lr-range'), err = $('.form-error', form);
    form.addEventListener('submit', async e => {
      e.preventDefault();
      const body = attempt(form, err, () => ({ base: specOf(f), ...readFields($('.opts', form)) }));
      if (!body) return;
      if (!body.base.name) body.base.name = `range test ${body.base.optimizer.type}`;
      feedback(`range test “${body.base.name}” started: it answers when it stops`);
      const res = await call('POST', '/api/lr-range', body);
      if (!res.ok) {
        err.textContent = res.message;
        const input = res.field && (res.field.startsWith('base.') ? inputFor(f, res.field.slice(5))
          : form.querySelector(`[name="lr_range.${CSS.escape(res.field)}"]`));
        if (input) input.setAttribute('aria-invalid', 'true');
        return;
      }
      const sg = res.json.suggestions || {};
      feedback(`range test ${res.json.run}: steepest ${fmt(sg.steepest)}, valley ${fmt(sg.valley)}, minimum/10 ${fmt(sg['minimum/10'])}`);
    });
  }

  function setupSweep(f) {
    const form = $('#sweep'), err = $('.form-error', form);
    form.addEventListener('submit', async e => {
      e.preventDefault();
      const body = attempt(form, err, () => {
        const b = { base: specOf(f), lr: readFields($('.opts[data-section=lr]', form)) };
        const early = readFields($('.opts[data-section=early_stop]', form));
        if (Object.keys(early).length) b.early_stop = early;
        return b;
      });
      if (!body) return;
      const res = await call('POST', '/api/sweeps', body);
      if (res.ok) { feedback(`sweep ${res.json.sweep}: started ${res.json.runs.length} runs`); return; }
      err.textContent = res.message;
      const field = res.field || '';
      const input = field.startsWith('base.') ? inputFor(f, field.slice(5))
        : form.querySelector(`[name="${CSS.escape(field.replace(/\[\d+\]$/, ''))}"]`);
      if (input) input.setAttribute('aria-invalid', 'true');
    });
  }

  // ---- run again: the form filled from an ended run, its lr the diagnosis' advice ----
  function runAgain(r) {
    if (!r) return;
    const f = $('#new-run'), s = r.summary, spec = s.spec || {}, opt = spec.optimizer || {};
    const advised = advisedLr(s);
    fillFrom(f, spec);
    f.lr.value = advised !== null ? String(advised) : opt.lr !== undefined ? String(opt.lr) : '';
    f.steps.value = spec.steps === undefined ? '' : String(spec.steps);
    f.pace.value = String(spec.steps_per_second || 0);
    f.name.value = `${s.name}${advised !== null ? `, lr ${fmt(advised)}` : ' again'}`.slice(0, 256);
    setBase({ from: s.name, spec, advised });
    $('#form-error').textContent = '';
    f.scrollIntoView({ block: 'nearest' });
    $('button[type=submit]', f).focus({ preventScroll: true });
  }

  /** The problem, optimizer and schedule fields from a spec. */
  function fillFrom(f, spec) {
    const problem = typeof spec.problem === 'string' ? { type: spec.problem } : spec.problem || {};
    const sched = spec.schedule || { type: 'constant' };
    for (const [section, values] of [['problem', problem], ['optimizer', spec.optimizer || {}], ['schedule', sched]]) {
      f[section].value = values.type;
      showOptions(f, section);
      fillFields($(`.opts[data-section=${section}]`, f), values);
    }
    f.schedule_json.value = '';
  }

  function setBase(b) {
    base = b;
    const note = $('#again-note');
    note.hidden = !b;
    if (b) {
      $('span', note).textContent = `Again from “${b.from}”${b.advised !== null ? `, lr ${fmt(b.advised)} as advised` : ''};`
        + ' options without a field here are kept. Start it below.';
    }
  }

  // ---- studies: lr range tests and sweeps, each in its own panel beside the charts ----
  // A range test is a run whose schedule is lr_range: its curve (loss and smoothed loss against a log lr) comes from
  // GET /api/lr-range/{id}, fetched again as its steps stream in. A sweep is the runs sharing a `sweep` id: its
  // U-curve (each run's loss now against its lr, log-log) is drawn from what the page already holds.
  const STUDY_REFRESH_MS = 300;    // a study's REST view: fetched at most this often
  const FOLLOW_UP_STEPS = 1000;    // a run started from a range test's suggestion: this long
  const SUGGESTIONS = ['steepest', 'valley', 'minimum/10'];
  const SUGGESTION_TEXT = {
    steepest: 'where the smoothed loss falls fastest (Lightning)',
    valley: 'in the longest descent, before the minimum (fastai)',
    'minimum/10': 'a tenth of the lr at the lowest smoothed loss',
  };
  const studies = {
    dirty: false,
    range: { id: null, pinned: false, data: null, chart: null, log: true, key: '', refresh: null },
    sweep: { id: null, pinned: false, chart: null, key: '', early: {}, points: [], refresh: null },
  };
  api.studies = { range: null, sweep: null };   // what is drawn: for tests (and the curious)

  const isRangeTest = s => Boolean(s.spec && s.spec.schedule && s.spec.schedule.type === 'lr_range');
  const newestFirst = (a, b) => String(b.summary.created || '').localeCompare(String(a.summary.created || ''));

  /**
   * A REST view kept fresh without flooding the server: `task` (returning a promise) runs at most once per `ms`,
   * never twice at once; a call while it runs or waits runs it once more afterwards.
   */
  function throttled(task, ms) {
    let busy = false, again = false, timer = 0, last = -Infinity;
    const run = () => {
      if (busy || timer) { again = true; return; }
      const wait = last + ms - performance.now();
      if (wait > 0) { timer = setTimeout(() => { timer = 0; run(); }, wait); return; }
      busy = true;
      again = false;
      Promise.resolve(task()).finally(() => {
        busy = false;
        last = performance.now();
        if (again) run();
      });
    };
    return run;
  }

  /** A run's news, from onRun (`was`: its state before) or onSteps: which study it belongs to redraws. */
  function studyNews(r, was) {
    const s = r.summary;
    if (isRangeTest(s)) {
      if (was !== s.state) studies.range.key = '';   // the picker's labels show states
      if (studies.range.id === s.id) studies.range.refresh();
      studies.dirty = true;
    }
    if (s.sweep) {
      if (was !== undefined && was !== s.state) studies.sweep.refresh();   // an early stop shows in the sweep's view
      studies.dirty = true;
    }
    if (studies.dirty) schedule();
  }

  function studyRemoved() {
    studies.range.key = studies.sweep.key = '';
    studies.dirty = true;
  }

  /** Which range test and which sweep the panels show: the one picked, else the newest. */
  function pickStudies() {
    const ranges = [...runs.values()].filter(r => isRangeTest(r.summary)).sort(newestFirst);
    const sweeps = new Map();   // sweep id -> its runs, the newest sweep first
    for (const r of [...runs.values()].sort(newestFirst)) {
      if (!r.summary.sweep) continue;
      if (!sweeps.has(r.summary.sweep)) sweeps.set(r.summary.sweep, []);
      sweeps.get(r.summary.sweep).push(r);
    }
    const rv = studies.range, sv = studies.sweep;
    if (!rv.pinned || !runs.has(rv.id)) {
      const id = ranges.length ? ranges[0].summary.id : null;
      if (id !== rv.id) { rv.id = id; rv.data = null; rv.pinned = false; if (id) rv.refresh(); }
    }
    if (!sv.pinned || !sweeps.has(sv.id)) {
      const id = sweeps.size ? sweeps.keys().next().value : null;
      if (id !== sv.id) { sv.id = id; sv.early = {}; sv.pinned = false; if (id) sv.refresh(); }
    }
    fillPicker($('#range-panel'), rv, ranges.map(r => [r.summary.id, `${r.summary.name} · ${r.summary.state}`]));
    fillPicker($('#sweep-panel'), sv, [...sweeps].map(([id, list]) =>
      [id, `${id} · ${sweepName(list)} · ${list.length} run${list.length === 1 ? '' : 's'}`]));
    return sweeps;
  }

  /** A sweep's name: its runs' names without their " lr=…" (the server adds it to a named base). */
  const sweepName = list => {
    const names = new Set(list.map(r => r.summary.name.replace(/ lr=\S+$/, '')));
    return names.size === 1 ? [...names][0] : 'lr sweep';
  };

  function fillPicker(panel, view, options) {
    const key = JSON.stringify([view.id, options]);
    if (view.key === key) return;
    view.key = key;
    const pick = $('.pick', panel);
    pick.textContent = '';
    for (const [id, label] of options) pick.append(new Option(label, id, false, id === view.id));
    pick.hidden = options.length < 2;   // one to show: nothing to pick
    panel.hidden = !options.length;
  }

  function pickStudy(kind, id) {
    const view = studies[kind];
    view.pinned = true;
    if (view.id !== id) {
      view.id = id;
      view.key = '';
      if (kind === 'range') view.data = null; else view.early = {};
      view.refresh();
    }
    studies.dirty = true;
    schedule();
  }

  function drawStudies() {
    studies.dirty = false;
    const sweeps = pickStudies();
    drawRange();
    drawSweep(sweeps.get(studies.sweep.id) || []);
  }

  /** In a run's row, which study it is part of: a tag that shows that study in its panel. */
  function updateStudyTag(r) {
    const s = r.summary, cell = $('.name', r.row);
    let tag = $('.study-tag', cell);
    const kind = isRangeTest(s) ? 'range' : s.sweep ? 'sweep' : null;
    if (!kind) { if (tag) tag.remove(); return; }
    if (!tag) {
      tag = document.createElement('button');
      tag.type = 'button';
      tag.className = 'study-tag';
      tag.addEventListener('click', e => {
        e.stopPropagation();
        const id = tag.dataset.study === 'range' ? s.id : tag.dataset.sweep;
        pickStudy(tag.dataset.study, id);
        $(`#${tag.dataset.study}-panel`).scrollIntoView({ block: 'nearest' });
      });
      cell.append(tag);   // on its own line under the name, as a branch's lineage: the row no wider
    }
    tag.dataset.study = kind;
    if (kind === 'sweep') {
      tag.dataset.sweep = s.sweep;
      tag.textContent = `sweep ${s.sweep}`;
      tag.title = `one of sweep ${s.sweep}'s runs: show its U-curve`;
    } else {
      tag.textContent = 'range test';
      tag.title = 'an lr range test: show its curve';
    }
  }

  // ---- the range test: loss and smoothed loss against the lr, the suggestions marked ----
  studies.range.refresh = throttled(async () => {
    const view = studies.range, id = view.id;
    if (!id) return;
    const res = await call('GET', `/api/lr-range/${encodeURIComponent(id)}`);
    if (id !== view.id) return;
    view.data = res.ok ? res.json : { error: res.message };
    studies.dirty = true;
    schedule();
  }, STUDY_REFRESH_MS);

  function drawRange() {
    const view = studies.range, panel = $('#range-panel'), el = $('#chart-range');
    const r = runs.get(view.id), d = view.data;
    if (!r) { api.studies.range = null; return; }
    if (!view.chart || view.chartRun !== view.id) buildRangeChart();   // the smoothed line in the run's colour
    const ok = d && !d.error && d.run === view.id;
    const lr = ok ? d.lr.map(num) : [], keep = v => (v === null || !Number.isFinite(v) || (view.log && v <= 0) ? null : v);
    const loss = ok ? d.loss.map(num).map(keep) : [], smoothed = ok ? d.smoothed.map(num).map(keep) : [];
    view.chart.setData([lr, loss, smoothed]);
    const sugg = ok ? d.suggestions || {} : {};
    view.marks = SUGGESTIONS.map(k => ({ key: k, lr: num(sugg[k]) })).filter(m => m.lr !== null && Number.isFinite(m.lr));
    placeSuggestions(view.chart);
    el.dataset.points = lr.length;
    const empty = $('.empty', panel);
    empty.textContent = d && d.error ? d.error : !ok ? 'loading…' : lr.length ? '' : 'no steps yet';
    empty.hidden = !empty.textContent;
    const state = ok ? d.state : r.summary.state;
    $('.status', panel).textContent = !ok ? state
      : `${state}: ${lr.length} of ${fmt(num(d.num_steps))} steps${d.stopped_early ? ', stopped early: the loss ran away' : ''}`;
    panel.dataset.run = view.id;
    panel.dataset.state = state;
    $('.key-line.smoothed', panel).style.borderTopColor = r.color;
    showSuggestions(panel, r, ok ? sugg : null);
    api.studies.range = { run: view.id, state, points: lr.length,
      suggestions: Object.fromEntries(view.marks.map(m => [m.key, m.lr])) };
  }

  /** A study's chart against lr on a log axis (the range test's, the sweep's): their common options. */
  function lrChart(el, y, yAxis, series, hooks, data) {
    return new uPlot({
      width: el.clientWidth || 400,
      height: 220,
      legend: { show: false },
      cursor: { points: { show: false }, drag: { x: false, y: false } },
      scales: { x: { time: false, distr: 3, log: 10, range: cappedRange(true) }, y },
      axes: [{ label: 'lr', labelSize: 18, size: 36, values: (u, vals) => vals.map(fmt), splits: logSplits, filter: (u, s) => s },
        { values: (u, vals) => vals.map(fmt), ...yAxis }],
      series,
      hooks,
    }, data, el);
  }

  function buildRangeChart() {
    const view = studies.range, el = $('#chart-range'), r = runs.get(view.id);
    if (view.chart) view.chart.destroy();
    view.chart = lrChart(el, { ...(view.log ? { distr: 3, log: 10 } : {}), range: cappedRange(view.log) },
      { size: 64, ...(view.log ? { splits: logSplits, filter: (u, s) => s } : {}) },
      [{}, { label: 'loss', stroke: '#9aa3b5', width: 1, points: { show: false } },
        { label: 'smoothed', stroke: r ? r.color : '#2f6fdb', width: 2, points: { show: false } }],
      { draw: [u => placeSuggestions(u)] }, [[], [], []]);
    view.chartRun = view.id;
  }

  /** A dashed line at each suggested lr, labelled: elements, so each has its title and the tests can find them. */
  function placeSuggestions(u) {
    const view = studies.range, els = [...u.over.querySelectorAll('.suggest-mark')];
    const { min, max } = u.scales.x;
    let n = 0;
    for (const m of view.marks || []) {
      if (min == null || !(m.lr >= min && m.lr <= max)) continue;
      const el = els[n] || u.over.appendChild(document.createElement('div'));
      el.className = 'suggest-mark';
      el.dataset.suggestion = m.key;
      el.dataset.lr = m.lr;
      el.style.left = `${u.valToPos(m.lr, 'x')}px`;
      el.style.setProperty('--row', n);
      el.textContent = m.key;
      el.title = `${m.key}: lr ${fmt(m.lr)}, ${SUGGESTION_TEXT[m.key]}`;
      n++;
    }
    for (const el of els.slice(n)) el.remove();
  }

  /** Each suggestion's lr, and a button that fills the form to start a run with it. */
  function showSuggestions(panel, r, sugg) {
    const box = $('.suggestions', panel);
    if (!box.children.length) {
      for (const k of SUGGESTIONS) {
        const row = document.createElement('div');
        row.className = 'suggestion';
        row.dataset.suggestion = k;
        row.innerHTML = '<span class="key"></span> <b class="lr"></b> <button type="button">start a run with this lr</button>';
        $('.key', row).textContent = k;
        $('.key', row).title = SUGGESTION_TEXT[k];
        $('button', row).addEventListener('click', () => startFromSuggestion(k));
        box.append(row);
      }
    }
    for (const row of box.children) {
      const v = sugg ? num(sugg[row.dataset.suggestion]) : null, ok = v !== null && Number.isFinite(v) && v > 0;
      $('.lr', row).textContent = ok ? fmt(v) : '–';
      row.dataset.lr = ok ? v : '';
      const b = $('button', row);
      b.disabled = !ok;
      b.title = ok ? `fill the form with ${r.summary.name}'s spec, lr ${fmt(v)}, ${FOLLOW_UP_STEPS} steps` : 'no suggestion (yet)';
    }
  }

  /**
   * Fills the new-run form as "run again" does: the range test's base spec (its spec without the lr ramp, its stop
   * and its length), the suggested lr, FOLLOW_UP_STEPS steps.
   */
  function startFromSuggestion(key) {
    const view = studies.range, r = runs.get(view.id), d = view.data;
    const lr = d && d.suggestions ? num(d.suggestions[key]) : null;
    if (!r || lr === null || !Number.isFinite(lr)) return;
    const spec = {};
    for (const [k, v] of Object.entries(r.summary.spec || {})) {
      if (!['schedule', 'stop_on_divergence', 'steps', 'name', 'sweep'].includes(k)) spec[k] = v;
    }
    spec.steps = FOLLOW_UP_STEPS;
    // the server names an unnamed range test "lr range test": the run it leads to is named after what it trains
    const problem = typeof spec.problem === 'string' ? spec.problem : (spec.problem || {}).type;
    const stem = r.summary.name === 'lr range test' ? [problem, (spec.optimizer || {}).type].filter(Boolean).join(' ') : r.summary.name;
    runAgain({ summary: { name: `${stem || 'range test'} (${key})`, spec, diagnosis: { retry_lr: lr } } });
  }

  // ---- the sweep: each run's loss now against its lr, log-log ----
  studies.sweep.refresh = throttled(async () => {
    const view = studies.sweep, id = view.id;
    if (!id) return;
    const res = await call('GET', `/api/sweeps/${encodeURIComponent(id)}`);
    if (id !== view.id || !res.ok) return;
    view.early = Object.fromEntries((res.json.runs || []).map(x => [x.id, x.early_stopped === true]));
    studies.dirty = true;
    schedule();
  }, STUDY_REFRESH_MS);

  /** A sweep run's point: its lr (the sweep's, from its spec) and its loss at its latest step. */
  function sweepPoint(r) {
    const s = r.summary, opt = (s.spec && s.spec.optimizer) || {};
    const lr = num(opt.lr) !== null ? num(opt.lr) : r.last.lr, loss = r.last.loss;
    const finite = loss !== null && Number.isFinite(loss);
    return { run: s.id, name: s.name, color: r.color, lr, loss, step: r.last.step, state: s.state,
      diverged: s.state === 'diverged' || (loss !== null && !finite),
      early: studies.sweep.early[s.id] === true,
      // off the chart: at its top edge (a non-finite or runaway loss) or its bottom (≤ 0 on a log scale)
      edge: loss === null ? null : !finite || loss > SCALE_CAP ? 'top' : loss < LOG_FLOOR ? 'bottom' : null };
  }

  function drawSweep(list) {
    const view = studies.sweep, panel = $('#sweep-panel');
    if (!view.id) { api.studies.sweep = null; return; }
    if (!view.chart) buildSweepChart();
    const pts = view.points = list.map(sweepPoint).filter(p => p.loss !== null && p.lr !== null && p.lr > 0)
      .sort((a, b) => a.lr - b.lr);
    const onScale = p => !p.edge;
    const x = pts.map(p => p.lr), y = pts.map(p => (onScale(p) ? p.loss : null));
    view.chart.setData([x, y]);
    $('#chart-sweep').dataset.points = pts.length;
    const empty = $('.empty', panel);
    empty.textContent = pts.length ? '' : 'no steps yet';
    empty.hidden = !empty.textContent;
    const best = pts.filter(p => !p.diverged && !p.edge).sort((a, b) => a.loss - b.loss)[0];
    const going = list.filter(r => LIVE.has(r.summary.state)).length;
    $('.status', panel).textContent = `${list.length} runs, ${going} going`
      + (best ? `; best now lr ${fmt(best.lr)} (loss ${fmt(best.loss)} at step ${best.step})` : '');
    panel.dataset.sweep = view.id;
    const only = $('.only', panel), ids = new Set(list.map(r => r.summary.id));
    only.dataset.mode = [...runs.keys()].every(id => ids.has(id) !== hidden.has(id)) ? 'all' : 'only';
    only.textContent = only.dataset.mode === 'all' ? 'draw all runs' : 'draw only this sweep';
    api.studies.sweep = { sweep: view.id, points: [] };   // filled as they are drawn
  }

  function buildSweepChart() {
    const view = studies.sweep, el = $('#chart-sweep');
    view.chart = lrChart(el, { distr: 3, log: 10, range: sweepRange },
      { label: 'loss now', labelSize: 18, size: 72, splits: logSplits, filter: (u, s) => s },
      [{}, { label: 'loss', stroke: '#c3c9d5', width: 1, spanGaps: true, points: { show: false } }],
      { draw: [drawSweepPoints] }, [[], []]);
    view.chart.over.addEventListener('mousemove', e => sweepHover(e));
    view.chart.over.addEventListener('mouseleave', () => sweepHover(null));
  }

  /** The losses' range, as the other charts' (no finite loss yet: a decade either side of 1). */
  function sweepRange(u, min, max) {
    if (min == null || max == null || !Number.isFinite(min) || !Number.isFinite(max)) return [0.1, 10];
    return cappedRange(true)(u, min, max);
  }

  /** Each run a dot in its colour: hollow if the sweep stopped it early, a red × if it diverged. */
  function drawSweepPoints(u) {
    const ctx = u.ctx, px = uPlot.pxRatio || 1, { left, top, width, height } = u.bbox;
    const rad = 4.5 * px, pad = 7 * px;
    ctx.save();
    ctx.lineWidth = 2 * px;
    for (const p of studies.sweep.points) {
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
    if (api.studies.sweep) {
      api.studies.sweep.points = studies.sweep.points.map(p => ({ run: p.run, lr: p.lr, loss: p.loss, step: p.step,
        state: p.state, mark: p.mark, edge: p.edge, x: p.x, y: p.y }));
    }
  }

  /** The point under the mouse: its run named under the chart, its row and legend entry lit. */
  function sweepHover(e) {
    const view = studies.sweep, panel = $('#sweep-panel'), line = $('.hover-line', panel);
    let near = null;
    if (e) {
      const rect = view.chart.over.getBoundingClientRect(), mx = e.clientX - rect.left, my = e.clientY - rect.top;
      for (const p of view.points) {
        const d = Math.hypot(p.x - mx, p.y - my);
        if (d < 14 && (!near || d < near.d)) near = { ...p, d };
      }
    }
    if (view.hl && (!near || near.run !== view.hl)) highlight(view.hl, false);
    view.hl = near ? near.run : null;
    if (near) highlight(near.run, true);
    line.textContent = near ? `${near.name}: lr ${fmt(near.lr)}, loss ${fmt(near.loss)} at step ${near.step}, ${near.state}`
      + `${near.early ? ' (stopped early by the sweep)' : ''}` : '';
  }

  function setupStudies() {
    $('#range-panel .pick').addEventListener('change', e => pickStudy('range', e.target.value));
    $('#sweep-panel .pick').addEventListener('change', e => pickStudy('sweep', e.target.value));
    $('#range-panel .study-log').addEventListener('change', e => {
      studies.range.log = e.target.checked;
      if (studies.range.chart) { studies.range.chart.destroy(); studies.range.chart = null; }
      studies.dirty = true;
      schedule();
    });
    $('#sweep-panel .only').addEventListener('click', e => {
      const ids = new Set(studies.sweep.points.map(p => p.run));
      for (const r of runs.values()) if (r.summary.sweep === studies.sweep.id) ids.add(r.summary.id);
      const all = e.target.dataset.mode === 'all';
      for (const id of runs.keys()) if (all || ids.has(id)) hidden.delete(id); else hidden.add(id);
      for (const r of runs.values()) syncShown(r);
      $('#select-all').checked = hidden.size === 0;
      structureDirty = true;
      studies.dirty = true;
      schedule();
    });
  }

  function resizeStudies() {
    for (const [view, id] of [[studies.range, '#chart-range'], [studies.sweep, '#chart-sweep']]) {
      const el = $(id);
      if (view.chart && el.clientWidth) view.chart.setSize({ width: el.clientWidth, height: view.chart.height });
    }
  }

  // ---- start ----
  for (const box of document.querySelectorAll('.log-toggle')) {
    box.addEventListener('change', () => { log[box.dataset.chart] = box.checked; structureDirty = true; schedule(); });
  }
  $('#select-all').addEventListener('change', e => {
    for (const id of runs.keys()) if (e.target.checked) hidden.delete(id); else hidden.add(id);
    for (const r of runs.values()) syncShown(r);
    structureDirty = true;
    schedule();
  });
  window.addEventListener('resize', () => requestAnimationFrame(resize));
  setupForm();
  setupStudies();
  import('./js/binary.mjs').then(m => {
    decodeBinary = m.decodeBinary;
    connect();
  });
})();
