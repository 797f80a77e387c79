// Scaled dot-product attention per head for the reference backend, over strided (B, H, T, D) operands
// (HeadLayout: rows of D contiguous, so q can be read from a packed (B, T, 3C) projection and out written
// heads-merged). Forward saves each query row's logsumexp; backward recomputes the probabilities from
// it, one row of T scores at a time, so no (T, T) matrix is ever kept (the FlashAttention recipe, Dao et
// al. 2022).
import type { HeadLayout } from '../backend.ts';
import type { FloatArray } from './storage.ts';

/** Element offset of head (b, h) in an operand laid out as `l`. */
function headBase(l: HeadLayout, b: number, h: number): number {
  return b * l.batch + h * l.head;
}

/** How many of Tk keys query t of Tq may see: j ≤ Tk − Tq + t when causal (the queries are the last Tq positions), all otherwise. */
export function visibleKeys(t: number, Tq: number, Tk: number, causal: boolean): number {
  return causal ? Math.min(Tk, Math.max(0, Tk - Tq + t + 1)) : Tk;
}

/**
 * s[j] = scale·q_t·k_j for the keys query t may see (visibleKeys), −∞ for a padded one (mask row
 * `keep` 0); returns how many keys the row has and the max of its real scores (−∞ when it has none).
 */
function scoreRow(
  q: FloatArray,
  k: FloatArray,
  qo: number,
  kh: number,
  kRow: number,
  keys: number,
  D: number,
  scale: number,
  keep: FloatArray | null,
  keepAt: number,
  s: Float64Array,
): number {
  let m = -Infinity;
  for (let j = 0; j < keys; j++) {
    if (keep !== null && keep[keepAt + j] === 0) {
      s[j] = -Infinity;
      continue;
    }
    const ko = kh + j * kRow;
    let dot = 0;
    for (let d = 0; d < D; d++) dot += q[qo + d] * k[ko + d];
    s[j] = scale * dot;
    if (s[j] > m) m = s[j];
  }
  return m;
}

/**
 * out_t = Σ_j softmax(s)_j·v_j and lse_t = log Σ_j exp(s_j), with s = scale·q_t·Kᵀ over the keys
 * query t sees (causal: the Tq queries are the last of Tk positions) that the mask keeps. A query
 * that sees no key gets out_t = 0 and lse_t = +∞, so backward's exp(s − lse) is 0 there. Without
 * the last three arguments, self-attention: Tk = Tq, k and v laid out as q, every key real.
 */
export function attentionForward(
  q: FloatArray,
  k: FloatArray,
  v: FloatArray,
  qL: HeadLayout,
  out: FloatArray,
  outL: HeadLayout,
  lse: FloatArray,
  B: number,
  H: number,
  Tq: number,
  D: number,
  scale: number,
  causal: boolean,
  Tk = Tq,
  kvL: HeadLayout = qL,
  mask: FloatArray | null = null,
): void {
  const s = new Float64Array(Tk);
  const acc = new Float64Array(D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const qh = headBase(qL, b, h);
      const kh = headBase(kvL, b, h);
      const oh = headBase(outL, b, h);
      for (let t = 0; t < Tq; t++) {
        const keys = visibleKeys(t, Tq, Tk, causal);
        const m = scoreRow(q, k, qh + t * qL.row, kh, kvL.row, keys, D, scale, mask, b * Tk, s);
        const oo = oh + t * outL.row;
        if (m === -Infinity) {
          for (let d = 0; d < D; d++) out[oo + d] = 0;
          lse[(b * H + h) * Tq + t] = Infinity;
          continue;
        }
        let sum = 0;
        acc.fill(0);
        for (let j = 0; j < keys; j++) {
          if (s[j] === -Infinity) continue;
          const p = Math.exp(s[j] - m); // unnormalised; divided by sum below
          sum += p;
          const vo = kh + j * kvL.row;
          for (let d = 0; d < D; d++) acc[d] += p * v[vo + d];
        }
        for (let d = 0; d < D; d++) out[oo + d] = acc[d] / sum;
        lse[(b * H + h) * Tq + t] = m + Math.log(sum);
      }
    }
  }
}

/**
 * Inference attention over strided operands (see Backend.attentionInference): the Tq queries are the
 * last Tq of Tk positions, so query t sees keys j ≤ Tk − Tq + t when causal. Same float64 recipe as
 * attentionForward, with no lse.
 */
