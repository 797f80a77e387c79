// How a model tells positions apart: 'learned', a trained (T, C) embedding table (GPT-2), or
// 'sinusoidal', the fixed encoding of Vaswani et al. 2017, §3.5:
// PE[t, 2i] = sin(t / 10000^(2i/C)), PE[t, 2i+1] = cos(t / 10000^(2i/C)).

export const POSITIONAL_KINDS = ['learned', 'sinusoidal'] as const;
export type PositionalKind = (typeof POSITIONAL_KINDS)[number];

/** Whether the positions are a trained embedding table (the model's wpe), not the fixed table below. */
export function learnedPositions(kind: PositionalKind): boolean {
  switch (kind) {
    case 'learned':
      return true;
    case 'sinusoidal':
      return false;
    default: {
      const never: never = kind;
      throw new Error(`unknown positional kind '${String(never)}'`);
    }
  }
}

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
