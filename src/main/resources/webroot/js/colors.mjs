// Run colours: each one picked to stay apart (in OKLab, where distance follows what eyes tell apart) from all
// picked before it; a branch gets a lighter or darker shade of its family's hue. Pure.

/** The colour of OKLCH (L, C, h°), its chroma lowered until it fits sRGB: {hex, lab} (lab: OKLab). */
export function oklch(L, C, h) {
  const hr = h * Math.PI / 180;
  for (let c = C; ; c = Math.max(0, c - 0.005)) {
    const a = c * Math.cos(hr), b = c * Math.sin(hr);
    const l = (L + 0.3963377774 * a + 0.2158037573 * b) ** 3;
    const m = (L - 0.1055613458 * a - 0.0638541728 * b) ** 3;
    const s = (L - 0.0894841775 * a - 1.2914855480 * b) ** 3;
    const rgb = [4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
      -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
      -0.0041960863 * l - 0.7034186147 * m + 1.7076147010 * s];
    if (c === 0 || rgb.every(v => v >= -1e-4 && v <= 1 + 1e-4)) {
      const hex = rgb.map(v => {
        v = Math.min(1, Math.max(0, v));
        return Math.round(255 * (v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055)).toString(16).padStart(2, '0');
      }).join('');
      return { hex: `#${hex}`, lab: [L, a, b] };
    }
  }
}

const SHADES = [0.14, -0.12, 0.24, -0.22];

/**
 * A palette: colorOf(i) is the i-th run colour — from hues every 5° at three lightnesses, the candidate farthest
 * from every colour picked before, so colour 14 is as far from colour 2 as the hues allow (a fixed palette
 * repeats); shadeOf(i, variant) is a branch's: colour i's hue, another lightness.
 */
export function palette() {
  const picked = [];
  let candidates = null;
  const dist = (p, q) => Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
  function pick(i) {
    if (!candidates) {
      candidates = [];
      for (const L of [0.58, 0.45, 0.7]) for (let h = 255; h < 615; h += 5) candidates.push(oklch(L, 0.16, h % 360));
      picked.push(candidates.shift());   // a blue first
    }
    while (picked.length <= i && candidates.length) {
      let best = 0, bestD = -1;
      candidates.forEach((c, k) => {
        const d = Math.min(...picked.map(p => dist(p.lab, c.lab)));
        if (d > bestD) { bestD = d; best = k; }
      });
      picked.push(candidates.splice(best, 1)[0]);
    }
    return picked[i % picked.length];
  }
  return {
    colorOf: i => pick(i).hex,
    shadeOf(i, variant) {
      const [L, a, b] = pick(i).lab, dL = SHADES[(variant - 1) % SHADES.length];
      return oklch(Math.min(0.9, Math.max(0.3, L + dL)), Math.hypot(a, b), Math.atan2(b, a) * 180 / Math.PI).hex;
    },
  };
}
