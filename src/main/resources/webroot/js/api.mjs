// REST with JSON in and out, and the server's token: asked for on the first 401, kept in this tab
// (sessionStorage), sent with every request after. A 4xx/5xx becomes {ok: false, message, field} from the
// server's {error, field}.
import { $ } from './dom.mjs';

const TOKEN_KEY = 'losswatch.token';
let token = sessionStorage.getItem(TOKEN_KEY);
let asked = null;

/** The token's header, when the page has one (also for reads: a server may want it to read). */
export const authHeaders = () => (token ? { Authorization: `Bearer ${token}` } : {});

/**
 * The token for the WebSocket (a browser sets no header on it), when the page has one: stream.mjs passes it as the
 * server's handshake asks. A server that reads without a token takes the handshake as it is.
 */
export const streamToken = () => token;

/**
 * One request. Every change is typed application/json, even without a body: the server refuses other types
 * (cross-site forms). A 401 asks for the server's token once, keeps it for this tab and sends the request again.
 */
export async function call(method, path, body) {
  for (;;) {
    let res, json = null;
    try {
      res = await fetch(path, { method, headers: { 'Content-Type': 'application/json', ...authHeaders() },
        body: body !== undefined ? JSON.stringify(body) : undefined });
      const text = await res.text();
      try { json = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
    } catch (e) {
      return { ok: false, status: 0, message: `request failed: ${e.message}` };
    }
    if (res.ok) return { ok: true, status: res.status, json };
    if (res.status === 401 && await askToken(Boolean(token), method === 'GET')) continue;
    const field = json && json.field ? json.field : '';
    let message = json && json.error ? json.error : `${res.status} ${res.statusText}`;
    if (field && !message.startsWith(field)) message = `${field}: ${message}`;
    return { ok: false, status: res.status, message, field };
  }
}

/** A GET answered as text (a CSV export, say), the token sent and asked for as call() does. */
export async function fetchText(path) {
  for (;;) {
    let res;
    try {
      res = await fetch(path, { headers: authHeaders() });
    } catch (e) {
      return { ok: false, message: `request failed: ${e.message}` };
    }
    if (res.ok) return { ok: true, text: await res.text(), type: res.headers.get('Content-Type') || '' };
    if (res.status === 401 && await askToken(Boolean(token), true)) continue;
    return { ok: false, message: `${res.status} ${res.statusText}` };
  }
}

/**
 * Resolves true once the user gave a token (to try), false if they cancelled; one question at a time. `refused`:
 * the token sent was wrong; `read`: the server wants it to read, not only to change runs.
 */
export function askToken(refused, read) {
  if (asked) return asked;
  const bar = $('#token-bar');
  $('.why', bar).textContent = refused
    ? 'The server refused that token: enter the one it was started with (--token).'
    : `This server needs its token (--token) to ${read ? 'show' : 'change'} runs.`;
  bar.hidden = false;
  bar.token.value = '';
  bar.token.focus();
  asked = new Promise(resolve => {
    const done = given => {
      bar.hidden = true;
      bar.onsubmit = null;
      $('.cancel', bar).onclick = null;
      asked = null;
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
  return asked;
}
