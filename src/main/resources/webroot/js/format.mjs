// Numbers as the page shows them, and the few facts read off a run's summary. Pure: data in, text or data out.

/** A wire value as a number: null stays null (not known), "NaN"/"Infinity" strings become theirs. */
export const num = v => (v === null || v === undefined ? null : typeof v === 'number' ? v : Number(v));

/** Four significant digits; exponents below 1e-3 and from 1e5; NaN, ∞ and −∞ by name; null as –. */
export function fmt(v) {
  if (v === null || v === undefined) return '–';
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : (v > 0 ? '∞' : '−∞');
  const a = Math.abs(v), r = +v.toPrecision(4);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? r.toExponential().replace('e+', 'e') : String(r);
}

/** One of a guard's rewinds, as its marker's title says it. */
export const rewindText = (name, w) => `${name}: rewound at step ${w.at} (${String(w.why).replace(/_/g, ' ')}) to step ${w.to},`
  + ` lr ${fmt(num(w.lr_before))} → ${fmt(num(w.lr_after))}`;

/** The lr an ended run's diagnosis gives to start it again with (an ended run takes no advice), or null. */
export function advisedLr(s) {
  const d = s.diagnosis, v = d && (typeof d.retry_lr === 'number' ? d.retry_lr : d.suggested_lr);
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
}

export const LIVE = new Set(['created', 'running', 'paused']);   // any other state has ended

export const isRangeTest = s => Boolean(s.spec && s.spec.schedule && s.spec.schedule.type === 'lr_range');

/** A sweep's name: its runs' names without their " lr=…" (the server adds it to a named base). */
export function sweepName(names) {
  const stems = new Set(names.map(n => n.replace(/ lr=\S+$/, '')));
  return stems.size === 1 ? [...stems][0] : 'lr sweep';
}

/** "what if ×10", "what if ÷10". */
export const whatIf = factor => `what if ${factor >= 1 ? `×${factor}` : `÷${1 / factor}`}`;
