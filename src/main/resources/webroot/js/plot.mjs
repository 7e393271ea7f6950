// What every uPlot chart on the page shares: scales that stop where uPlot can still label them, log axes with
// readable decades, and the lr-axis chart the studies draw on. uPlot is the WebJar's global (uPlot.iife.min.js).
import { fmt } from './format.mjs';
import { cap, logSplits } from './axes.mjs';

const uPlot = globalThis.uPlot;

export const pxRatio = () => uPlot.pxRatio || 1;

/** uPlot's own range, its bounds kept within ±SCALE_CAP (and above LOG_FLOOR on a log scale). */
export function cappedRange(isLog) {
  return (u, min, max) => {
    if (!Number.isFinite(min) || !Number.isFinite(max)) return [min, max];
    const r = isLog ? uPlot.rangeLog(cap(min, true), cap(max, true), 10, true) : uPlot.rangeNum(cap(min, false), cap(max, false), 0.1, true);
    return [cap(r[0], isLog), cap(r[1], isLog)];
  };
}

/** A log axis' ticks: axes.mjs's decades, kept as they are (uPlot's filter would drop some). */
export const logTicks = { splits: (u, axisIdx, min, max) => logSplits(min, max), filter: (u, splits) => splits };

export const fmtValues = (u, vals) => vals.map(fmt);

/** A y scale, log (base 10) or linear, capped. */
export const yScale = isLog => ({ ...(isLog ? { distr: 3, log: 10 } : {}), range: cappedRange(isLog) });

/** A study's chart against lr on a log axis (the range test's, the sweep's): their common options. */
export function lrChart(el, y, yAxis, series, hooks, data) {
  return new uPlot({
    width: el.clientWidth || 400,
    height: 220,
    legend: { show: false },
    cursor: { points: { show: false }, drag: { x: false, y: false } },
    scales: { x: { time: false, distr: 3, log: 10, range: cappedRange(true) }, y },
    axes: [{ label: 'lr', labelSize: 18, size: 36, values: fmtValues, ...logTicks },
      { values: fmtValues, ...yAxis }],
    series,
    hooks,
  }, data, el);
}

export { uPlot };
