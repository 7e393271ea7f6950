// The page's reader of the binary stream, on messages laid out here by hand as docs/websocket.md describes them.
// Run: node --test src/test/js/
import test from 'node:test';
import assert from 'node:assert/strict';
import { decodeBinary } from '../../main/resources/webroot/js/binary.mjs';

/** A message: header then blocks, each {run, cycle, first, columns, cols: [[kind, values]], metrics: [[name, values]]}. */
function message(type, flags, t, blocks) {
  const parts = [];
  const head = new DataView(new ArrayBuffer(16));
  head.setUint8(0, 1); head.setUint8(1, type); head.setUint16(2, flags, true);
  head.setUint32(4, blocks.length, true); head.setBigInt64(8, BigInt(t), true);
  parts.push(new Uint8Array(head.buffer));
  for (const b of blocks) {
    const names = [b.run, ...(b.metrics || []).map(m => m[0])].map(s => new TextEncoder().encode(s));
    let nameBytes = names.reduce((s, x) => s + 2 + x.length, 0);
    nameBytes = (nameBytes + 7) & ~7;
    const cols = [...b.cols, ...(b.metrics || []).map(m => ['d', m[1]])];
    const n = cols[0][1].length;
    const size = 24 + nameBytes + cols.length * 8 * n;
    const v = new DataView(new ArrayBuffer(size));
    v.setUint32(0, size, true); v.setUint32(4, n, true); v.setBigInt64(8, BigInt(b.first), true);
    v.setInt32(16, b.cycle, true); v.setUint16(20, b.columns, true); v.setUint16(22, (b.metrics || []).length, true);
    let p = 24;
    for (const x of names) { v.setUint16(p, x.length, true); new Uint8Array(v.buffer).set(x, p + 2); p += 2 + x.length; }
    p = 24 + nameBytes;
    for (const [kind, values] of cols) {
      for (const x of values) { if (kind === 'q') v.setBigInt64(p, BigInt(x), true); else v.setFloat64(p, x, true); p += 8; }
    }
    parts.push(new Uint8Array(v.buffer));
  }
  const out = new Uint8Array(parts.reduce((s, x) => s + x.length, 0));
  let at = 0;
  for (const x of parts) { out.set(x, at); at += x.length; }
  return out.buffer;
}

test('consecutive steps without a step column, non-finite values, an overview marked downsampled', () => {
  const m = decodeBinary(message(1, 3, 0, [{ run: 'r1', cycle: 2, first: 7, columns: 2 | 4 | 8 | 16,
    cols: [['d', [1, NaN, Infinity]], ['d', [0.1, 0.1, 0.1]], ['d', [2, -Infinity, 3]], ['q', [10, 11, 12]]] }]));
  assert.equal(m.type, 'steps');
  assert.equal(m.run, 'r1');
  assert.equal(m.cycle, 2);
  assert.deepEqual([...m.step], [7, 8, 9]);
  assert.deepEqual([...m.loss], [1, NaN, Infinity]);
  assert.deepEqual([...m.grad_norm], [2, -Infinity, 3]);
  assert.deepEqual([...m.t], [10, 11, 12]);
  assert.equal(m.downsampled, true);
  assert.equal(m.metrics, undefined);
});

test('a frame of two runs: gaps, metrics, a name in UTF-8, the server clock', () => {
  const m = decodeBinary(message(2, 0, 1765000000123, [
    { run: 'a', cycle: 0, first: 1, columns: 31, cols: [['q', [1, 5]], ['d', [1, 2]], ['d', [3, 4]], ['d', [5, 6]],
      ['q', [100, 101]]], metrics: [['val/acc', [0.5, NaN]]] },
    { run: 'é-run', cycle: 1, first: 3, columns: 30, cols: [['d', [9]], ['d', [8]], ['d', [7]], ['q', [102]]] }]));
  assert.equal(m.type, 'frame');
  assert.equal(m.t, 1765000000123);
  assert.deepEqual([...m.runs[0].step], [1, 5]);
  assert.deepEqual([...m.runs[0].metrics['val/acc']], [0.5, NaN]);
  assert.equal(m.runs[1].run, 'é-run');
  assert.deepEqual([...m.runs[1].step], [3]);
  assert.equal(m.runs[1].loss[0], 9);
});

test('another version of the format is refused in words', () => {
  const buf = message(1, 0, 0, []);
  new DataView(buf).setUint8(0, 2);
  assert.throws(() => decodeBinary(buf), /version 2/);
});
