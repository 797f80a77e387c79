// The one small interface every backend implements (reference TypeScript, WebAssembly, later WebGPU).
// Tensors never see a backend's memory directly: they hold an opaque `Storage` handle and ask the
// backend to run kernels on it, so a backend can keep data in wasm linear memory or GPU buffers.
//
// Conventions for every kernel:
// - all buffers are dense and row-major; `rows × C` means `rows` contiguous vectors of width C;
// - a kernel writes its outputs (it never accumulates) unless its doc says otherwise;
// - shapes have already been checked by the op front-end (src/tensor); kernels trust them.

export type DType = 'float32' | 'float64' | 'int32';

export const BYTES_PER_ELEMENT: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };

/** A backend's handle to a dense buffer (or a view into one). Opaque outside its backend. */
export interface Storage {
  readonly dtype: DType;
  /** Number of elements. */
  readonly length: number;
}

export type HostArray = Float32Array | Float64Array | Int32Array;

export type UnaryOp =
  | 'neg'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'tanh'
  | 'relu'
  | 'sigmoid'
  | 'gelu' // exact: 0.5·x·(1 + erf(x/√2))
  | 'gelu_tanh'; // GPT-2's approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div';

export type ReduceOp = 'sum' | 'max' | 'sumsq';

/** What a new buffer holds: zeros, or (for outputs a kernel overwrites entirely) anything. */
export type AllocInit = 'zeros' | 'uninit';

/** Accounting the engine uses to prove that memory does not grow over training steps. */
export interface MemoryStats {
  liveBuffers: number;
  liveBytes: number;
  peakBytes: number;
}

export interface MatmulArgs {
  /** Number of independent products; batch i reads A at i·strideA and B at i·strideB (0 = shared). */
  batch: number;
  m: number;
  n: number;
  k: number;
  /** A is stored (k, m) instead of (m, k). */
  transA: boolean;
  /** B is stored (n, k) instead of (k, n). */
  transB: boolean;
  strideA: number;
  strideB: number;
  /** If true, C += A·B instead of C = A·B. */
  accumulate: boolean;
}

export interface AdamWArgs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1 − β1ᵗ and 1 − β2ᵗ, computed by the caller (in float64) for the current step t. */
  biasCorrection1: number;
  biasCorrection2: number;
}

/**
 * A strided (B, H, T, D) operand whose rows of D stay contiguous: element (b, h, t, d) lies at
 * b·batch + h·head + t·row + d. It lets attention read q from a packed (B, T, 3·H·D) projection,
 * write out as (B, T, H·D), and read keys and values from a (B, H, maxT, D) cache, with no copies.
 */
export interface HeadLayout {
  batch: number;
  head: number;
  row: number;
}

/**
 * The geometry of a 2-D window sliding over NCHW planes (convolution and pooling; dilation 1): input
 * planes H × W, a kH × kW window moved by (strideH, strideW) over the input zero-padded (convolution,
 * average pooling) or −∞-padded (max pooling) by (padH, padW) on each side, giving Ho × Wo outputs,
 * Ho = ⌊(H + 2·padH − kH)/strideH⌋ + 1 (the op front-end computes and checks them).
 */
export interface Window2d {
  /** Batch. */
  B: number;
  H: number;
  W: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  Ho: number;
  Wo: number;
}

/** A convolution's shapes: x (B, Cin, H, W), weight (Cout, Cin, kH, kW), bias (Cout), out (B, Cout, Ho, Wo). */
export interface Conv2dArgs extends Window2d {
  Cin: number;
  Cout: number;
}

/** A pooling's shapes: x (B, C, H, W), out (B, C, Ho, Wo); every plane pooled on its own. */
export interface Pool2dArgs extends Window2d {
  C: number;
}

/**
 * What attention between two sequences, or over a padded batch, adds to attentionForward/Backward's
 * self-attention call (whose T is then Tq, the queries' count): Tk keys and values with their own
 * layout, and a key mask. Without it, k and v share q's layout and count and every key is real.
 */
