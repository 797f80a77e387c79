// The Web Worker entry: an Engine answering protocol messages. Bundle it as an ES module worker and give
// its URL to EngineClient.create; the wasm kernels are fetched from beside the bundle (or kernelsUrl).
import { Engine } from './engine.ts';
import type { EngineEvent, EngineRequest } from './protocol.ts';

/** The parts of DedicatedWorkerGlobalScope used here (the DOM lib types `self` as a Window). */
interface WorkerScope {
  postMessage(message: EngineEvent, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<EngineRequest>) => void) | null;
}

const scope = globalThis as unknown as WorkerScope;
// A saved run's files move to the page instead of being copied (a default-config run is ~10 MB).
const engine = new Engine((e, transfer) => scope.postMessage(e, transfer ?? []));
scope.onmessage = (e) => void engine.receive(e.data);
