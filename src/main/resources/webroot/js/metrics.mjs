// Each drawn run's metrics read over REST (GET /api/runs/{id}/metrics): the stream's live buckets and its history
// keep the points of least and greatest loss, so a metric logged every 50 steps (a validation accuracy) would lose
// most of its points there. Read once whole (each metric thinned on its own), then the new steps now and then
// while the run goes on.
import { runs, view, hidden } from './state.mjs';
import { call } from './api.mjs';
import { mergeMetrics } from './runs.mjs';
import { LIVE } from './format.mjs';

const MAX_POINTS = 2000;   // per metric, as the server thins them
const AGAIN_MS = 2000;     // a going run's new points: read at most this often
const AT_ONCE = 4;         // requests in flight at most
const read = new Map();    // run id -> {through: last step read, at: when, busy}
let inFlight = 0, supported = true;

/** Reads what the drawn runs with metrics still need; called after each chart update. */
export function backfill() {
  if (!supported) return;
  const now = performance.now();
  for (const id of view.order) {
    if (inFlight >= AT_ONCE) return;
    const r = runs.get(id);
    if (!r || hidden.has(id)) continue;
    const has = r.metrics.size > 0 || Object.keys(r.summary.metrics || {}).length > 0;
    if (!has) continue;
    const st = read.get(id) || { through: 0, at: -Infinity, busy: false, cycle: r.summary.cycle };
    if (st.cycle !== r.summary.cycle) Object.assign(st, { through: 0, at: -Infinity, cycle: r.summary.cycle });
    read.set(id, st);
    const due = st.through === 0 || (LIVE.has(r.summary.state) && now - st.at >= AGAIN_MS && r.last.step > st.through)
      || (!LIVE.has(r.summary.state) && st.through < r.last.step && now - st.at >= AGAIN_MS);
    if (st.busy || !due) continue;
    fetchRun(r, st);
  }
}

async function fetchRun(r, st) {
  st.busy = true;
  inFlight++;
  const id = r.summary.id, from = st.through + 1;
  try {
    const res = await call('GET', `/api/runs/${encodeURIComponent(id)}/metrics?from=${from}&max_points=${MAX_POINTS}`);
    st.at = performance.now();
    if (!res.ok) {
      if ((res.status === 404 || res.status === 405) && runs.has(id)) supported = false;   // an older server: the stream alone
      return;
    }
    const now = runs.get(id);
    if (!now || now.summary.cycle !== st.cycle) return;   // deleted, or rewound meanwhile: read again
    st.through = Math.max(st.through, res.json.last_step || 0);
    mergeMetrics(now, res.json.metrics || {});
  } finally {
    st.busy = false;
    inFlight--;
  }
}