export interface AttentionKeys {
  /** Keys (and values) per (b, h); when causal, the Tq queries are the last Tq of these Tk positions. */
  Tk: number;
  /** Layout of k and v (the call's inLayout then describes q alone). */
  kvLayout: HeadLayout;
  /** Layout of dk and dv in attentionBackward (the call's gradLayout then describes dq alone); default kvLayout. */
  dkvLayout?: HeadLayout;
  /**
   * (B, Tk) contiguous, of the operands' dtype: 0 for a padded key, which gets no weight, 1 for a real
   * one (no other values); null: every key is real. Read by the kernel, so a replay reads the new batch's.
   */
  keyMask: Storage | null;
}

/**
 * What every backend must implement: memory, the strided copy, elementwise and reduction kernels, the
 * batched matmul, and the row gather and scatter-add that embeddings (and later col2im) are made of.
 * Everything else the engine does is composed from these (src/tensor/ops/composed.ts) unless the
 * backend also offers a fused kernel for it.
 */
export interface CoreBackend {
  readonly name: string;

  // ---- memory -------------------------------------------------------------------------------
  /**
   * A new buffer, zero-filled unless init is 'uninit': then its contents are unspecified (a backend
   * may skip zeroing a reused block), for outputs the next kernel writes entirely.
   */
  alloc(dtype: DType, length: number, init?: AllocInit): Storage;
  /** A view of `length` elements of `base` starting at element `offset`; shares memory. */
  view(base: Storage, offset: number, length: number): Storage;
  /** Releases a buffer (views are released with nothing to do). Using it afterwards is a bug. */
  free(s: Storage): void;
  write(s: Storage, src: ArrayLike<number>): void;
  read(s: Storage): Promise<HostArray>;
  /** CPU backends read synchronously; GPU backends may not offer this. */
  readSync?(s: Storage): HostArray;
  memoryStats(): MemoryStats;

  // ---- data movement --------------------------------------------------------------------------
  fill(out: Storage, value: number): void;
  /** Converts between dtypes (or copies when equal); lengths match. */
  cast(src: Storage, out: Storage): void;
  /**
   * The one layout primitive: for every index (i0..i{r-1}) < shape,
   * dst[dstOffset + Σ i·dstStrides] = src[srcOffset + Σ i·srcStrides].
   * Permute, slice, concat and their backward passes are all this op.
   */
  stridedCopy(
    src: Storage,
    srcOffset: number,
    srcStrides: readonly number[],
    dst: Storage,
    dstOffset: number,
    dstStrides: readonly number[],
    shape: readonly number[],
  ): void;

  // ---- elementwise ----------------------------------------------------------------------------
  unary(op: UnaryOp, x: Storage, out: Storage): void;
  /** dx = dy · f'(x). */
  unaryBackward(op: UnaryOp, x: Storage, dy: Storage, dx: Storage): void;
  /** out = alpha·x + beta. */
  affine(x: Storage, out: Storage, alpha: number, beta: number): void;
  /** dst += alpha·src (gradient accumulation, residual adds in place). */
  axpy(src: Storage, dst: Storage, alpha: number): void;
  /** out = a op b with NumPy broadcasting; shapes are right-aligned and already have equal rank. */
  binary(
    op: BinaryOp,
    a: Storage,
    aShape: readonly number[],
    b: Storage,
    bShape: readonly number[],
    out: Storage,
    outShape: readonly number[],
  ): void;
  /** out[i] = (a[i] === b_broadcast[i]) ? 1 : 0; used by max's backward pass. */
  equal(
    a: Storage,
    aShape: readonly number[],
    b: Storage,
    bShape: readonly number[],
    out: Storage,
  ): void;

  // ---- reductions -----------------------------------------------------------------------------
  /** Reduces `x` (of `shape`) over `axes` (sorted, unique); `out` has the kept dims' elements. */
  reduce(op: ReduceOp, x: Storage, shape: readonly number[], axes: readonly number[], out: Storage): void;

  // ---- matrix product -------------------------------------------------------------------------
  matmul(a: Storage, b: Storage, out: Storage, args: MatmulArgs): void;

  // ---- gather and scatter-add of rows ------------------------------------------------------------
  /** out[i, :] = weight[ids[i], :]; ids are int32, checked by the caller to lie in [0, V). */
  embeddingForward(weight: Storage, ids: Storage, out: Storage, N: number, C: number): void;
  /** dweight[ids[i], :] += dout[i, :] — accumulates; the caller zeroes dweight first. */
  embeddingBackward(dout: Storage, ids: Storage, dweight: Storage, N: number, C: number): void;
}