export function attentionInference(
  q: FloatArray,
  qL: HeadLayout,
  k: FloatArray,
  v: FloatArray,
  kvL: HeadLayout,
  out: FloatArray,
  oL: HeadLayout,
  B: number,
  H: number,
  Tq: number,
  Tk: number,
  D: number,
  scale: number,
  causal: boolean,
): void {
  const s = new Float64Array(Tk);
  const acc = new Float64Array(D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const qh = b * qL.batch + h * qL.head;
      const kh = b * kvL.batch + h * kvL.head;
      const oh = b * oL.batch + h * oL.head;
      for (let t = 0; t < Tq; t++) {
        const keys = causal ? Tk - Tq + t + 1 : Tk;
        const qo = qh + t * qL.row;
        let m = -Infinity;
        for (let j = 0; j < keys; j++) {
          const ko = kh + j * kvL.row;
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[qo + d] * k[ko + d];
          s[j] = scale * dot;
          if (s[j] > m) m = s[j];
        }
        let sum = 0;
        acc.fill(0);
        for (let j = 0; j < keys; j++) {
          const p = Math.exp(s[j] - m);
          sum += p;
          const vo = kh + j * kvL.row;
          for (let d = 0; d < D; d++) acc[d] += p * v[vo + d];
        }
        const oo = oh + t * oL.row;
        for (let d = 0; d < D; d++) out[oo + d] = acc[d] / sum;
      }
    }
  }
}

/**
 * With P = exp(S − lse) recomputed per row and Δ_t = Σ_d dO_t·O_t (= Σ_j P_tj·dP_tj):
 * dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P⊙(dP − Δ), dQ = scale·dS·K, dK = scale·dSᵀ·Q. dq is laid out as
 * gradL, dk and dv as dkvL; Tk, kvL and mask as in attentionForward (a padded key's dk, dv rows are 0).
 */
export function attentionBackward(
  q: FloatArray,
  k: FloatArray,
  v: FloatArray,
  qL: HeadLayout,
  out: FloatArray,
  dout: FloatArray,
  outL: HeadLayout,
  lse: FloatArray,
  dq: FloatArray,
  dk: FloatArray,
  dv: FloatArray,
  gradL: HeadLayout,
  B: number,
  H: number,
  Tq: number,
  D: number,
  scale: number,
  causal: boolean,
  Tk = Tq,
  kvL: HeadLayout = qL,
  dkvL: HeadLayout = gradL,
  mask: FloatArray | null = null,
): void {
  const s = new Float64Array(Tk);
  const dqRow = new Float64Array(D);
  // dK and dV gather contributions from every query, so accumulate a whole head in float64.
  const dkAcc = new Float64Array(Tk * D);
  const dvAcc = new Float64Array(Tk * D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const qh = headBase(qL, b, h);
      const kh = headBase(kvL, b, h);
      const oh = headBase(outL, b, h);
      const gh = headBase(gradL, b, h);
      const dkh = headBase(dkvL, b, h);
      dkAcc.fill(0);
      dvAcc.fill(0);
      for (let t = 0; t < Tq; t++) {
        const qo = qh + t * qL.row;
        const keys = visibleKeys(t, Tq, Tk, causal);
        scoreRow(q, k, qo, kh, kvL.row, keys, D, scale, mask, b * Tk, s);
        const l = lse[(b * H + h) * Tq + t];
        const oo = oh + t * outL.row;
        let delta = 0;
        for (let d = 0; d < D; d++) delta += dout[oo + d] * out[oo + d];
        dqRow.fill(0);
        for (let j = 0; j < keys; j++) {
          if (s[j] === -Infinity) continue;
          const p = Math.exp(s[j] - l);
          const jo = kh + j * kvL.row;
          let dp = 0;
          for (let d = 0; d < D; d++) {
            dvAcc[j * D + d] += p * dout[oo + d];
            dp += dout[oo + d] * v[jo + d];
          }
          const ds = p * (dp - delta);
          for (let d = 0; d < D; d++) {
            dqRow[d] += scale * ds * k[jo + d];
            dkAcc[j * D + d] += scale * ds * q[qo + d];
          }
        }
        const go = gh + t * gradL.row;
        for (let d = 0; d < D; d++) dq[go + d] = dqRow[d];
      }
      for (let j = 0; j < Tk; j++) {
        const go = dkh + j * dkvL.row;
        for (let d = 0; d < D; d++) {
          dk[go + d] = dkAcc[j * D + d];
          dv[go + d] = dvAcc[j * D + d];
        }
      }
    }
  }
}
