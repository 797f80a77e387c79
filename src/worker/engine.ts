// The engine behind the worker protocol: a wasm backend, and on request a small character-level GPT trained
// on a given text, or a run directory loaded from files; it samples from whichever came last, and writes a
// trained model out as a run directory. No worker API here (engine-worker.ts wires it to messages), so it
// also runs, and is tested, in Node.
import type { Backend } from '../backend/backend.ts';
import { createWasmBackend } from '../backend/wasm/index.ts';
import { createWebGpuBackend } from '../backend/webgpu/index.ts';
import { CharTokenizer } from '../data/char-tokenizer.ts';
import { splitTrainVal } from '../data/corpus.ts';
import { promptFor, type Tokenizer } from '../data/tokenizer.ts';
import { generate } from '../models/generate.ts';
import { GPT } from '../models/gpt.ts';
import { setDefaultBackend } from '../tensor/index.ts';
import { modelConfigOf, parseTrainConfig } from '../train/config.ts';
import { Trainer, type EvalMetrics } from '../train/trainer.ts';
import { DATA_FILE, loadRun, runName, saveRun, type RunLogs } from './engine-runs.ts';
import { yieldTask } from './yield-task.ts';
import { ownBuffers, type EngineEvent, type EngineInfo, type EngineRequest, type EvalSampleSettings, type RunFile, type SampleSettings, type TrainResult, type TrainSettings } from './protocol.ts';

/** A model trained here: what 'save' writes. */
interface Trained {
  trainer: Trainer;
  name: string;
  text: string;
  logs: RunLogs;
  lastEval: EvalMetrics | null;
}

/** The model 'sample' continues with: the last trained or loaded. */
interface Current {
  model: GPT;
  tokenizer: Tokenizer;
  trained: Trained | null;
}

/** An event, and the buffers its posting may move to the page rather than copy. */
export type Emit = (e: EngineEvent, transfer?: ArrayBuffer[]) => void;

