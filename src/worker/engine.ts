// The engine behind the worker protocol: a wasm backend, and on request a small character-level GPT trained
// on a given text and sampled from. No worker API here (engine-worker.ts wires it to messages), so it also
// runs, and is tested, in Node.
import { createWasmBackend, type WasmBackend } from '../backend/wasm/index.ts';
import { CharTokenizer } from '../data/char-tokenizer.ts';
import { splitTrainVal } from '../data/corpus.ts';
import { generate } from '../models/generate.ts';
import { GPT } from '../models/gpt.ts';
import { setDefaultBackend } from '../tensor/index.ts';
import { modelConfigOf, parseTrainConfig } from '../train/config.ts';
import { Trainer } from '../train/trainer.ts';
import { yieldTask } from './yield-task.ts';
import type { EngineEvent, EngineInfo, EngineRequest, SampleSettings, TrainResult, TrainSettings } from './protocol.ts';

interface Trained {
  trainer: Trainer;
  tokenizer: CharTokenizer;
  /** The context a sample with an empty prompt starts from: the text's first character. */
  start: number;
}

export class Engine {
  private backend: WasmBackend | null = null;
  private info: EngineInfo | null = null;
  private trained: Trained | null = null;
  private stopRequested = false;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly emit: (e: EngineEvent) => void) {}

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
        const be = await createWasmBackend(req.backend);
        this.backend = be;
        setDefaultBackend(be);
        this.info = { flavour: be.flavour, threads: be.threads };
        this.emit({ type: 'ready', id: req.id, info: this.info });
        return;
      }
      case 'train':
        this.emit({ type: 'trained', id: req.id, result: await this.train(req.id, req.text, req.config) });
        return;
      case 'sample':
        this.emit({ type: 'sampled', id: req.id, text: await this.sample(req.id, req.prompt, req.options) });
        return;
      default: {
        const never: never = req;
        throw new Error(`unknown engine request ${JSON.stringify(never)}`);
      }
    }
  }

  private async train(id: number, text: string, settings: TrainSettings): Promise<TrainResult> {
    const backend = this.backend;
    if (!backend) throw new Error("The engine has no backend yet: send 'init' first (EngineClient does).");
    const config = parseTrainConfig(settings, 'train settings');
    const tokenizer = CharTokenizer.fromText(text);
    const ids = Int32Array.from(tokenizer.encode(text));
    const data = splitTrainVal(ids, config.valFraction);
    this.release();
    const model = GPT.create(modelConfigOf(config, tokenizer.vocabSize), { backend, seed: config.seed });
    const trainer = new Trainer(model, config, data);
    this.trained = { trainer, tokenizer, start: ids[0] };
    this.stopRequested = false;
    const losses: number[] = [];
    let valLoss: number | null = null;
    const t0 = performance.now();
    await trainer.run(config.maxIters, {
      onStep: async (m) => {
        losses.push(m.trainLoss);
        this.emit({ type: 'step', id, step: m.step, loss: m.trainLoss, lr: m.lr, ms: m.ms });
        await yieldTask(); // lets a 'stop' message in
      },
      onEval: (e) => {
        valLoss = e.valLoss;
        this.emit({ type: 'eval', id, ...e });
      },
      shouldStop: () => this.stopRequested,
    });
    const params = (await backend.read(model.store!.data)) as Float32Array;
    return { steps: trainer.step, losses, valLoss, checksum: fnv1a(params), vocabSize: tokenizer.vocabSize, ms: performance.now() - t0 };
  }

  private async sample(id: number, prompt: string, options: SampleSettings): Promise<string> {
    if (!this.trained) throw new Error("Nothing to sample from: send 'train' first.");
    const { trainer, tokenizer, start } = this.trained;
    const context = prompt.length > 0 ? tokenizer.encode(prompt) : [start];
    const out = await generate(trainer.model, context, { ...options, onToken: (t) => this.emit({ type: 'token', id, text: tokenizer.decode([t]) }) });
    return tokenizer.decode(out);
  }

  /** Frees the previous model's captured step, weights, gradients and AdamW moments, so retraining reuses that memory. */
  private release(): void {
    this.trained?.trainer.dispose();
    this.trained = null;
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
