// The Web Worker entry: an Engine answering protocol messages. Bundle it as an ES module worker and give
// its URL to EngineClient.create; the wasm kernels are fetched from beside the bundle (or kernelsUrl).
import { Engine } from './engine.ts';
import type { EngineEvent, EngineRequest } from './protocol.ts';

/** The parts of DedicatedWorkerGlobalScope used here (the DOM lib types `self` as a Window). */
interface WorkerScope {
  postMessage(message: EngineEvent): void;
  onmessage: ((e: MessageEvent<EngineRequest>) => void) | null;
}

const scope = globalThis as unknown as WorkerScope;
const engine = new Engine((e) => scope.postMessage(e));
scope.onmessage = (e) => void engine.receive(e.data);
