// Batched matrix product for the reference backend: C[b] (=|+=) op(A[b])·op(B[b]), written as the
// plain triple loop with a float64 row accumulator — the oracle the fast kernels are compared with.
import type { HostArray, MatmulArgs } from '../backend.ts';

/** Elements of A and B a call reads, for bounds checks: the last batch's start plus one matrix. */
export function matmulExtents(args: MatmulArgs): { a: number; b: number; out: number } {
  const { batch, m, n, k, strideA, strideB } = args;
  if (batch === 0) return { a: 0, b: 0, out: 0 };
  return { a: (batch - 1) * strideA + m * k, b: (batch - 1) * strideB + k * n, out: batch * m * n };
}

export function matmul(a: HostArray, b: HostArray, out: HostArray, args: MatmulArgs): void {
  const { batch, m, n, k, transA, transB, strideA, strideB, accumulate } = args;
  // A(i, p) = a[i·aRow + p·aCol]: (m, k) row-major, or (k, m) when transA.
  const aRow = transA ? 1 : k;
  const aCol = transA ? m : 1;
  // B(p, j) = b[p·bRow + j·bCol]: (k, n) row-major, or (n, k) when transB.
  const bRow = transB ? 1 : n;
  const bCol = transB ? k : 1;
  const acc = new Float64Array(n);
  for (let bi = 0; bi < batch; bi++) {
    const a0 = bi * strideA;
    const b0 = bi * strideB;
    const c0 = bi * m * n;
    for (let i = 0; i < m; i++) {
      acc.fill(0);
      for (let p = 0; p < k; p++) {
        const aip = a[a0 + i * aRow + p * aCol];
        const bp = b0 + p * bRow;
        for (let j = 0; j < n; j++) acc[j] += aip * b[bp + j * bCol];
      }
      const ci = c0 + i * n;
      for (let j = 0; j < n; j++) out[ci + j] = accumulate ? out[ci + j] + acc[j] : acc[j];
    }
  }
}
