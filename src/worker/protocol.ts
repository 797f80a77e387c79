// The messages between a page (EngineClient) and the engine running in a Web Worker (engine-worker.ts):
// two discriminated unions. Every request carries an id; every event answering it carries the same id.
import type { SimdFlavour } from '../backend/wasm/load.ts';
import type { TrainConfig } from '../train/config.ts';

/** How the worker makes its backend: the wasm kernels on `threads` threads (Web Workers sharing memory). */
export interface BackendRequest {
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

export type EngineRequest =
  | { type: 'init'; id: number; backend: BackendRequest }
  | { type: 'train'; id: number; text: string; config: TrainSettings }
  | { type: 'sample'; id: number; prompt: string; options: SampleSettings }
  /** Ends the running training after its current step (it then answers 'trained' as usual). */
  | { type: 'stop'; id: number };

export interface EngineInfo {
  flavour: SimdFlavour;
  threads: number;
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

export type EngineEvent =
  | { type: 'ready'; id: number; info: EngineInfo }
  | { type: 'step'; id: number; step: number; loss: number; lr: number; ms: number }
  | { type: 'eval'; id: number; step: number; trainLoss: number; valLoss: number }
  | { type: 'trained'; id: number; result: TrainResult }
  | { type: 'token'; id: number; text: string }
  | { type: 'sampled'; id: number; text: string }
  | { type: 'error'; id: number; message: string };
