// The sizes the experiments share. Quick: tiny character-level models that train in seconds on one
// core (an experiment in 2–5 minutes on two); full: the honest size, hours on a laptop's CPU.

import type { Arm, Condition } from '../index-types.ts';

/** Quick mode: 4 layers of width 64, block 64, batch 16, 300 steps, evaluated every 50 on 8 batches. */
export const QUICK: Record<string, unknown> = {
  nLayer: 4,
  nHead: 4,
  nEmbd: 64,
  blockSize: 64,
  batchSize: 16,
  maxIters: 300,
  warmupIters: 30,
  lr: 1e-3,
  minLr: 1e-4,
  evalInterval: 50,
  evalIters: 8,
  logInterval: 10,
  diagInterval: 25,
  sampleLength: 0,
};

/** Full mode: 6 layers of width 192, block 128, batch 32, 3000 steps. */
export const FULL: Record<string, unknown> = {
  nLayer: 6,
  nHead: 6,
  nEmbd: 192,
  blockSize: 128,
  batchSize: 32,
  maxIters: 3000,
  warmupIters: 100,
  lr: 1e-3,
  minLr: 1e-4,
  evalInterval: 250,
  evalIters: 20,
  logInterval: 10,
  diagInterval: 50,
  sampleLength: 0,
};

export const ref = (arm: string, metric: string) => ({ arm, metric });

/** a's final validation loss below b's by more than 2 pooled sd (and `minDiff` nats). */
export function lower(a: string, b: string, minDiff = 0.02): Condition {
  return { kind: 'less', a: ref(a, 'finalValLoss'), b: ref(b, 'finalValLoss'), sd: 2, minDiff };
}

/** No run of the arm failed (one in two or more fails the condition). */
export function trains(arm: string): Condition {
  return { kind: 'below', ref: ref(arm, 'failed'), pass: 0, fail: 0.5 };
}

export function arm(id: string, label: string, config: Record<string, unknown>, measures?: Arm['measures']): Arm {
  return measures ? { id, label, config, measures } : { id, label, config };
}
