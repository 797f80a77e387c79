// The WebGPU conformance page, run in chromium on SwiftShader (webgpu-in-chromium.test.ts): every PyTorch
// op fixture (test/fixtures/ops and attention, the parity suite's cases through the same front-end
// calls) forward and backward on the WebGPU backend, with values read asynchronously; and a tiny GPT
// trained a few steps on WebGPU beside the reference backend from the same seed. Errors are measured
// here and judged by the test in Node.
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { createWebGpuBackend } from '../../src/backend/webgpu/index.ts';
import type { Backend } from '../../src/backend/backend.ts';
import { coreOnly } from '../../src/backend/views.ts';
import { decodeSafetensors } from '../../src/io/safetensors.ts';
import { GPT } from '../../src/models/gpt.ts';
import { backward, setDefaultBackend, tensor, type Tensor } from '../../src/tensor/index.ts';
import { parseTrainConfig, modelConfigOf } from '../../src/train/config.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { relError } from '../helpers/compare.ts';
import { decodeFixture, get, gptConfigOf, modelStateOf, tensorsOf, type Fixture } from '../helpers/fixture-data.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { optimizationStep } from '../../src/train/step.ts';
import { DATA_INPUTS, INT_INPUTS, runOp, type Inputs } from '../parity/op-cases.ts';
import { countCalls } from './fused-calls.ts';

export interface OpResult {
  name: string;
  forward: number;
  grads: Record<string, number>;
  error?: string;
}

/** One measured error of a whole-model fixture and the parity suite's bound for it. */
export interface ModelCheck {
  case: string;
  check: string;
  err: number;
  bound: number;
}

export interface WebGpuReport {
  adapter: string;
  /** With the backend's fused kernels, and with the core alone (every layer composed). */
  ops: OpResult[];
  coreOps: OpResult[];
  /** Products beside the reference backend's on awkward shapes, through both matmul kernels: max |Δ| / max |ref|. */
  matmul: { case: string; err: number }[];
  /** test/fixtures/gpt and designs: test/parity/gpt.test.ts's and designs.test.ts's checks. */
  models: ModelCheck[];
  /** The fused BatchNorm kernels' calls (forward + backward) per whole-model fixture that made any. */
  batchNormCalls: Record<string, number>;
  training: { webgpu: number[]; captured: number[]; ref: number[]; eagerReason: string | null; buffersCreated: number[]; liveBuffers: number[]; error?: string };
}

async function opCase(be: Backend, name: string, bytes: Uint8Array): Promise<OpResult> {
  const fx = decodeSafetensors(bytes, { source: name });
  const args = JSON.parse(fx.metadata.args) as Record<string, unknown>;
  const inputs: Inputs = {};
  for (const [n, t] of fx.tensors) {
    if (n === 'out' || n === 'dout' || n.startsWith('grad.')) continue;
    const isInt = INT_INPUTS.has(n);
    inputs[n] = tensor(t.data as ArrayLike<number>, t.shape, { backend: be, dtype: isInt ? 'int32' : 'float32', requiresGrad: !isInt && !DATA_INPUTS.has(n) });
  }
  // No step scope: the page is short-lived, and a scope must not span the reads' awaits.
  const out: Tensor = runOp(fx.metadata.op, inputs, args);
  const dout = fx.tensors.get('dout')!;
  backward(out, tensor(dout.data as ArrayLike<number>, dout.shape, { backend: be }));
  const grads = Object.fromEntries(Object.entries(inputs).filter(([, t]) => t.grad).map(([k, t]) => [k, t.grad!]));
  const result: OpResult = { name, forward: relError(await out.toArray(), fx.tensors.get('out')!.data as ArrayLike<number>), grads: {} };
  for (const [k, g] of Object.entries(grads)) {
    const want = fx.tensors.get(`grad.${k}`);
    if (want) result.grads[k] = relError(await g.toArray(), want.data as ArrayLike<number>);
  }
  return result;
}


