import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oklch, palette } from '../../main/resources/webroot/js/colors.mjs';

const lab = hex => {   // OKLab of #rrggbb, as PageIT computes it
  const lin = [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16) / 255).map(v => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  const l = Math.cbrt(0.4122214708 * lin[0] + 0.5363325363 * lin[1] + 0.0514459929 * lin[2]);
  const m = Math.cbrt(0.2119034982 * lin[0] + 0.6806995451 * lin[1] + 0.1073969566 * lin[2]);
  const s = Math.cbrt(0.0883024619 * lin[0] + 0.2817188376 * lin[1] + 0.6299787005 * lin[2]);
  return [0.2104542553 * l + 0.7936177850 * m - 0.0040720468 * s, 1.9779984951 * l - 2.4285922050 * m + 0.4505937099 * s,
    0.0259040371 * l + 0.7827717662 * m - 0.8086757660 * s];
};
const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

test('oklch gives a valid sRGB hex whose OKLab is what was asked (chroma lowered to fit)', () => {
  const c = oklch(0.58, 0.16, 255);
  assert.match(c.hex, /^#[0-9a-f]{6}$/);
  assert.ok(dist(lab(c.hex), c.lab) < 0.01);
});

test('50 run colours: all different, the nearest two at least 0.05 apart in OKLab; the first is a blue', () => {
  const p = palette(), hexes = Array.from({ length: 50 }, (_, i) => p.colorOf(i));
  assert.equal(new Set(hexes).size, 50);
  let min = Infinity;
  for (let i = 0; i < 14; i++) for (let j = 0; j < i; j++) min = Math.min(min, dist(lab(hexes[i]), lab(hexes[j])));
  assert.ok(min >= 0.08, `the first 14 are ${min} apart`);
  const [, a, b] = lab(hexes[0]);
  assert.ok(b < 0 && Math.abs(Math.atan2(b, a) * 180 / Math.PI + 90) < 45, 'blue');
});

test('a branch shade keeps its family hue at another lightness', () => {
  const p = palette(), base = lab(p.colorOf(3)), shade = lab(p.shadeOf(3, 1));
  const hue = c => Math.atan2(c[2], c[1]) * 180 / Math.PI;
  const dh = Math.abs(hue(base) - hue(shade));
  assert.ok(Math.min(dh, 360 - dh) < 12);
  assert.ok(Math.abs(base[0] - shade[0]) > 0.05);
});
