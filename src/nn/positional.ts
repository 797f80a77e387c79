// Fixed sinusoidal positional encoding (Vaswani et al. 2017, §3.5):
// PE[t, 2i] = sin(t / 10000^(2i/C)), PE[t, 2i+1] = cos(t / 10000^(2i/C)).

/** The (T, C) table, computed in float64 and rounded once to float32. */
export function sinusoidalTable(T: number, C: number): Float32Array {
  const pe = new Float32Array(T * C);
  for (let t = 0; t < T; t++) {
    for (let i = 0; 2 * i < C; i++) {
      const angle = t / Math.pow(10000, (2 * i) / C);
      pe[t * C + 2 * i] = Math.sin(angle);
      if (2 * i + 1 < C) pe[t * C + 2 * i + 1] = Math.cos(angle);
    }
  }
  return pe;
}