/**
 * Optional fused kernels: one launch where the composition takes several, each forward writing what
 * its backward needs (as llm.c's). A backend declares one by implementing it (forward and backward
 * together); the op front-end falls back to the composition otherwise, and every fused kernel is
 * tested against its composition (test/parity runs on a core-only view of the reference backend).
 */
export interface FusedKernels {
  /** LayerNorm over the last axis (PyTorch semantics, biased variance). w, b may be null. */
  layerNormForward(
    x: Storage,
    w: Storage | null,
    b: Storage | null,
    out: Storage,
    mean: Storage,
    rstd: Storage,
    rows: number,
    C: number,
    eps: number,
  ): void;
  /** Writes dx, and dw/db (summed over rows) when not null. */
  layerNormBackward(
    dy: Storage,
    x: Storage,
    w: Storage | null,
    mean: Storage,
    rstd: Storage,
    dx: Storage,
    dw: Storage | null,
    db: Storage | null,
    rows: number,
    C: number,
  ): void;
  /** y = w·x / sqrt(mean(x²) + eps); w may be null; rrms receives 1/sqrt(mean(x²) + eps). */
  rmsNormForward(x: Storage, w: Storage | null, out: Storage, rrms: Storage, rows: number, C: number, eps: number): void;
  rmsNormBackward(
    dy: Storage,
    x: Storage,
    w: Storage | null,
    rrms: Storage,
    dx: Storage,
    dw: Storage | null,
    rows: number,
    C: number,
  ): void;
  /**
   * BatchNorm in training mode (Ioffe & Szegedy 2015; torch's batch_norm with training=True): x is
   * (outer, C, inner) contiguous, e.g. NCHW as (B, C, H·W) or a (rows, C) matrix as (rows, C, 1), and
   * each channel is normalized by its own batch statistics over the outer·inner values:
   * y = (x − μ_c)/sqrt(σ²_c + ε)·γ_c + β_c, σ² the biased variance. Writes mean, variance (biased,
   * for the running estimates) and rstd = 1/sqrt(σ² + ε), each (C). w, b may be null.
   */
  batchNormForward(
    x: Storage,
    w: Storage | null,
    b: Storage | null,
    out: Storage,
    mean: Storage,
    variance: Storage,
    rstd: Storage,
    outer: number,
    C: number,
    inner: number,
    eps: number,
  ): void;
  /** dx through the batch statistics; dw, db (summed over outer·inner) when not null; all written, not accumulated. */
  batchNormBackward(
    dy: Storage,
    x: Storage,
    w: Storage | null,
    mean: Storage,
    rstd: Storage,
    dx: Storage,
    dw: Storage | null,
    db: Storage | null,
    outer: number,
    C: number,
    inner: number,
  ): void;
  softmaxForward(x: Storage, out: Storage, rows: number, C: number): void;
  /** dx = y·(dy − Σ dy·y). */
  softmaxBackward(y: Storage, dy: Storage, dx: Storage, rows: number, C: number): void;
  logSoftmaxForward(x: Storage, out: Storage, rows: number, C: number): void;
  /** dx = dy − softmax·Σ dy, with y the log-softmax output. */
  logSoftmaxBackward(y: Storage, dy: Storage, dx: Storage, rows: number, C: number): void;
  /**
   * Mean cross-entropy over rows whose target is not `ignoreIndex`.
   * Writes loss[0] (0 when every target is ignored) and lse[row] = logsumexp(logits[row]).
   */
  crossEntropyForward(
    logits: Storage,
    targets: Storage,
    loss: Storage,
    lse: Storage,
    rows: number,
    V: number,
    ignoreIndex: number,
  ): void;
  /** dlogits = dloss[0]·(softmax − onehot)/count for counted rows, 0 for ignored ones. */
  crossEntropyBackward(
    logits: Storage,
    targets: Storage,
    lse: Storage,
    dloss: Storage,
    dlogits: Storage,
    rows: number,
    V: number,
    ignoreIndex: number,
  ): void;
  /**
   * Scaled dot-product attention per head over strided (B, H, T, D) operands: q, k, v share `inLayout`
   * (e.g. the three thirds of GPT-2's packed (B, T, 3C) projection, as views at offsets 0, C, 2C), out
   * `outLayout` (e.g. heads merged, (B, T, C)). lse (B, H, T), contiguous, receives each query row's
   * logsumexp of scaled scores, so backward can recompute probabilities without keeping a T×T matrix.
   * With `keys`, k and v hold keys.Tk positions laid out as keys.kvLayout (cross-attention), and
   * keys.keyMask removes padded keys. Query t sees key j when j ≤ Tk − T + t (causal) and the key is
   * real; a query that sees none gets a zero row and lse = +∞ (so backward's exp(s − lse) is 0).
   */
  attentionForward(
    q: Storage,
    k: Storage,
    v: Storage,
    inLayout: HeadLayout,
    out: Storage,
    outLayout: HeadLayout,
    lse: Storage,
    B: number,
    H: number,
    T: number,
    D: number,
    scale: number,
    causal: boolean,
    keys?: AttentionKeys,
  ): void;
  /**
   * dq, dk, dv (sharing `gradLayout`) of attentionForward's output given dout (laid out like out).
   * Every element of dq, dk and dv within the layout is written (not accumulated), so they may be
   * 'uninit', e.g. the three thirds of one packed (B, T, 3C) gradient. With `keys` (the forward's),
   * gradLayout is dq's and keys.dkvLayout dk's and dv's; a padded key's dk, dv rows are 0.
   */
  attentionBackward(
    q: Storage,
    k: Storage,
    v: Storage,
    inLayout: HeadLayout,
    out: Storage,
    dout: Storage,
    outLayout: HeadLayout,
    lse: Storage,
    dq: Storage,
    dk: Storage,
    dv: Storage,
    gradLayout: HeadLayout,
    B: number,
    H: number,
    T: number,
    D: number,
    scale: number,
    causal: boolean,
    keys?: AttentionKeys,
  ): void;
  /**
   * Inference-only attention (no lse, no backward) of Tq queries against Tk ≥ Tq keys and values,
   * the queries being the last Tq positions: query t sees keys j ≤ Tk − Tq + t when causal, all Tk
   * otherwise. A decode step with a KV cache is Tq = 1 against the Tk positions cached so far.
   */
  attentionInference(
    q: Storage,
    qLayout: HeadLayout,
    k: Storage,
    v: Storage,
    kvLayout: HeadLayout,
    out: Storage,
    outLayout: HeadLayout,
    B: number,
    H: number,
    Tq: number,
    Tk: number,
    D: number,
    scale: number,
    causal: boolean,
  ): void;
  /**
   * Inverted dropout with a counter-based generator, so the mask depends only on (seed, index)
   * and every backend and thread count draws the same one: keep element i iff
   * hashUniform(seed, i) >= p. mask receives 0 or 1/(1 − p); out = x·mask.
   */
  dropoutForward(x: Storage, out: Storage, mask: Storage, p: number, seed: number): void;

