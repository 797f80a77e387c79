// Row-wise softmax, log-softmax and fused cross-entropy over (rows × C) float32, subtracting the row
// max before exp; exp is the vectorised float32 one, sums of a row in f32x4 lanes, logs in float64.
import { hmax, hsum, vexp } from './simd';

export function rowMax(x: usize, C: i32): f32 {
  let m = f32x4.splat(-Infinity);
  let c = 0;
  for (; c + 4 <= C; c += 4) m = f32x4.max(m, v128.load(x + (<usize>c << 2)));
  let s = hmax(m);
  for (; c < C; c++) {
    const v = load<f32>(x + (<usize>c << 2));
    s = max<f32>(s, v);
  }
  return s;
}

/** Σ exp(x − m) over one row; when out ≠ 0 also stores each exp(x − m) there. */
export function rowSumExp(x: usize, C: i32, m: f32, out: usize): f32 {
  const vm = f32x4.splat(m);
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= C; c += 4) {
    const o = <usize>c << 2;
    const e = vexp(f32x4.sub(v128.load(x + o), vm));
    if (out != 0) v128.store(out + o, e);
    acc = f32x4.add(acc, e);
  }
  let s = hsum(acc);
  for (; c < C; c++) {
    const e = <f32>Math.exp(<f64>(load<f32>(x + (<usize>c << 2)) - m));
    if (out != 0) store<f32>(out + (<usize>c << 2), e);
    s += e;
  }
  return s;
}

/** log Σ exp(x) of one row; an all −Infinity row gives −Infinity. */
export function rowLogSumExp(x: usize, C: i32): f64 {
  const m = rowMax(x, C);
  if (m == -Infinity) return -Infinity;
  return <f64>m + Math.log(<f64>rowSumExp(x, C, m, 0));
}

export function softmaxForward(x: usize, out: usize, rows: i32, C: i32): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * C) << 2);
    const yr = out + (<usize>(r * C) << 2);
    const m = rowMax(xr, C);
    const inv = f32x4.splat(<f32>(1 / <f64>rowSumExp(xr, C, m, yr)));
    let c = 0;
    for (; c + 4 <= C; c += 4) v128.store(yr + (<usize>c << 2), f32x4.mul(v128.load(yr + (<usize>c << 2)), inv));
    const s = f32x4.extract_lane(inv, 0);
    for (; c < C; c++) store<f32>(yr + (<usize>c << 2), load<f32>(yr + (<usize>c << 2)) * s);
  }
}

/** dx = y·(dy − Σ dy·y). */
export function softmaxBackward(y: usize, dy: usize, dx: usize, rows: i32, C: i32): void {
  for (let r = 0; r < rows; r++) {
    const o0 = <usize>(r * C) << 2;
    let acc = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = o0 + (<usize>c << 2);
      acc = f32x4.add(acc, f32x4.mul(v128.load(dy + o), v128.load(y + o)));
    }
    let dot = hsum(acc);
    for (let t = c; t < C; t++) {
      const o = o0 + (<usize>t << 2);
      dot += load<f32>(dy + o) * load<f32>(y + o);
    }
    const vd = f32x4.splat(dot);
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = o0 + (<usize>c << 2);
      v128.store(dx + o, f32x4.mul(v128.load(y + o), f32x4.sub(v128.load(dy + o), vd)));
    }
    for (; c < C; c++) {
      const o = o0 + (<usize>c << 2);
      store<f32>(dx + o, load<f32>(y + o) * (load<f32>(dy + o) - dot));
    }
  }
}

export function logSoftmaxForward(x: usize, out: usize, rows: i32, C: i32): void {
  for (let r = 0; r < rows; r++) {
    const o0 = <usize>(r * C) << 2;
    const lse = <f32>rowLogSumExp(x + o0, C);
    const vl = f32x4.splat(lse);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = o0 + (<usize>c << 2);
      v128.store(out + o, f32x4.sub(v128.load(x + o), vl));
    }
    for (; c < C; c++) {
      const o = o0 + (<usize>c << 2);
      store<f32>(out + o, load<f32>(x + o) - lse);
    }
  }
}

