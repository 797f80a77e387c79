// The run both sides of the browser test make: the page in chromium and, for comparison, Node.
import type { TrainSettings } from '../../src/worker/protocol.ts';

export const text = 'The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs.\n'.repeat(12);
// Wide enough that the matmuls pass the threading threshold, small enough to take a few ms a step.
export const config: TrainSettings = { blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 64, batchSize: 4, maxIters: 5, warmupIters: 1, evalInterval: 1000, evalIters: 1, seed: 7 };
export const sampleArgs = { prompt: 'The ', options: { maxNewTokens: 24, seed: 3 } };