  // ---- convolution and pooling (NCHW) ---------------------------------------------------------
  /**
   * out[b, co, i, j] = bias[co] + Σ_{ci, kh, kw} w[co, ci, kh, kw]·x[b, ci, i·strideH − padH + kh, j·strideW − padW + kw],
   * x zero outside its planes (torch.nn.functional.conv2d, dilation 1, groups 1). bias may be null.
   */
  conv2dForward(x: Storage, w: Storage, bias: Storage | null, out: Storage, args: Conv2dArgs): void;
  /** dx, dw and dbias of conv2dForward given dy; each one not null is written (not accumulated). */
  conv2dBackward(dy: Storage, x: Storage, w: Storage, dx: Storage | null, dw: Storage | null, dbias: Storage | null,
    args: Conv2dArgs): void;
  /**
   * Max over each window, padding never chosen (torch.nn.functional.max_pool2d; padding ≤ kernel/2, so
   * every window holds an input element). argmax (int32, like out) receives the chosen element's index
   * h·W + w within its plane: the first maximum in row-major window order, as torch picks it (a NaN wins: the last one).
   */
  maxPool2dForward(x: Storage, out: Storage, argmax: Storage, args: Pool2dArgs): void;
  /** dx[b, c, argmax[b, c, i, j]] += dy[b, c, i, j] over a dx this kernel zeroes first (written, not accumulated). */
  maxPool2dBackward(dy: Storage, argmax: Storage, dx: Storage, args: Pool2dArgs): void;
  /** Mean over each window, zero padding counted (torch's avg_pool2d default count_include_pad): Σ/(kH·kW). */
  avgPool2dForward(x: Storage, out: Storage, args: Pool2dArgs): void;
  /** dx of avgPool2dForward: each window's dy/(kH·kW) added to its elements; dx written, not accumulated. */
  avgPool2dBackward(dy: Storage, dx: Storage, args: Pool2dArgs): void;

