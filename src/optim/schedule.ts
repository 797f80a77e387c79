// nanoGPT's learning-rate schedule: linear warmup, cosine decay to min_lr, then constant.

export interface LrSchedule {
  maxLr: number;
  minLr: number;
  warmupIters: number;
  decayIters: number;
}

export function learningRate(it: number, s: LrSchedule): number {
  if (it < s.warmupIters) return (s.maxLr * (it + 1)) / (s.warmupIters + 1);
  if (it > s.decayIters) return s.minLr;
  const ratio = (it - s.warmupIters) / Math.max(1, s.decayIters - s.warmupIters);
  return s.minLr + 0.5 * (1 + Math.cos(Math.PI * ratio)) * (s.maxLr - s.minLr);
}