/** A GPT or design fixture: logits, loss and every gradient of one pass, then its AdamW trajectory. */
async function modelCase(be: Backend, f: Fixture): Promise<ModelCheck[]> {
  const out: ModelCheck[] = [];
  const add = (check: string, err: number, bound: number) => out.push({ case: f.name, check, err, bound });
  const f32 = (name: string) => get(f, name).data as Float32Array;
  const i32 = (name: string) => get(f, name).data as Int32Array;
  const build = () => {
    const model = GPT.create(gptConfigOf(f), { backend: be });
    model.store!.loadStateDict(modelStateOf(f), f.name);
    return model;
  };
  const model = build();
  const idx = get(f, 'idx');
  const { logits, loss } = model.forward(tensor(i32('idx'), idx.shape, { backend: be, dtype: 'int32' }), tensor(i32('targets'), get(f, 'targets').shape, { backend: be, dtype: 'int32' }));
  add('logits', relError(await logits.toArray(), f32('logits')), 1e-5);
  add('loss', relError(await loss!.toArray(), f32('loss')), 1e-5);
  model.store!.zeroGrad();
  backward(loss!);
  for (const e of model.store!.entries) add(`grad.${e.name}`, relError(await e.param.value.grad!.toArray(), f32(`grad.${e.name}`)), 1e-4);
  if (!f.metadata.traj) return out;
  const traj = JSON.parse(f.metadata.traj) as { steps: number; lr: number; betas: [number, number]; eps: number; weight_decay: number; clip_grad_norm: number };
  const fresh = build();
  const opt = new AdamW(fresh.store!, { lr: traj.lr, beta1: traj.betas[0], beta2: traj.betas[1], eps: traj.eps, weightDecay: traj.weight_decay });
  const [steps, B, T] = get(f, 'traj.idx').shape;
  const n = B * T;
  for (let step = 0; step < steps; step++) {
    const r = await optimizationStep(fresh, opt, i32('traj.idx').subarray(step * n, (step + 1) * n), i32('traj.targets').subarray(step * n, (step + 1) * n), B, T, { gradClip: traj.clip_grad_norm });
    add(`loss at step ${step}`, relError([r.loss], [f32('traj.loss')[step]]), 1e-4);
    add(`grad norm at step ${step}`, relError([r.gradNorm], [f32('traj.grad_norm')[step]]), 1e-4);
  }
  const final = await fresh.store!.stateDict();
  for (const [name, t] of [...tensorsOf(f, 'traj.param.'), ...tensorsOf(f, 'traj.buffer.')]) add(`final ${name}`, relError(final.get(name)!.data, t.data), 1e-4);
  if (f.tensors.has('traj.eval_logits')) {
    fresh.eval();
    const { logits: l } = fresh.forward(tensor(i32('idx'), idx.shape, { backend: be, dtype: 'int32' }));
    add('eval-mode logits after the trajectory', relError(await l.toArray(), f32('traj.eval_logits')), 1e-4);
  }
  return out;
}

/** Six steps of a tiny GPT; with `capture`, the step is captured once and replayed (TrainStep). */

/** The backend's matmul beside the reference's on the same operands (shapes past one 64 × 64 block, primes, transposes, batches, accumulation). */
async function matmulCases(be: Backend): Promise<{ case: string; err: number }[]> {
  const ref = createRefBackend();
  const out: { case: string; err: number }[] = [];
  const shapes = [[1, 5, 3, 7], [1, 64, 64, 64], [1, 130, 67, 200], [3, 70, 129, 33], [2, 65, 100, 1], [1, 200, 64, 17]];
  let seed = 1;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
  for (const [batch, m, n, k] of shapes) {
    for (const [transA, transB, accumulate] of [[false, false, false], [true, false, false], [false, true, true], [true, true, false]]) {
      const a = Float32Array.from({ length: batch * m * k }, rand);
      const b = Float32Array.from({ length: batch * k * n }, rand);
      const c0 = Float32Array.from({ length: batch * m * n }, rand);
      const args = { batch, m, n, k, transA, transB, strideA: m * k, strideB: k * n, accumulate };
      const run = async (x: Backend) => {
        const [sa, sb, sc] = [x.alloc('float32', a.length), x.alloc('float32', b.length), x.alloc('float32', c0.length)];
        x.write(sa, a);
        x.write(sb, b);
        x.write(sc, c0);
        x.matmul(sa, sb, sc, args);
        return x.read(sc);
      };
      out.push({ case: `${batch}×${m}×${n}×${k}${transA ? ' Aᵀ' : ''}${transB ? ' Bᵀ' : ''}${accumulate ? ' +=' : ''}`, err: relError(await run(be), await run(ref)) });
    }
  }
  return out;
}