  // ---- optimizer ------------------------------------------------------------------------------
  /** One AdamW step over a flat buffer, PyTorch semantics (decoupled weight decay). */
  adamw(param: Storage, grad: Storage, m: Storage, v: Storage, args: AdamWArgs): void;
}

/** Optional: recording a stretch of kernel launches once and replaying it (the wasm backend's captured steps). */
export interface CaptureKernels {
  /**
   * Starts recording the kernel launches this backend makes (they still run). Buffers the captured
   * code reads as inputs must exist before the capture; what it allocates is pinned for the program.
   */
  beginCapture(): void;
  /** Ends the capture: a program that replays it, or, when something seen cannot be replayed, why not. */
  endCapture(): CaptureResult;
  /**
   * Profiling only: files the launches recorded from now on under `label` (null: unlabelled), so
   * that a program's profile can say which call each launch came from (see kernel-cost.ts).
   */
  labelLaunches?(label: LaunchLabel | null): void;
}

/** The call a captured launch came from: a profile's line, and that call's arithmetic and traffic. */
export interface LaunchLabel {
  readonly key: string;
  readonly flops: number;
  readonly bytes: number;
}

/** One line of a program's profile: every launch filed under one key, over one timed replay. */
export interface ProgramProfileLine {
  key: string;
  /** Backend calls (labels) and the launches they made. */
  calls: number;
  launches: number;
  ms: number;
  flops: number;
  bytes: number;
}

/** A backend: the core, plus whichever fused kernels and capture it declares. */
export type Backend = CoreBackend & Partial<FusedKernels> & Partial<CaptureKernels>;

/** A backend with every fused kernel (the reference and wasm backends). */
export type FullBackend = CoreBackend & FusedKernels;

/** Every fused kernel's name, checked against the interface both ways so the list cannot drift. */
export const FUSED_KERNELS = [
  'layerNormForward',
  'layerNormBackward',
  'rmsNormForward',
  'rmsNormBackward',
  'batchNormForward',
  'batchNormBackward',
  'softmaxForward',
  'softmaxBackward',
  'logSoftmaxForward',
  'logSoftmaxBackward',
  'crossEntropyForward',
  'crossEntropyBackward',
  'attentionForward',
  'attentionBackward',
  'attentionInference',
  'dropoutForward',
  'conv2dForward',
  'conv2dBackward',
  'maxPool2dForward',
  'maxPool2dBackward',
  'avgPool2dForward',
  'avgPool2dBackward',
  'adamw',
] as const satisfies readonly (keyof FusedKernels)[];
type MissingFused = Exclude<keyof FusedKernels, (typeof FUSED_KERNELS)[number]>;
const _allFusedListed: MissingFused extends never ? true : MissingFused = true;
void _allFusedListed;

/** A captured stretch of kernel launches, replayed without the code that issued them (see beginCapture). */
export interface KernelProgram {
  /** Number of recorded launches. */
  readonly launches: number;
  /** Redoes every launch in order, over the current contents of the buffers it reads. */
  run(): void;
  /**
   * Optional: run() with each launch timed, summed by label (first-seen order; launches recorded
   * without a label under '(unlabelled)'). Same results as run(); the timer adds a little per launch.
   */
  profile?(): ProgramProfileLine[];
  /** Releases the memory the program pinned. */
  dispose(): void;
}

export type CaptureResult = { program: KernelProgram; reason: null } | { program: null; reason: string };
