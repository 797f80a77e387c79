// One AdamW step over a flat buffer for the reference backend (Loshchilov & Hutter 2019, as PyTorch's
// torch.optim.AdamW implements it: decay first, then the Adam update with bias correction).
import type { AdamWArgs } from '../backend.ts';
import type { FloatArray } from './storage.ts';

export function adamw(param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, args: AdamWArgs): void {
  const { lr, beta1, beta2, eps, weightDecay, biasCorrection1, biasCorrection2 } = args;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i];
    // θ ← θ − lr·λ·θ (decoupled weight decay)
    let theta = param[i] - lr * weightDecay * param[i];
    // m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    // Read the moments back as stored, so a float32 state rounds exactly where PyTorch's does.
    const mi = m[i];
    const vi = v[i];
    // θ ← θ − lr·m̂/(sqrt(v̂) + ε), m̂ = m/(1 − β1ᵗ), v̂ = v/(1 − β2ᵗ)
    theta -= (lr * (mi / biasCorrection1)) / (Math.sqrt(vi / biasCorrection2) + eps);
    param[i] = theta;
  }
}
