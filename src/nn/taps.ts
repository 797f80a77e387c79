// Taps: the one place where modules show their activations to an observer (diagnostics). The
// building blocks that every model is made of call a tap at the points the diagnostics need: a
// normalization layer with its input and output, a residual branch with the stream and the update it
// adds, a block with what enters and leaves it, attention with its packed projection. A model built
// from these blocks is observed with no code of its own.
//
// A tap does nothing unless a sink is installed (`withTaps`), and diagnostics install one only for a
// no-grad probe pass between training steps. So training steps, captured or not, never run tap code:
// a replayed step is the same list of kernels with or without diagnostics.

import type { Tensor } from '../tensor/tensor.ts';
import type { Module } from './module.ts';

export interface TapSink {
  /** A normalization layer: its input, its output and its gain γ (null when it has none). */
  norm(layer: Module, input: Tensor, output: Tensor, gain: Tensor | null): void;
  /** A residual branch `stream + update`: `sublayer` is the module that computed the update. */
  residual(sublayer: Module, stream: Tensor, update: Tensor): void;
  /** A block of layers: the residual stream entering and leaving it. */
  block(block: Module, input: Tensor, output: Tensor): void;
  /** Self-attention from a packed (B, T, 3C) projection with nHead heads, causal or not. */
  attention(layer: Module, qkv: Tensor, nHead: number, causal: boolean): void;
}

let active: TapSink | null = null;

/** Runs fn with `sink` receiving every tap; taps do not nest (one observer at a time). */
export function withTaps<T>(sink: TapSink, fn: () => T): T {
  if (active) throw new Error('withTaps: a tap sink is already installed; diagnostics passes do not nest');
  active = sink;
  try {
    return fn();
  } finally {
    active = null;
  }
}

/** The installed sink, or null: modules call `taps()?.norm(…)`. */
export function taps(): TapSink | null {
  return active;
}
