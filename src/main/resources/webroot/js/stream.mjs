// The WebSocket: subscribe to every run, live; reconnect with backoff, reloading everything on reconnect. Each
// message goes to its handler by type. Steps come as binary columns (binary.mjs), everything else as JSON text.
import { $ } from './dom.mjs';
import { page, schedule, dirty } from './state.mjs';
import { feedback, showAlert } from './alerts.mjs';
import { onRun, onSteps, clearRuns } from './runs.mjs';
import { clockSample, resetLag } from './lag.mjs';
import { decodeBinary } from './binary.mjs';
import { streamToken, askToken } from './api.mjs';

const SUBSCRIBE = { op: 'subscribe', runs: ['*'], mode: 'live', max_hz: 20, format: 'binary' };
let ws = null, backoff = 500;

export function connect() {
  const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  socket.binaryType = 'arraybuffer';
  ws = socket;
  setConn('connecting', 'connecting…');
  socket.onopen = () => {
    backoff = 500;
    reset();
    // a browser's WebSocket sends no Authorization header: the token (if any) goes first, as a message
    const token = streamToken();
    if (token) socket.send(JSON.stringify({ op: 'auth', token }));
    socket.send(JSON.stringify(SUBSCRIBE));
    setConn('live', 'live');
  };
  socket.onmessage = ev => onMessage(decode(ev.data));
  socket.onclose = async ev => {
    if (ws !== socket) return;
    if (ev.code === 4401) {   // this server's reads need the token (or that one was wrong): ask, then again
      setConn('closed', 'needs the token');
      if (await askToken(Boolean(streamToken()), true)) connect();
      return;
    }
    setConn('closed', `disconnected, retrying in ${(backoff / 1000).toFixed(1)} s`);
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 10000);
  };
}

/** A message as the server sent it: JSON text, or binary steps (read into the message they stand for). */
const decode = data => (typeof data === 'string' ? JSON.parse(data) : decodeBinary(data));

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
page.receive = onMessage;

function reset() {
  clearRuns();
  resetLag();
  dirty.structure = true;
  schedule();
}

function setConn(state, text) {
  const el = $('#conn');
  el.dataset.state = state;
  el.textContent = text;
}
