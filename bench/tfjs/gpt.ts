// The GPT of bench/reference.py written in TensorFlow.js ops, for the TF.js rows of `npm run bench`:
// pre-LN blocks (LayerNorm → causal self-attention → residual, LayerNorm → MLP with exact GELU →
// residual), learned positions, a final LayerNorm and a head tied to the token embedding, mean
// cross-entropy, then global-norm clipping at 1 and AdamW (lr 1e-3, betas 0.9/0.99, weight decay 0.1
// on every parameter, as torch.optim.AdamW does in reference.py). Every parameter has a bias, as the
// nn.Linear/nn.LayerNorm of reference.py do.
//
// Two substitutions, because TF.js 4.x's wasm backend registers no UnsortedSegmentSum kernel (the
// gradient of tf.gather): the token embedding is oneHot(ids)·wte (768×65×128 multiply-adds, ~1% of
// the step's FLOPs), and the position embedding is wpe itself (positions are 0..T-1 for every row,
// so gather(wpe, arange(T)) = wpe). Same math, same parameters and gradients. AdamW is written out
// in TF.js ops (TF.js has no AdamW, and tf.train.adam has no weight decay); it runs the same kind
// of per-variable elementwise ops tf.train.adam would.

import type * as TF from '@tensorflow/tfjs-core';

export interface TfGptConfig {
  vocabSize: number;
  blockSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
}

type Tf = typeof TF;

/** Builds the model and returns one full training step (forward, backward, clip, AdamW) → loss. */
export function createTfGptStep(tf: Tf, c: TfGptConfig, batch: number, seed = 0): { step: () => number; loss: () => TF.Scalar; paramCount: number } {
  const { vocabSize: V, blockSize: T, nLayer: L, nHead: H, nEmbd: C } = c;
  const B = batch;
  const D = C / H;
  let s = seed + 1; // TF.js treats seed 0 as "no seed"
  const normal = (shape: number[], std = 0.02) => tf.variable(tf.randomNormal(shape, 0, std, 'float32', s++));
  const ones = (n: number) => tf.variable(tf.ones([n]));
  const zeros = (shape: number[]) => tf.variable(tf.zeros(shape));

  const wte = normal([V, C]);
  const wpe = normal([T, C]);
  const blocks = Array.from({ length: L }, () => ({
    ln1g: ones(C), ln1b: zeros([C]),
    attnW: normal([C, 3 * C]), attnB: zeros([3 * C]),
    projW: normal([C, C]), projB: zeros([C]),
    ln2g: ones(C), ln2b: zeros([C]),
    fcW: normal([C, 4 * C]), fcB: zeros([4 * C]),
    mprojW: normal([4 * C, C]), mprojB: zeros([C]),
  }));
  const lnfg = ones(C);
  const lnfb = zeros([C]);
  const params: TF.Variable[] = [wte, wpe, ...blocks.flatMap((b) => Object.values(b)), lnfg, lnfb];
  const m = params.map((p) => tf.variable(tf.zerosLike(p), false));
  const v = params.map((p) => tf.variable(tf.zerosLike(p), false));

  // Fixed inputs, as in reference.py's train_step: one random batch, targets = inputs.
  const rand = tf.randomUniform([B * T], 0, V, 'int32', 12345);
  const idsOneHot = tf.oneHot(rand, V); // (B·T, V) float32
  const targetsOneHot = tf.oneHot(rand, V);
  const causal = tf.linalg.bandPart(tf.ones([T, T]), -1, 0); // lower triangle of ones
  const maskAdd = tf.mul(tf.sub(1, causal), -1e9); // 0 where allowed, -1e9 above the diagonal

  const layerNorm = (x: TF.Tensor, g: TF.Tensor, b: TF.Tensor) => {
    const mean = tf.mean(x, -1, true);
    const xc = tf.sub(x, mean);
    const variance = tf.mean(tf.square(xc), -1, true);
    return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(variance, 1e-5))), g), b);
  };
  const linear = (x: TF.Tensor, w: TF.Tensor, b: TF.Tensor) => tf.add(tf.matMul(x as TF.Tensor2D, w as TF.Tensor2D), b);
  const gelu = (x: TF.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  const heads = (t: TF.Tensor) => tf.transpose(tf.reshape(t, [B, T, H, D]), [0, 2, 1, 3]); // (B, H, T, D)

  const loss = (): TF.Scalar => {
    // x: (B·T, C) throughout; the attention reshapes to (B, H, T, D) and back.
    let x = tf.reshape(tf.add(tf.reshape(tf.matMul(idsOneHot, wte), [B, T, C]), wpe), [B * T, C]);
    for (const bl of blocks) {
      const qkv = linear(layerNorm(x, bl.ln1g, bl.ln1b), bl.attnW, bl.attnB);
      const [q, k, vv] = tf.split(qkv, 3, 1).map(heads);
      const att = tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(D)), maskAdd));
      const y = tf.reshape(tf.transpose(tf.matMul(att, vv), [0, 2, 1, 3]), [B * T, C]);
      x = tf.add(x, linear(y, bl.projW, bl.projB));
      x = tf.add(x, linear(gelu(linear(layerNorm(x, bl.ln2g, bl.ln2b), bl.fcW, bl.fcB)), bl.mprojW, bl.mprojB));
    }
    const logits = tf.matMul(layerNorm(x, lnfg, lnfb) as TF.Tensor2D, wte, false, true); // tied head
    return tf.neg(tf.mean(tf.sum(tf.mul(targetsOneHot, tf.logSoftmax(logits)), -1))) as TF.Scalar;
  };

  const lr = 1e-3, beta1 = 0.9, beta2 = 0.99, eps = 1e-8, wd = 0.1, clip = 1;
  let t = 0;
  const step = (): number => {
    t++;
    const value = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(loss, params);
      const gs = params.map((p) => grads[p.name]);
      // Global-norm clipping, kept on the backend (no read-back until the loss at the end).
      const norm = tf.sqrt(tf.addN(gs.map((g) => tf.sum(tf.square(g)))));
      const scale = tf.minimum(1, tf.div(clip, tf.add(norm, 1e-6)));
      const bc1 = 1 - beta1 ** t, bc2 = 1 - beta2 ** t;
      params.forEach((p, i) => {
        const g = tf.mul(gs[i], scale);
        m[i].assign(tf.add(tf.mul(m[i], beta1), tf.mul(g, 1 - beta1)));
        v[i].assign(tf.add(tf.mul(v[i], beta2), tf.mul(tf.square(g), 1 - beta2)));
        const update = tf.div(tf.div(m[i], bc1), tf.add(tf.sqrt(tf.div(v[i], bc2)), eps));
        p.assign(tf.sub(tf.mul(p, 1 - lr * wd), tf.mul(update, lr)));
      });
      return value;
    });
    const out = value.dataSync()[0]; // waits for the step: the timing covers all of it
    value.dispose();
    return out;
  };
  return { step, loss, paramCount: params.reduce((n, p) => n + p.size, 0) };
}
