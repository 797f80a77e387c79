// A cursor over the innermost runs of an N-d index space read through two strided operands, as the
// binary ops and strided copies walk it. meta holds rank i32s each of: shape, strides0, strides1 (in
// elements); the run is the last dim, so a cursor position is a multi-index over dims [0, rank − 1),
// kept in idx, plus each operand's element offset, kept in runOff0/runOff1 (module globals: each
// thread has its own instance).

export let runOff0: i32 = 0;
export let runOff1: i32 = 0;

/** Places the cursor at run r (runs counted in row-major order), offsets starting from o0 and o1. */
export function seekRun(meta: usize, rank: i32, r: i32, idx: usize, o0: i32, o1: i32): void {
  const s0 = meta + (<usize>rank << 2);
  const s1 = meta + (<usize>(2 * rank) << 2);
  let rem = r;
  for (let d = rank - 2; d >= 0; d--) {
    const n = load<i32>(meta + (<usize>d << 2));
    const i = rem % n;
    rem /= n;
    store<i32>(idx + (<usize>d << 2), i);
    o0 += i * load<i32>(s0 + (<usize>d << 2));
    o1 += i * load<i32>(s1 + (<usize>d << 2));
  }
  runOff0 = o0;
  runOff1 = o1;
}

/** Moves the cursor to the next run: an odometer step over dims [0, rank − 1). */
@inline export function nextRun(meta: usize, rank: i32, idx: usize): void {
  const s0 = meta + (<usize>rank << 2);
  const s1 = meta + (<usize>(2 * rank) << 2);
  for (let d = rank - 2; d >= 0; d--) {
    const p = idx + (<usize>d << 2);
    const n = load<i32>(meta + (<usize>d << 2));
    const i = load<i32>(p) + 1;
    const d0 = load<i32>(s0 + (<usize>d << 2));
    const d1 = load<i32>(s1 + (<usize>d << 2));
    runOff0 += d0;
    runOff1 += d1;
    if (i < n) {
      store<i32>(p, i);
      break;
    }
    runOff0 -= d0 * n;
    runOff1 -= d1 * n;
    store<i32>(p, 0);
  }
}
