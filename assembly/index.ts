// The WebAssembly kernels of resnorm's wasm backend (src/backend/wasm). Every pointer is a byte offset
// into the one imported, shared linear memory; the TypeScript side allocates all buffers and scratch.
// Exported: what the backend calls (src/backend/wasm/kernels.ts lists each with its arity, and the loader
// checks this list against it), the pool's *Part jobs, and the op codes; nothing else.
export { heapBase } from './simd';
export * from './codes';
export { matmulPart, matmulScratchBytes } from './matmul';
export { unaryPart, unaryBackwardPart } from './elementwise';
export { stridedCopyPart, reduce, columnSumsPart, fill32, zero } from './layout';
export { layerNormBackwardScratchBytes } from './norms';
export { batchNormForwardPart, batchNormBackwardPart, batchNormScratchBytes } from './batchnorm';
export { checkTargets, crossEntropyLoss } from './softmax';
export {
  attentionForwardPart, attentionBackwardPart, attentionScratchFloats, attentionInferencePart, attentionKeysForwardPart,
  attentionKeysBackwardPart,
} from './attention';
export { embeddingForward, dropoutForward, checkIds } from './misc';
export {
  conv2dScratchFloats, conv2dForwardPart, conv2dBackwardDataPart, conv2dBackwardFilterPart, maxPool2dForwardPart, maxPool2dBackwardPart,
  avgPool2dForwardPart, avgPool2dBackwardPart,
} from './conv';
export {
  affinePart, axpyPart, adamwPart, binaryPart, layerNormForwardPart, rmsNormForwardPart, layerNormBackwardRowsPart,
  layerNormBackwardChannelsPart, rmsNormBackwardRowsPart, rmsNormBackwardChannelsPart, embeddingBackwardPart, crossEntropyRowsPart,
  crossEntropyBackwardPart, softmaxForwardPart, logSoftmaxForwardPart, softmaxBackwardPart, logSoftmaxBackwardPart,
} from './parts';
