// `--backend auto` between wasm and WebGPU, decided by measurement: where a WebGPU adapter exists, a
// few captured training steps of the model at hand (after warm-up, on a synthetic batch) are timed on
// both backends, and WebGPU is taken only if its median step is below AUTO_WEBGPU_FRACTION of wasm's.
// A GPU that is present is not always faster: small models are launch-bound, and an emulated adapter
// (SwiftShader) is far slower than SIMD wasm. The rule (decideAuto) is pure; the timing
// (timeTrainingSteps) imports nothing Node-only, so the same measured path runs in a browser.

import type { Backend } from '../backend/backend.ts';
import { GPT, type GPTConfig } from '../models/gpt.ts';
import { AdamW } from '../optim/adamw.ts';
import { TrainStep } from '../train/step.ts';

/** WebGPU is taken only when its median step is below this fraction of wasm's: a margin against timing noise. */
export const AUTO_WEBGPU_FRACTION = 0.9;
/** Steps run before timing (the first runs eagerly while it is captured, the second is the first replay), then the steps timed. */
export const AUTO_WARMUP_STEPS = 2;
export const AUTO_TIMED_STEPS = 5;

/** The model at hand, as auto measures it: its config, and the batch it trains on (T = blockSize). */
export interface AutoProbe {
  model: GPTConfig;
  batchSize: number;
}

export interface AutoDecision {
  backend: 'wasm' | 'webgpu';
  /** Median step times (ms); webgpuMs is null where there is no WebGPU adapter. */
  wasmMs: number;
  webgpuMs: number | null;
  fraction: number;
  /** The decision in words, with both figures. */
  reason: string;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The rule: WebGPU iff its median step is below `fraction` × wasm's (both measured, finite); wasm
 * otherwise, and where WebGPU has no timings (no adapter: `webgpuMs` null, `whyNot` says why).
 */
export function decideAuto(wasmMs: readonly number[], webgpuMs: readonly number[] | null, fraction = AUTO_WEBGPU_FRACTION, whyNot = 'no WebGPU adapter'): AutoDecision {
  const w = median(wasmMs);
  if (webgpuMs === null) return { backend: 'wasm', wasmMs: w, webgpuMs: null, fraction, reason: `auto: wasm (${whyNot}; nothing measured)` };
  const g = median(webgpuMs);
  const faster = Number.isFinite(g) && Number.isFinite(w) && g < fraction * w;
  const ratio = Number.isFinite(g) && w > 0 ? `${(g / w).toFixed(2)}×` : 'not comparable with';
  return {
    backend: faster ? 'webgpu' : 'wasm',
    wasmMs: w,
    webgpuMs: g,
    fraction,
    reason: `auto: ${faster ? 'webgpu' : 'wasm'} (median training step of this model: webgpu ${g.toFixed(1)} ms, wasm ${w.toFixed(1)} ms, ` +
      `${ratio} wasm's; WebGPU is taken below ${fraction}×)`,
  };
}

/**
 * Wall-clock milliseconds of `steps` captured training steps of `probe`'s model on `backend`, after
 * `warmup` untimed ones, on a fixed synthetic batch (its contents do not change the work); each step
 * ends with its loss read, so a GPU's work is finished when its time is taken. Frees what it made.
 */
export async function timeTrainingSteps(backend: Backend, probe: AutoProbe, warmup = AUTO_WARMUP_STEPS, steps = AUTO_TIMED_STEPS): Promise<number[]> {
  const { model: config, batchSize: B } = probe;
  const T = config.blockSize;
  const model = GPT.create(config, { backend, seed: 1 });
  const opt = new AdamW(model.store!);
  const stepper = new TrainStep(model, opt);
  let s = 12345;
  const ids = () => Int32Array.from({ length: B * T }, () => (s = (s * 16807) % 2147483647) % config.vocabSize);
  const [x, y] = [ids(), ids()];
  const times: number[] = [];
  try {
    for (let i = 0; i < warmup + steps; i++) {
      const t0 = performance.now();
      await stepper.run(x, y, B, T, { gradClip: 1 });
      if (i >= warmup) times.push(performance.now() - t0);
    }
  } finally {
    stepper.release();
    model.store!.release();
    for (const m of [opt.m, opt.v]) backend.free(m);
  }
  return times;
}

/**
 * Measures `probe` on wasm and, when `webgpu` could be made, on it too, and decides. `webgpu` is the
 * backend or why there is none; the loser is left to its owner to dispose.
 */
export async function measureAuto(wasm: Backend, webgpu: Backend | string, probe: AutoProbe): Promise<AutoDecision> {
  if (typeof webgpu === 'string') return decideAuto([], null, AUTO_WEBGPU_FRACTION, webgpu);
  const wasmMs = await timeTrainingSteps(wasm, probe);
  const webgpuMs = await timeTrainingSteps(webgpu, probe);
  return decideAuto(wasmMs, webgpuMs);
}
