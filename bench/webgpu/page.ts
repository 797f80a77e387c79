// The WebGPU speed page (bench/webgpu.ts serves it and reads the result): sgemm GFLOP/s at square sizes,
// and training tokens/s of GPT configs through TrainStep (captured, as `resnorm train` runs), on the
// page's WebGPU adapter. Every timing ends with a read, so it covers the GPU's work, not just its queueing.
import { createWebGpuBackend } from '../../src/backend/webgpu/index.ts';
import { GPT, DEFAULT_GPT_CONFIG, type GPTConfig } from '../../src/models/gpt.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { Rng, setDefaultBackend } from '../../src/tensor/index.ts';
import { TrainStep } from '../../src/train/step.ts';

export interface SpeedCase {
  name: string;
  config: Partial<GPTConfig> & { vocabSize: number };
  batch: number;
  steps: number;
}

export interface SpeedReport {
  adapter: string;
  sgemm: { n: number; ms: number; gflops: number }[];
  train: { name: string; msPerStep: number; tokensPerSec: number; eagerReason: string | null; loss: number }[];
}

async function run(sizes: number[], cases: SpeedCase[]): Promise<SpeedReport> {
  const be = await createWebGpuBackend({ powerPreference: 'high-performance' });
  setDefaultBackend(be);
  const rng = new Rng(1);
  const sgemm: SpeedReport['sgemm'] = [];
  for (const n of sizes) {
    const [a, b, c] = [be.alloc('float32', n * n), be.alloc('float32', n * n), be.alloc('float32', n * n)];
    be.write(a, Float32Array.from({ length: n * n }, () => rng.uniform() - 0.5));
    be.write(b, Float32Array.from({ length: n * n }, () => rng.uniform() - 0.5));
    const args = { batch: 1, m: n, n, k: n, transA: false, transB: false, strideA: 0, strideB: 0, accumulate: false };
    const one = be.view(c, 0, 1);
    be.matmul(a, b, c, args);
    await be.read(one); // compile and warm up
    const reps = Math.max(3, Math.min(50, Math.round(2e11 / (2 * n ** 3))));
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) be.matmul(a, b, c, args);
    await be.read(one);
    const ms = (performance.now() - t0) / reps;
    sgemm.push({ n, ms, gflops: (2 * n ** 3) / (ms * 1e6) });
    for (const s of [a, b, c]) be.free(s);
  }
  const train: SpeedReport['train'] = [];
  for (const c of cases) {
    const config = { ...DEFAULT_GPT_CONFIG, ...c.config } as GPTConfig;
    const model = GPT.create(config, { backend: be, seed: 0 });
    const opt = new AdamW(model.store!);
    const T = config.blockSize;
    const ids = Int32Array.from({ length: c.batch * T }, () => rng.int(config.vocabSize));
    const stepper = new TrainStep(model, opt);
    let loss = 0;
    for (let i = 0; i < 2; i++) loss = (await stepper.run(ids, ids, c.batch, T, { gradClip: 1 })).loss; // capture, then a replay
    const t0 = performance.now();
    for (let i = 0; i < c.steps; i++) loss = (await stepper.run(ids, ids, c.batch, T, { gradClip: 1 })).loss;
    const ms = (performance.now() - t0) / c.steps;
    train.push({ name: c.name, msPerStep: ms, tokensPerSec: (c.batch * T * 1000) / ms, eagerReason: stepper.eagerReason, loss });
    stepper.release();
    model.store!.release();
    for (const s of [opt.m, opt.v]) be.free(s);
  }
  return { adapter: be.adapterName, sgemm, train };
}

(globalThis as unknown as { runSpeed: typeof run }).runSpeed = run;