/** dx = dy − exp(y)·Σ dy. */
export function logSoftmaxBackward(y: usize, dy: usize, dx: usize, rows: i32, C: i32): void {
  for (let r = 0; r < rows; r++) {
    const o0 = <usize>(r * C) << 2;
    let sum: f32 = 0;
    for (let c = 0; c < C; c++) sum += load<f32>(dy + o0 + (<usize>c << 2));
    const vs = f32x4.splat(sum);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = o0 + (<usize>c << 2);
      v128.store(dx + o, f32x4.sub(v128.load(dy + o), f32x4.mul(vexp(v128.load(y + o)), vs)));
    }
    for (; c < C; c++) {
      const o = o0 + (<usize>c << 2);
      store<f32>(dx + o, load<f32>(dy + o) - <f32>Math.exp(<f64>load<f32>(y + o)) * sum);
    }
  }
}

/** -1 when every target is in [0, V) or the ignore index, else the first bad row. */
export function checkTargets(targets: usize, rows: i32, V: i32, ignoreIndex: i32): i32 {
  for (let r = 0; r < rows; r++) {
    const t = load<i32>(targets + (<usize>r << 2));
    if (t != ignoreIndex && (t < 0 || t >= V)) return r;
  }
  return -1;
}

/** Cross-entropy forward, first job (by rows): lse[row] = logsumexp(logits[row]), also kept in float64 in l64. */
export function crossEntropyRows(logits: usize, lse: usize, l64: usize, rows: i32, V: i32): void {
  for (let r = 0; r < rows; r++) {
    const l = rowLogSumExp(logits + (<usize>(r * V) << 2), V);
    store<f32>(lse + (<usize>r << 2), <f32>l);
    store<f64>(l64 + (<usize>r << 3), l);
  }
}

/** Cross-entropy forward, second job (one thread): loss[0] = mean over counted rows of lse − z[target], rows in order. */
export function crossEntropyLoss(logits: usize, targets: usize, l64: usize, loss: usize, rows: i32, V: i32, ignoreIndex: i32): void {
  let total: f64 = 0;
  let count = 0;
  for (let r = 0; r < rows; r++) {
    const t = load<i32>(targets + (<usize>r << 2));
    if (t == ignoreIndex) continue;
    total += load<f64>(l64 + (<usize>r << 3)) - <f64>load<f32>(logits + (<usize>(r * V + t) << 2));
    count++;
  }
  store<f32>(loss, count > 0 ? <f32>(total / count) : 0);
}

/**
 * dlogits = dloss·(softmax − onehot)/count for counted rows in [r0, r1), 0 for ignored ones; count is
 * over all rows. Targets already checked.
 */
export function crossEntropyBackwardRange(logits: usize, targets: usize, lse: usize, dloss: usize, dlogits: usize, rows: i32, V: i32,
  ignoreIndex: i32, r0: i32, r1: i32): void {
  let count = 0;
  for (let r = 0; r < rows; r++) if (load<i32>(targets + (<usize>r << 2)) != ignoreIndex) count++;
  const scale = count > 0 ? <f32>(<f64>load<f32>(dloss) / count) : 0;
  const vsc = f32x4.splat(scale);
  for (let r = r0; r < r1; r++) {
    const o0 = <usize>(r * V) << 2;
    const t = load<i32>(targets + (<usize>r << 2));
    if (t == ignoreIndex) {
      memory.fill(dlogits + o0, 0, <usize>V << 2);
      continue;
    }
    const vl = f32x4.splat(load<f32>(lse + (<usize>r << 2)));
    let c = 0;
    for (; c + 4 <= V; c += 4) {
      const o = o0 + (<usize>c << 2);
      v128.store(dlogits + o, f32x4.mul(vsc, vexp(f32x4.sub(v128.load(logits + o), vl))));
    }
    const l = <f64>load<f32>(lse + (<usize>r << 2));
    for (; c < V; c++) {
      const o = o0 + (<usize>c << 2);
      store<f32>(dlogits + o, scale * <f32>Math.exp(<f64>load<f32>(logits + o) - l));
    }
    const ot = dlogits + o0 + (<usize>t << 2);
    const p = <f32>Math.exp(<f64>load<f32>(logits + o0 + (<usize>t << 2)) - l);
    store<f32>(ot, scale * (p - 1));
  }
}