export class Engine {
  private backend: (Backend & { dispose(): Promise<void> }) | null = null;
  private info: EngineInfo | null = null;
  private current: Current | null = null;
  private stopRequested = false;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly emit: Emit) {}

  /** 'stop' acts at once; other requests run one after another, in the order they came. */
  receive(req: EngineRequest): Promise<void> {
    if (req.type === 'stop') {
      this.stopRequested = true;
      return Promise.resolve();
    }
    this.queue = this.queue.then(() => this.handle(req)).catch((e: unknown) => this.emit({ type: 'error', id: req.id, message: e instanceof Error ? e.message : String(e) }));
    return this.queue;
  }

  private async handle(req: Exclude<EngineRequest, { type: 'stop' }>): Promise<void> {
    switch (req.type) {
      case 'init': {
        if (this.backend) throw new Error('The engine already has a backend; make a new worker for another one.');
        const { kind = 'wasm', ...wasm } = req.backend;
        let fallback: string | null = null;
        if (kind === 'webgpu') {
          try {
            const gpu = await createWebGpuBackend();
            this.use(gpu, { backend: 'webgpu', flavour: null, threads: 1, adapter: gpu.adapterName, fallback: null });
            this.emit({ type: 'ready', id: req.id, info: this.info! });
            return;
          } catch (e) {
            fallback = `WebGPU is not available here (${e instanceof Error ? e.message : String(e)}); running on WebAssembly SIMD`;
          }
        }
        const be = await createWasmBackend(wasm);
        this.use(be, { backend: 'wasm', flavour: be.flavour, threads: be.threads, adapter: null, fallback });
        this.emit({ type: 'ready', id: req.id, info: this.info! });
        return;
      }
      case 'train':
        this.emit({ type: 'trained', id: req.id, result: await this.train(req.id, req.text, req.config, req.evalSample) });
        return;
      case 'sample':
        this.emit({ type: 'sampled', id: req.id, text: await this.sample(req.id, req.prompt, req.options) });
        return;
      case 'load': {
        const { model, tokenizer, run } = await loadRun(req.files, this.needBackend());
        this.release();
        this.current = { model, tokenizer, trained: null };
        this.emit({ type: 'loaded', id: req.id, run });
        return;
      }
      case 'save': {
        const saved = await this.save();
        this.emit({ type: 'saved', id: req.id, ...saved }, ownBuffers(saved.files));
        return;
      }
      default: {
        const never: never = req;
        throw new Error(`unknown engine request ${JSON.stringify(never)}`);
      }
    }
  }

  private use(be: Backend & { dispose(): Promise<void> }, info: EngineInfo): void {
    this.backend = be;
    setDefaultBackend(be);
    this.info = info;
  }

  private needBackend(): Backend & { dispose(): Promise<void> } {
    if (!this.backend) throw new Error("The engine has no backend yet: send 'init' first (EngineClient does).");
    return this.backend;
  }

  private async train(id: number, text: string, settings: TrainSettings, evalSample: EvalSampleSettings | undefined): Promise<TrainResult> {
    const backend = this.needBackend();
    const name = runName(new Date());
    // The saved run names its text as the CLI would find it from the folder the run is unpacked in.
    const config = { ...parseTrainConfig(settings, 'train settings'), data: `${name}/${DATA_FILE}` };
    const tokenizer = CharTokenizer.fromText(text);
    const ids = Int32Array.from(tokenizer.encode(text));
    const data = splitTrainVal(ids, config.valFraction);
    this.release();
    const model = GPT.create(modelConfigOf(config, tokenizer.vocabSize), { backend, seed: config.seed });
    const trainer = new Trainer(model, config, data);
    const trained: Trained = { trainer, name, text, logs: { metrics: [], samples: [] }, lastEval: null };
    this.current = { model, tokenizer, trained };
    this.stopRequested = false;
    const losses: number[] = [];
    let valLoss: number | null = null;
    const t0 = performance.now();
    const wall = () => (performance.now() - t0) / 1000;
    await trainer.run(config.maxIters, {
      onStep: async (m) => {
        losses.push(m.trainLoss);
        this.emit({ type: 'step', id, step: m.step, loss: m.trainLoss, lr: m.lr, ms: m.ms });
        if (m.step % config.logInterval === 0) {
          const tokensPerSec = (m.step * config.batchSize * config.blockSize) / wall();
          trained.logs.metrics.push({ step: m.step, trainLoss: m.trainLoss, lr: m.lr, gradNorm: m.gradNorm, tokensPerSec, wallTime: wall() });
        }
        await yieldTask(); // lets a 'stop' message in
      },
      onEval: async (e) => {
        valLoss = e.valLoss;
        trained.lastEval = e;
        trained.logs.metrics.push({ step: e.step, trainLoss: e.trainLoss, valLoss: e.valLoss, wallTime: wall() });
        this.emit({ type: 'eval', id, ...e });
        if (!evalSample) return;
        const prompt = evalSample.prompt ?? '';
        const text = await this.sample(id, prompt, evalSample.options);
        const shown = prompt || tokenizer.decode(promptFor(tokenizer, ''));
        trained.logs.samples.push({ step: e.step, wallTime: wall(), prompt: shown, text });
        this.emit({ type: 'generated', id, step: e.step, prompt: shown, text });
      },
      shouldStop: () => this.stopRequested,
    });
    const params = (await backend.read(model.store!.data)) as Float32Array;
    return { steps: trainer.step, losses, valLoss, checksum: fnv1a(params), vocabSize: tokenizer.vocabSize, ms: performance.now() - t0 };
  }

  /** Streams one 'token' event per new token (under the request's id) and returns the text of them all. */
  private async sample(id: number, prompt: string, options: SampleSettings): Promise<string> {
    if (!this.current) throw new Error("Nothing to sample from: send 'train' first, or 'load' a run.");
    const { model, tokenizer } = this.current;
    // '' starts where `resnorm sample` starts without --prompt: a newline, or a space.
    const context = prompt.length > 0 ? tokenizer.encode(prompt) : promptFor(tokenizer, '');
    const ids: number[] = [];
    let sent = 0;
    const out = await generate(model, context, {
      ...options,
      onToken: (t) => {
        ids.push(t);
        // Byte-level tokens can end inside a character: send only what decodes completely.
        const text = tokenizer.decode(ids);
        const safe = text.endsWith('\uFFFD') ? text.length - 1 : text.length;
        this.emit({ type: 'token', id, text: text.slice(sent, Math.max(sent, safe)) });
        sent = Math.max(sent, safe);
      },
    });
    return tokenizer.decode(out);
  }

  private async save(): Promise<{ run: Awaited<ReturnType<typeof saveRun>>['run']; files: RunFile[] }> {
    const t = this.current?.trained;
    if (!t) throw new Error(this.current ? 'The current model was loaded from a run directory, which is already saved; train one here to save it.' : "Nothing to save: send 'train' first.");
    // The validation loss belongs to the checkpoint only when it was measured at exactly this step.
    const valLoss = t.lastEval?.step === t.trainer.step ? t.lastEval.valLoss : null;
    return saveRun(t.name, t.trainer, this.current!.tokenizer, { text: t.text, logs: t.logs, valLoss });
  }

  /** Frees the previous model's captured step, weights, gradients and AdamW moments, so retraining reuses that memory. */
  private release(): void {
    const c = this.current;
    this.current = null;
    if (!c) return;
    if (c.trained) c.trained.trainer.dispose();
    else c.model.store!.release();
  }

  async dispose(): Promise<void> {
    this.release();
    await this.backend?.dispose();
    this.backend = null;
  }
}

/** FNV-1a over 32-bit words: a cheap fingerprint to compare two runs' weights bit for bit. */
function fnv1a(a: Float32Array): number {
  const w = new Uint32Array(a.buffer, a.byteOffset, a.length);
  let h = 0x811c9dc5;
  for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w[i], 0x01000193);
  return h >>> 0;
}
