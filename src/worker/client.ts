// The page's side of the engine: starts the worker, sends typed requests and turns the events that answer
// them into promises and callbacks. Imports only types, so a page bundle stays a few kilobytes.
import type { BackendRequest, EngineEvent, EngineInfo, EngineRequest, SampleSettings, TrainResult, TrainSettings } from './protocol.ts';

export type { BackendRequest, EngineInfo, SampleSettings, TrainResult, TrainSettings } from './protocol.ts';

/** What EngineClient needs of a Worker (a real one, or a stand-in in tests). */
export interface WorkerLike {
  postMessage(message: EngineRequest): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<EngineEvent>) => void): void;
  addEventListener(type: 'error', listener: (e: ErrorEvent) => void): void;
  terminate(): void;
}

export interface TrainCallbacks {
  onStep?: (m: { step: number; loss: number; lr: number; ms: number }) => void;
  onEval?: (m: { step: number; trainLoss: number; valLoss: number }) => void;
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

  /** Trains a fresh character-level GPT on `text`; resolves when maxIters steps are done or stop() was called. */
  async train(text: string, config: TrainSettings = {}, on: TrainCallbacks = {}): Promise<TrainResult> {
    await this.ready;
    const e = await this.request({ type: 'train', text, config }, (ev) => {
      if (ev.type === 'step') on.onStep?.({ step: ev.step, loss: ev.loss, lr: ev.lr, ms: ev.ms });
      else if (ev.type === 'eval') on.onEval?.({ step: ev.step, trainLoss: ev.trainLoss, valLoss: ev.valLoss });
    });
    return (e as Extract<EngineEvent, { type: 'trained' }>).result;
  }

  /** Continues `prompt` ('' starts from the text's first character) with the last trained model. */
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

  private request(req: Unnumbered, onEvent?: (e: EngineEvent) => void): Promise<EngineEvent> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onEvent });
      this.worker.postMessage({ ...req, id } as EngineRequest);
    });
  }

  private dispatch(e: EngineEvent): void {
    const p = this.pending.get(e.id);
    if (!p) return;
    switch (e.type) {
      case 'step':
      case 'eval':
      case 'token':
        p.onEvent?.(e);
        return;
      case 'error':
        this.pending.delete(e.id);
        p.reject(new Error(e.message));
        return;
      case 'ready':
      case 'trained':
      case 'sampled':
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
