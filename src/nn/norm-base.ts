// The abstract normalization layer every norm kind extends; its own file so that norm.ts (which picks
// a kind) and the kinds in their own files (dyt.ts, batch-norm.ts) import it without an import cycle.

import type { Tensor } from '../tensor/tensor.ts';
import { Module } from './module.ts';

export abstract class Norm extends Module {
  abstract forward(x: Tensor): Tensor;
}
