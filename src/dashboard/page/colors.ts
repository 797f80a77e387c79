// Colours: one per run (Tableau 10, told apart by most colour-blind readers), shades of it for the
// layers of one run (light = shallow, dark = deep), and viridis for heatmaps and for "early → late".

export const RUN_COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f', '#bab0ac'];

export function runColor(index: number): string {
  return RUN_COLORS[((index % RUN_COLORS.length) + RUN_COLORS.length) % RUN_COLORS.length];
}

function rgbOf(hex: string): [number, number, number] {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

function hexOf(r: number, g: number, b: number): string {
  const c = (x: number) => Math.round(Math.min(255, Math.max(0, x))).toString(16).padStart(2, '0');
  return `#${c(r)}${c(g)}${c(b)}`;
}

/** The i-th of n shades of a colour: from 45% toward white (i = 0) to 45% toward black (i = n − 1). */
export function shade(hex: string, i: number, n: number): string {
  if (n <= 1) return hex;
  const f = (i / (n - 1)) * 0.9 - 0.45;
  const [r, g, b] = rgbOf(hex);
  const to = f < 0 ? 255 : 0;
  const a = Math.abs(f);
  return hexOf(r + (to - r) * a, g + (to - g) * a, b + (to - b) * a);
}

/** A colour with alpha, for the faint raw curve behind a smoothed one. */
export function faint(hex: string, alpha = 0.25): string {
  const [r, g, b] = rgbOf(hex);
  return `rgba(${r},${g},${b},${alpha})`;
}

/**
 * Viridis at t in [0, 1], as [r, g, b] in 0…255: a degree-6 polynomial fit of matplotlib's map (Matt
 * Zucker's fit, Shadertoy WlfXRN), a few levels of 255 from the table, so no 256-entry table ships.
 */
export function viridis(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t));
  const p = (c: readonly number[]) => c[0] + x * (c[1] + x * (c[2] + x * (c[3] + x * (c[4] + x * (c[5] + x * c[6])))));
  return [
    255 * p([0.2777273272234177, 0.1050930431085774, -0.3308618287255563, -4.634230498983486, 6.228269936347081, 4.776384997670288, -5.435455855934631]),
    255 * p([0.005407344544966578, 1.404613529898575, 0.214847559468213, -5.799100973351585, 14.17993336680509, -13.74514537774601, 4.645852612178535]),
    255 * p([0.3340998053353061, 1.384590162594685, 0.09509516302823659, -19.33244095627987, 56.69055260068105, -65.35303263337234, 26.3124352495832]),
  ].map((v) => Math.round(Math.min(255, Math.max(0, v)))) as [number, number, number];
}

export function viridisHex(t: number): string {
  const [r, g, b] = viridis(t);
  return hexOf(r, g, b);
}