async function trainLosses(be: Backend, capture = false, watch?: (step: number) => void): Promise<{ losses: number[]; eagerReason: string | null }> {
  setDefaultBackend(be);
  const text = 'the quick brown fox jumps over the lazy dog; '.repeat(40);
  const chars = [...new Set(text)].sort();
  const ids = Int32Array.from([...text].map((c) => chars.indexOf(c)));
  const config = parseTrainConfig({ nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 16, batchSize: 4, maxIters: 6, evalInterval: 6, evalIters: 1, diagInterval: 0, lr: 3e-3, warmupIters: 0 });
  const model = GPT.create(modelConfigOf(config, chars.length), { backend: be, seed: 7 });
  const trainer = new Trainer(model, config, { train: ids.subarray(0, 1600), val: ids.subarray(1600) }, { capture });
  const losses: number[] = [];
  await trainer.run(config.maxIters, { onStep: (m) => { losses.push(m.trainLoss); watch?.(m.step); } });
  const eagerReason = trainer.stepper.eagerReason;
  trainer.dispose();
  return { losses, eagerReason };
}

async function run(files: string[], modelFiles: string[]): Promise<WebGpuReport> {
  const be = await createWebGpuBackend();
  const suite = async (b: Backend): Promise<OpResult[]> => {
    const out: OpResult[] = [];
    for (const f of files) {
      const bytes = new Uint8Array(await (await fetch(`fixtures/${f}`)).arrayBuffer());
      try {
        out.push(await opCase(b, f, bytes));
      } catch (e) {
        out.push({ name: f, forward: Infinity, grads: {}, error: String(e) });
      }
    }
    return out;
  };
  const ops = await suite(be);
  const coreOps = await suite(coreOnly(be));
  const matmul = await matmulCases(be);
  const models: ModelCheck[] = [];
  const bn = countCalls(be, ['batchNormForward', 'batchNormBackward']);
  const batchNormCalls: Record<string, number> = {};
  for (const f of modelFiles) {
    const fx = decodeFixture(new Uint8Array(await (await fetch(`fixtures/${f}`)).arrayBuffer()), f);
    const before = bn.batchNormForward + bn.batchNormBackward;
    try {
      models.push(...(await modelCase(be, fx)));
    } catch (e) {
      models.push({ case: f, check: String(e), err: Infinity, bound: 0 });
    }
    if (bn.batchNormForward + bn.batchNormBackward > before) batchNormCalls[fx.name] = bn.batchNormForward + bn.batchNormBackward - before;
  }
  let training: WebGpuReport['training'];
  try {
    const eager = await trainLosses(be);
    const buffersCreated: number[] = [];
    const liveBuffers: number[] = [];
    const captured = await trainLosses(be, true, () => {
      buffersCreated.push((be as unknown as { created: number }).created);
      liveBuffers.push(be.memoryStats().liveBuffers);
    });
    const ref = await trainLosses(createRefBackend());
    training = { webgpu: eager.losses, captured: captured.losses, eagerReason: captured.eagerReason, ref: ref.losses, buffersCreated, liveBuffers };
  } catch (e) {
    training = { webgpu: [], captured: [], ref: [], eagerReason: null, buffersCreated: [], liveBuffers: [], error: String(e) };
  }
  return { adapter: be.adapterName, ops, coreOps, matmul, models, batchNormCalls, training };
}

(globalThis as unknown as { runWebGpu: typeof run }).runWebGpu = run;
