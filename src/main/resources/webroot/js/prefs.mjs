// What the page remembers between visits (localStorage, this browser): columns, sort, grouping, the x axis, the
// metric charts, log scales, the comparison's axes. A value that cannot be read is the default again.
const PREFIX = 'losswatch.';

export function load(key, fallback) {
  try {
    const text = localStorage.getItem(PREFIX + key);
    return text === null ? fallback : JSON.parse(text);
  } catch (e) {
    return fallback;
  }
}

export function save(key, value) {
  try {
    if (value === undefined || value === null) localStorage.removeItem(PREFIX + key);
    else localStorage.setItem(PREFIX + key, JSON.stringify(value));
  } catch (e) { /* storage full or refused: remembered for this visit only */ }
}
