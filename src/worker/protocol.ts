// The messages between a page (EngineClient) and the engine running in a Web Worker (engine-worker.ts):
// two discriminated unions. Every request carries an id; every event answering it carries the same id.
import type { SimdFlavour } from '../backend/wasm/load.ts';
import type { TrainConfig } from '../train/config.ts';

/** The engine's compute backends: WebAssembly SIMD, or WebGPU (which falls back to wasm where it cannot run). */
export const ENGINE_BACKENDS = ['wasm', 'webgpu'] as const;
export type EngineBackend = (typeof ENGINE_BACKENDS)[number];

/**
 * How the worker makes its backend: the wasm kernels on `threads` threads (Web Workers sharing memory),
 * or, with kind 'webgpu', the WebGPU backend, falling back to those wasm kernels where it cannot run.
 */
export interface BackendRequest {
  /** Default 'wasm'. */
  kind?: EngineBackend;
  threads?: number | 'auto';
  relaxed?: boolean | 'auto';
  /** Folder the .wasm builds are fetched from, when they are not beside the worker bundle. */
  kernelsUrl?: string;
  maxMemoryMiB?: number;
}

/** Training settings: any TrainConfig field (validated in the worker); the text is character-tokenized. */
export type TrainSettings = Partial<Omit<TrainConfig, 'data' | 'tokenizer' | 'bpeVocabSize'>>;

export interface SampleSettings {
  maxNewTokens: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
}

/** A sample generated at each evaluation of a training, streamed as it comes. */
export interface EvalSampleSettings {
  /** '' (the default): a newline, or a space, as `resnorm sample` starts. */
  prompt?: string;
  options: SampleSettings;
}

/** One file of a run directory; `path` is relative to what the user picked ('run/checkpoints/index.json'). */
export interface RunFile {
  path: string;
  data: Uint8Array;
}

/**
 * The names of the files 'load' reads in a run directory (its manifest, its checkpoint index, and a
 * checkpoint's weights, config, vocabulary and state). A page sends only these: a run's optimizer
 * moments are twice its weights, and its diagnostics log can be larger still.
 */
export const RUN_FILES_FOR_LOAD = ['run.json', 'index.json', 'config.json', 'tokenizer.json', 'state.json', 'model.safetensors'] as const;

export type EngineRequest =
  | { type: 'init'; id: number; backend: BackendRequest }
  | { type: 'train'; id: number; text: string; config: TrainSettings; evalSample?: EvalSampleSettings }
  /** Continues the prompt with the current model: the last trained, or the last loaded. */
  | { type: 'sample'; id: number; prompt: string; options: SampleSettings }
  /** Makes the latest checkpoint of the one run directory among `files` the current model. */
  | { type: 'load'; id: number; files: RunFile[] }
  /** Writes the model trained last as a run directory the CLI opens (answered by 'saved', with its files). */
  | { type: 'save'; id: number }
  /** Ends the running training after its current step (it then answers 'trained' as usual). */
  | { type: 'stop'; id: number };

export interface EngineInfo {
  backend: EngineBackend;
  /** The wasm build; null on WebGPU. */
  flavour: SimdFlavour | null;
  /** CPU threads of the wasm backend (1 on WebGPU). */
  threads: number;
  /** The WebGPU adapter, on WebGPU. */
  adapter: string | null;
  /** Why WebGPU was asked for and wasm runs instead; null otherwise. */
  fallback: string | null;
}

export interface TrainResult {
  /** Steps taken (fewer than maxIters when stopped). */
  steps: number;
  /** Training loss of every step, in order. */
  losses: number[];
  /** Validation loss of the last evaluation, if any ran. */
  valLoss: number | null;
  /** FNV-1a over the bits of every parameter: equal runs give equal checksums. */
  checksum: number;
  vocabSize: number;
  ms: number;
}

/** A run directory as 'loaded' and 'saved' describe it. */
export interface RunInfo {
  /** The run directory, relative to what was picked ('.' when the files were the run's own). */
  dir: string;
  step: number;
  tokenizer: string;
  vocabSize: number;
  parameters: number;
  model: { nLayer: number; nHead: number; nEmbd: number; blockSize: number };
  /** 'pre-LN (layernorm), plain residual', as resnorm info says it. */
  design: string;
  /** The validation loss last measured in that run, if any. */
  valLoss: number | null;
}

export type EngineEvent =
  | { type: 'ready'; id: number; info: EngineInfo }
  | { type: 'step'; id: number; step: number; loss: number; lr: number; ms: number }
  | { type: 'eval'; id: number; step: number; trainLoss: number; valLoss: number }
  | { type: 'trained'; id: number; result: TrainResult }
  /** One generated token, with the text it completes (possibly '' inside a multi-byte character). */
  | { type: 'token'; id: number; text: string }
  | { type: 'sampled'; id: number; text: string }
  /** During a 'train' with evalSample: the sample of the evaluation at `step`, after its 'token' events. */
  | { type: 'generated'; id: number; step: number; prompt: string; text: string }
  | { type: 'loaded'; id: number; run: RunInfo }
  | { type: 'saved'; id: number; run: RunInfo; files: RunFile[] }
  | { type: 'error'; id: number; message: string };

/** The files' buffers, each once, when a file's bytes are its whole buffer (so moving it loses nothing). */
export function ownBuffers(files: readonly RunFile[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const f of files) {
    const b = f.data.buffer;
    if (b instanceof ArrayBuffer && f.data.byteOffset === 0 && f.data.byteLength === b.byteLength) out.add(b);
  }
  return [...out];
}
