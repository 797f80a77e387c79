#!/usr/bin/python3
"""Fits the rational erf that the wasm GELU forward uses (assembly/elementwise.ts, ERF_P and ERF_Q).

erf(u) ~= u * P(u^2) / Q(u^2) on [0, 4] (odd, so it holds on [-4, 4]; beyond, erf is 1 in float32
and the kernel clamps u), P of degree 6 and Q of degree 5 in u^2, Q(0) = 1. The fit is linearised
least squares of u*P - erf*Q, reweighted by the previous Q and by 1/erf (relative error), iterated
(Sanathanan-Koerner). Prints the coefficients rounded to float32 and the error of evaluating them
in float32 with Horner's rule, as the kernel does.

Run: /usr/bin/python3 scripts/fit_erf.py   (needs python3-numpy; the standard library's math.erf is the target)
"""
from math import erf

import numpy as np

N_P, N_Q = 7, 6  # coefficients of P and Q (Q's first is fixed at 1)


def fit():
    u = np.linspace(0, 4, 20001)[1:]
    target = np.array([erf(x) for x in u])
    z = u * u
    q_prev = np.ones_like(u)
    for _ in range(30):
        cols = [u * z**k for k in range(N_P)] + [-target * z**k for k in range(1, N_Q)]
        a = np.column_stack(cols)
        w = 1.0 / (q_prev * target)
        coef, *_ = np.linalg.lstsq(a * w[:, None], target * w, rcond=None)
        p, q = coef[:N_P], np.concatenate([[1.0], coef[N_P:]])
        q_prev = np.polyval(q[::-1], z)
    return u, target, p, q


def horner32(coefs, z32):
    acc = np.float32(coefs[-1])
    for c in coefs[-2::-1]:
        acc = acc * z32 + np.float32(c)
    return acc


def main():
    u, target, p, q = fit()
    u32 = u.astype(np.float32)
    z32 = u32 * u32
    approx = u32 * horner32(p, z32) / horner32(q, z32)
    err = np.abs(approx.astype(np.float64) - target).max()
    print(f"max |error| evaluated in float32 on (0, 4]: {err:.3g}")
    print("const ERF_P: f32[] = [" + ", ".join(repr(float(np.float32(c))) for c in p) + "];")
    print("const ERF_Q: f32[] = [" + ", ".join(repr(float(np.float32(c))) for c in q) + "];")


if __name__ == "__main__":
    main()
