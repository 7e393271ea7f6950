// The forms beside the charts: start a run, a range test of its spec, a sweep of its lr. Every option field is
// built from GET /api/schema (fields.mjs reads them); "run again" fills the form from an ended run.
import { $, $$ } from './dom.mjs';
import { fmt, advisedLr } from './format.mjs';
import { FieldError, placeholder, inputMode, parseField, parseNumber, fieldText, section } from './fields.mjs';
import { page } from './state.mjs';
import { call } from './api.mjs';
import { feedback } from './alerts.mjs';

// the form's sections whose options GET /api/schema describes by type: section -> the schema's key
const TYPED = { problem: 'problems', optimizer: 'optimizers', schedule: 'schedules' };
const DEFAULT_LR = { sgd: '0.01', adam: '0.01', adamw: '0.01', rmsprop: '0.01', adagrad: '0.1' };
const FOLLOW_UP_STEPS = 1000;   // a run started from a range test's suggestion: this long

let base = null;     // {from, spec, advised}: the run "run again" filled the form from
let schema = null;   // GET /api/schema, once loaded

/** A field's text the form cannot read: the error shown, the field marked. */
class InputError extends Error {
  constructor(input, message) { super(message); this.input = input; }
}

export function setupForms() {
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
  for (const el of $$('[aria-invalid]', form)) el.removeAttribute('aria-invalid');
  try {
    return read();
  } catch (ex) {
    if (!(ex instanceof InputError)) throw ex;
    err.textContent = ex.message;
    if (ex.input) { ex.input.setAttribute('aria-invalid', 'true'); ex.input.focus(); }
    return null;
  }
}

/** An optimizer's own default lr from the schema (a learning-rate-free one's multiplier, 1), as text; '' if none. */
function schemaLr(type) {
  const lr = schema && (schema.optimizers[type] || []).find(o => o.name === 'lr');
  return lr && typeof lr.default === 'number' ? String(lr.default) : '';
}

/** GET /api/schema once (again and again while the server is away); then the type lists and every option field. */
async function loadSchema(f) {
  let s = null;
  for (let wait = 500; !s; wait = Math.min(wait * 2, 8000)) {
    const res = await call('GET', '/api/schema');
    if (res.ok) s = res.json;
    else await new Promise(r => setTimeout(r, wait));
  }
  schema = page.schema = s;
  for (const [sec, key] of Object.entries(TYPED)) {
    const select = f[sec], chosen = select.value;
    select.replaceChildren(...Object.keys(s[key]).map(t => new Option(t, t, false, t === chosen)));
    showOptions(f, sec);
  }
  const range = $('#lr-range'), sweep = $('#sweep');
  buildFields($('.opts', range), 'lr_range', s.lr_range.filter(o => o.kind !== 'object'));
  const lr = s.sweep.find(o => o.name === 'lr'), early = s.sweep.find(o => o.name === 'early_stop');
  buildFields($('.opts[data-section=lr]', sweep), 'lr', lr.options);
  buildFields($('.opts[data-section=early_stop]', sweep), 'early_stop', early.options, 'early stop ');
  if (base) fillFrom(f, base.spec);
}

/** The options of a section's chosen type (an optimizer's lr has its own field), empty, defaults as placeholders. */
function showOptions(f, sec) {
  const box = $(`.opts[data-section=${sec}]`, f);
  const options = schema ? schema[TYPED[sec]][f[sec].value] || [] : [];
  buildFields(box, sec, options.filter(o => !(sec === 'optimizer' && o.name === 'lr') && o.kind !== 'object'));
  if (sec === 'optimizer') f.lr.placeholder = schema ? placeholder(options.find(o => o.name === 'lr')) : '';
}

/** One field per option, named section.option; a required one is marked. */
function buildFields(box, sec, options, prefix = '') {
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
      input.inputMode = inputMode(o.kind);
      input.placeholder = placeholder(o);
    }
    input.name = `${sec}.${o.name}`;
    input.dataset.kind = o.kind;
    if (o.must) input.title = o.must;
    if (o.required) label.classList.add('required');
    label.append(span, ' ', input);
    return label;
  }));
}

/** The values typed in a box's fields, read by kind: {name: value}; empty fields are left out. */
function readFields(box) {
  const out = {};
  for (const input of $$('input, select', box)) {
    const v = read(input, () => parseField(input.dataset.kind, input.value, input.name));
    if (v !== undefined) out[input.name.slice(input.name.indexOf('.') + 1)] = v;
  }
  return out;
}

/** read() of one field, its FieldError said on that field. */
function read(input, fn) {
  try {
    return fn();
  } catch (ex) {
    if (ex instanceof FieldError) throw new InputError(input, ex.message);
    throw ex;
  }
}

const numberIn = (input, label) => read(input, () => parseNumber(input.value, label));

/** Fills a box's fields from an object's values (those it has no field for are left to the base spec). */
function fillFields(box, values) {
  for (const input of $$('input, select', box)) {
    input.value = fieldText(values ? values[input.name.slice(input.name.indexOf('.') + 1)] : undefined);
  }
}

/** The field the server's error names, for marking. */
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

function sectionOf(f, sec, from) {
  const box = $(`.opts[data-section=${sec}]`, f);
  const shown = $$('input, select', box).map(i => i.name.slice(sec.length + 1));
  return section(from, f[sec].value, shown, readFields(box));
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
export function runAgain(r) {
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

/**
 * Fills the form as "run again" does from a range test's suggestion: its base spec (its spec without the lr ramp,
 * its stop and its length), the suggested lr, FOLLOW_UP_STEPS steps.
 */
export function startFrom(rangeRun, key, lr) {
  const spec = {};
  for (const [k, v] of Object.entries(rangeRun.spec || {})) {
    if (!['schedule', 'stop_on_divergence', 'steps', 'name', 'sweep'].includes(k)) spec[k] = v;
  }
  spec.steps = FOLLOW_UP_STEPS;
  // the server names an unnamed range test "lr range test": the run it leads to is named after what it trains
  const problem = typeof spec.problem === 'string' ? spec.problem : (spec.problem || {}).type;
  const stem = rangeRun.name === 'lr range test' ? [problem, (spec.optimizer || {}).type].filter(Boolean).join(' ') : rangeRun.name;
  runAgain({ summary: { name: `${stem || 'range test'} (${key})`, spec, diagnosis: { retry_lr: lr } } });
}
export { FOLLOW_UP_STEPS };

/** The problem, optimizer and schedule fields from a spec. */
function fillFrom(f, spec) {
  const problem = typeof spec.problem === 'string' ? { type: spec.problem } : spec.problem || {};
  const sched = spec.schedule || { type: 'constant' };
  for (const [sec, values] of [['problem', problem], ['optimizer', spec.optimizer || {}], ['schedule', sched]]) {
    f[sec].value = values.type;
    showOptions(f, sec);
    fillFields($(`.opts[data-section=${sec}]`, f), values);
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
