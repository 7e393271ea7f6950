// What the page holds: the runs (by id), which are hidden, what needs drawing. Modules change it and call
// schedule(); one requestAnimationFrame (main.mjs's render) draws whatever is dirty.

/** id -> {summary, index, variant, color, series, marks, last, row, entry, history, rowDirty} */
export const runs = new Map();
/** Ids the user unchecked (kept across reconnects): the one truth of what is drawn. */
export const hidden = new Set();
/**
 * What the next frame must redo: the charts' structure (which runs, which scales), their data, the studies, the
 * table's order (sort, filter, groups), the metric charts offered.
 */
export const dirty = { structure: true, charts: false, studies: false, view: true, viewNow: true, metrics: false, scatter: false };

/**
 * What tests (and the curious) can read: series[id] = {step, loss, lr, grad_norm, stability, t}, runs[id] = summary, the lag,
 * points drawn per chart, the charts, the drawn run ids; receive(m) handles m as if the WebSocket had delivered it.
 */
export const page = window.losswatch = { series: {}, runs: {}, lag: null, clockOffset: null, points: {}, drawMs: 0,
  charts: {}, drawn: [], studies: { range: null, sweep: null }, schema: null, receive: () => {} };

let frame = 0, renderer = () => {};
/** main.mjs's render: what schedule() runs in the next animation frame. */
export function setRenderer(fn) { renderer = fn; }
export function schedule() {
  if (!frame) frame = requestAnimationFrame(now => { frame = 0; renderer(now); });
}

/** The view the table computed: the runs the filter lets through, in the table's order, and its groups. */
export const view = { order: [], passing: new Set(), groups: null, drawGroups: false };

/** The runs drawn: checked (not hidden) and let through by the filter, in the table's order. */
export const drawnRuns = () => view.order.map(id => runs.get(id)).filter(r => r && !hidden.has(r.summary.id));
