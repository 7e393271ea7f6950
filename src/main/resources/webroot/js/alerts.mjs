// Two message areas in the header: what your own actions did (feedback), and the server's alerts, which never
// overwrite it. Each clears itself after a while; the whole text is its tooltip.
import { $ } from './dom.mjs';

const FEEDBACK_MS = 8000, ERROR_MS = 15000, ALERT_MS = 30000;
const timers = {};

function say(id, text, ms, cls) {
  const el = $(`#${id}`);
  el.textContent = text;
  el.title = text;
  el.className = `${id} ${cls}`.trim();
  clearTimeout(timers[id]);
  timers[id] = setTimeout(() => { el.textContent = ''; el.title = ''; }, ms);
}

export const feedback = (text, error = false) => say('feedback', text, error ? ERROR_MS : FEEDBACK_MS, error ? 'error' : '');
// the server's message starts with the run's name already
export const showAlert = m => say('alert', m.message || `${m.name}: ${m.kind}`, ALERT_MS, `kind-${m.kind}`);
