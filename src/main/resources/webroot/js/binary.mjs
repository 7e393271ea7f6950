// The WebSocket's binary format (docs/websocket.md, "Binary format"; the server's BinaryWire) read with a DataView:
// each message becomes the JSON message it stands for, its columns typed arrays, so the rest of the page reads
// both alike. No number is parsed from text: a 1,000-step message is 32–40 kB of columns, not 70 kB of JSON.

const STEP = 1, LOSS = 2, LR = 4, GRAD_NORM = 8, T = 16, SHARPNESS = 32, STABILITY = 64;
const OVERVIEW = 1, DOWNSAMPLED = 2;
const utf8 = new TextDecoder();

/** An ArrayBuffer from the server: {type:'steps', run, cycle, step, …} or {type:'frame', t, runs:[…]}. */
export function decodeBinary(buf) {
  const v = new DataView(buf);
  const version = v.getUint8(0), type = v.getUint8(1), flags = v.getUint16(2, true);
  if (version !== 1) throw new Error(`binary format version ${version}: this page reads 1 (reload it)`);
  const count = v.getUint32(4, true), t = Number(v.getBigInt64(8, true));
  const blocks = [];
  let pos = 16;
  for (let k = 0; k < count; k++) {
    const size = v.getUint32(pos, true), n = v.getUint32(pos + 4, true);
    const first = Number(v.getBigInt64(pos + 8, true)), cycle = v.getInt32(pos + 16, true);
    const columns = v.getUint16(pos + 20, true), metrics = v.getUint16(pos + 22, true);
    let p = pos + 24;
    const names = [];
    for (let i = 0; i <= metrics; i++) {
      const len = v.getUint16(p, true);
      names.push(utf8.decode(new Uint8Array(buf, p + 2, len)));
      p += 2 + len;
    }
    p = pos + 24 + ((p - pos - 24 + 7) & ~7);
    const doubles = () => {
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = v.getFloat64(p + 8 * i, true);
      p += 8 * n;
      return a;
    };
    const longs = () => {   // steps and epoch ms stay below 2^53: exact as numbers
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = Number(v.getBigInt64(p + 8 * i, true));
      p += 8 * n;
      return a;
    };
    const absent = () => new Float64Array(n).fill(NaN);
    const b = { run: names[0], cycle };
    b.step = columns & STEP ? longs() : Float64Array.from({ length: n }, (_, i) => first + i);
    b.loss = columns & LOSS ? doubles() : absent();
    b.lr = columns & LR ? doubles() : absent();
    b.grad_norm = columns & GRAD_NORM ? doubles() : absent();
    b.t = columns & T ? longs() : new Float64Array(n);
    if (metrics) {
      b.metrics = {};
      for (const name of names.slice(1)) b.metrics[name] = doubles();
    }
    // the curvature's columns, as the JSON stream has them: null where a step was not measured
    const sparse = () => Array.from(doubles(), x => (Number.isNaN(x) ? null : x));
    if (columns & SHARPNESS) b.sharpness = sparse();
    if (columns & STABILITY) b.stability = sparse();
    blocks.push(b);
    pos += size;
  }
  if (type === 2) return { type: 'frame', t, runs: blocks };
  const m = { type: 'steps', ...blocks[0] };
  if (flags & OVERVIEW) m.downsampled = Boolean(flags & DOWNSAMPLED);
  return m;
}
