// The page's side of the engine: starts the worker, sends typed requests and turns the events that answer
// them into promises and callbacks. Imports only the protocol (types and a few lines), so a page bundle
// stays a few kilobytes.
import { ownBuffers, type BackendRequest, type EngineEvent, type EngineInfo, type EngineRequest, type EvalSampleSettings, type RunFile, type RunInfo, type SampleSettings, type TrainResult, type TrainSettings } from './protocol.ts';

export type { BackendRequest, EngineInfo, EvalSampleSettings, RunFile, RunInfo, SampleSettings, TrainResult, TrainSettings } from './protocol.ts';

/** What EngineClient needs of a Worker (a real one, or a stand-in in tests). */
export interface WorkerLike {
  postMessage(message: EngineRequest, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<EngineEvent>) => void): void;
  addEventListener(type: 'error', listener: (e: ErrorEvent) => void): void;
  terminate(): void;
}

export interface TrainCallbacks {
  onStep?: (m: { step: number; loss: number; lr: number; ms: number }) => void;
  onEval?: (m: { step: number; trainLoss: number; valLoss: number }) => void;
  /** With an evalSample: each token of the sample that follows each evaluation, as it comes. */
  onToken?: (text: string) => void;
  /** With an evalSample: the whole sample of the evaluation at `step`. */
  onSample?: (s: { step: number; prompt: string; text: string }) => void;
}

/** A request before the client numbers it. */
type Unnumbered<R = Exclude<EngineRequest, { type: 'stop' }>> = R extends unknown ? Omit<R, 'id'> : never;

interface Pending {
  resolve: (e: EngineEvent) => void;
  reject: (e: Error) => void;
  onEvent?: (e: EngineEvent) => void;
}

export class EngineClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Resolves once the worker's backend is up (kernels compiled, thread pool started). */
  readonly ready: Promise<EngineInfo>;

  constructor(
    private readonly worker: WorkerLike,
    backend: BackendRequest = {},
  ) {
    worker.addEventListener('message', (e) => this.dispatch(e.data));
    worker.addEventListener('error', (e) => this.failAll(new Error(`The engine worker failed: ${e.message}`)));
    this.ready = this.request({ type: 'init', backend }).then((e) => (e as Extract<EngineEvent, { type: 'ready' }>).info);
    this.ready.catch(() => {}); // reported by whichever of ready, train and sample is awaited
  }

  /** Starts the engine worker from its bundled module URL (e.g. new URL('./engine-worker.js', import.meta.url)). */
  static create(workerUrl: string | URL, backend: BackendRequest = {}): EngineClient {
    return new EngineClient(new Worker(workerUrl, { type: 'module' }), backend);
  }

  /**
   * Trains a fresh character-level GPT on `text`; resolves when maxIters steps are done or stop() was
   * called. With `evalSample`, a sample is generated (and streamed to on.onToken) after each evaluation.
   */
  async train(text: string, config: TrainSettings = {}, on: TrainCallbacks = {}, evalSample?: EvalSampleSettings): Promise<TrainResult> {
    await this.ready;
    const e = await this.request({ type: 'train', text, config, ...(evalSample ? { evalSample } : {}) }, (ev) => {
      if (ev.type === 'step') on.onStep?.({ step: ev.step, loss: ev.loss, lr: ev.lr, ms: ev.ms });
      else if (ev.type === 'eval') on.onEval?.({ step: ev.step, trainLoss: ev.trainLoss, valLoss: ev.valLoss });
      else if (ev.type === 'token') on.onToken?.(ev.text);
      else if (ev.type === 'generated') on.onSample?.({ step: ev.step, prompt: ev.prompt, text: ev.text });
    });
    return (e as Extract<EngineEvent, { type: 'trained' }>).result;
  }

  /**
   * Makes the latest checkpoint of the run directory among `files` the model sample() uses. The files'
   * buffers move to the worker (they are unusable here afterwards) when each is a whole buffer.
   */
  async load(files: RunFile[]): Promise<RunInfo> {
    await this.ready;
    const e = await this.request({ type: 'load', files }, undefined, ownBuffers(files));
    return (e as Extract<EngineEvent, { type: 'loaded' }>).run;
  }

  /** The model trained last, as the files of a run directory (`run.dir`/…) that the CLI opens. */
  async save(): Promise<{ run: RunInfo; files: RunFile[] }> {
    await this.ready;
    const e = (await this.request({ type: 'save' })) as Extract<EngineEvent, { type: 'saved' }>;
    return { run: e.run, files: e.files };
  }

  /** Continues `prompt` ('' starts from a newline, or a space, as resnorm sample does) with the model trained or loaded last. */
  async sample(prompt: string, options: SampleSettings, onToken?: (text: string) => void): Promise<string> {
    await this.ready;
    const e = await this.request({ type: 'sample', prompt, options }, (ev) => {
      if (ev.type === 'token') onToken?.(ev.text);
    });
    return (e as Extract<EngineEvent, { type: 'sampled' }>).text;
  }

  /** Ends a running train() after its current step. */
  stop(): void {
    this.worker.postMessage({ type: 'stop', id: this.nextId++ });
  }

  /** Ends the worker (and its thread pool); pending requests reject. */
  terminate(): void {
    this.worker.terminate();
    this.failAll(new Error('The engine worker was terminated.'));
  }

  private request(req: Unnumbered, onEvent?: (e: EngineEvent) => void, transfer: ArrayBuffer[] = []): Promise<EngineEvent> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onEvent });
      this.worker.postMessage({ ...req, id } as EngineRequest, transfer);
    });
  }

  private dispatch(e: EngineEvent): void {
    const p = this.pending.get(e.id);
    if (!p) return;
    switch (e.type) {
      case 'step':
      case 'eval':
      case 'token':
      case 'generated':
        p.onEvent?.(e);
        return;
      case 'error':
        this.pending.delete(e.id);
        p.reject(new Error(e.message));
        return;
      case 'ready':
      case 'trained':
      case 'sampled':
      case 'loaded':
      case 'saved':
        this.pending.delete(e.id);
        p.resolve(e);
        return;
      default: {
        const never: never = e;
        throw new Error(`unknown engine event ${JSON.stringify(never)}`);
      }
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
