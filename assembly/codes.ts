// The op codes the TypeScript side passes to the kernels, one place for the kernels to read them from.
// Exported (as immutable globals) so that the loader checks its tables against the binary it loaded:
// src/backend/wasm/kernel-tables.ts, after ggml's static_assert(GGML_OP_COUNT == …).

// unary, unaryPart, unaryBackwardPart: UnaryOp
export const UNARY_NEG: i32 = 0;
export const UNARY_EXP: i32 = 1;
export const UNARY_LOG: i32 = 2;
export const UNARY_SQRT: i32 = 3;
export const UNARY_TANH: i32 = 4;
export const UNARY_RELU: i32 = 5;
export const UNARY_SIGMOID: i32 = 6;
export const UNARY_GELU: i32 = 7;
export const UNARY_GELU_TANH: i32 = 8;
export const UNARY_COUNT: i32 = 9;

// binaryPart: BinaryOp, plus equal (the backend's equal(), 1 where a = b)
export const BINARY_ADD: i32 = 0;
export const BINARY_SUB: i32 = 1;
export const BINARY_MUL: i32 = 2;
export const BINARY_DIV: i32 = 3;
export const BINARY_EQUAL: i32 = 4;
export const BINARY_COUNT: i32 = 5;

// reduce, columnSumsPart: ReduceOp
export const REDUCE_SUM: i32 = 0;
export const REDUCE_MAX: i32 = 1;
export const REDUCE_SUMSQ: i32 = 2;
export const REDUCE_COUNT: i32 = 3;

/** 1 when relaxed SIMD is compiled in: the loader checks that a kernels-*.wasm file holds the build its name says. */
export const RELAXED_SIMD: i32 = ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
