// The WebAssembly kernels of resnorm's wasm backend (src/backend/wasm). Every pointer is a byte offset
// into the one imported, shared linear memory; the TypeScript side allocates all buffers and scratch.
export { heapBase, relaxedBuild } from './simd';
export { matmul, matmulPart, matmulScratchBytes } from './matmul';
export { unary, unaryBackward, unaryPart, unaryBackwardPart, affine, axpy, binary } from './elementwise';
export { stridedCopy, stridedCopyPart, reduce, columnSumsPart, fill32, zero } from './layout';
export { layerNormForward, layerNormBackward, layerNormBackwardScratchBytes, rmsNormForward, rmsNormBackward } from './norms';
export {
  softmaxForward, softmaxBackward, logSoftmaxForward, logSoftmaxBackward, checkTargets, crossEntropyLoss,
} from './softmax';
export {
  attentionForward, attentionBackward, attentionForwardPart, attentionBackwardPart, attentionScratchFloats, attentionInferencePart,
} from './attention';
export { embeddingForward, embeddingBackward, dropoutForward, adamw, checkIds } from './misc';
export {
  affinePart, axpyPart, adamwPart, binaryPart, layerNormForwardPart, rmsNormForwardPart, layerNormBackwardRowsPart,
  layerNormBackwardChannelsPart, rmsNormBackwardRowsPart, rmsNormBackwardChannelsPart, embeddingBackwardPart, crossEntropyRowsPart,
  crossEntropyBackwardPart, softmaxForwardPart, logSoftmaxForwardPart, softmaxBackwardPart, logSoftmaxBackwardPart,
} from './parts';
export { peakLoop, PEAK_CHAINS } from './bench';
