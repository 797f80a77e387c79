// Module: a tree of named parameters, buffers and children, with train/eval mode and dotted names
// (`h.0.attn.c_attn.weight`), as in torch.nn.Module.

import type { Backend } from '../backend/backend.ts';
import type { Rng } from '../tensor/rng.ts';
import type { Shape } from '../tensor/shape.ts';
import { ModuleBuffer } from './buffer.ts';
import { Parameter, type Init } from './parameter.ts';
import { ParameterStore } from './parameter-store.ts';

export abstract class Module {
  training = true;
  private readonly params = new Map<string, Parameter>();
  private readonly buffers = new Map<string, ModuleBuffer>();
  private readonly children = new Map<string, Module>();
  /** Set by materialize(): the flat buffers that hold every parameter, gradient and module buffer. */
  store: ParameterStore | null = null;

  protected param(name: string, shape: Shape, init: Init, decay?: boolean): Parameter {
    this.claim(name);
    const p = new Parameter(shape, init, decay);
    this.params.set(name, p);
    return p;
  }

  /** Registers an existing parameter under another name (weight tying). */
  protected shareParam(name: string, p: Parameter): Parameter {
    this.claim(name);
    this.params.set(name, p);
    return p;
  }

  /** Registers state that is saved and loaded with the model but not trained (running statistics). */
  protected buffer(name: string, shape: Shape, init: Init = { kind: 'zeros' }): ModuleBuffer {
    this.claim(name);
    const b = new ModuleBuffer(shape, init);
    this.buffers.set(name, b);
    return b;
  }

  protected child<M extends Module>(name: string, m: M): M {
    this.claim(name);
    this.children.set(name, m);
    return m;
  }

  /** One name, one thing: a state dict could not tell a parameter from a buffer of the same name. */
  private claim(name: string): void {
    if (this.params.has(name) || this.buffers.has(name) || this.children.has(name)) {
      throw new Error(`${this.constructor.name}: '${name}' is already registered (as a parameter, buffer or child); give each one its own name`);
    }
  }

  /** Every parameter with its dotted name, in declaration order; tied parameters appear once per name. */
  namedParameters(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [n, p] of this.params) out.push([prefix + n, p]);
    for (const [n, c] of this.children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  /** Unique parameters (first name wins for tied ones). */
  uniqueParameters(): [string, Parameter][] {
    const seen = new Set<Parameter>();
    return this.namedParameters().filter(([, p]) => (seen.has(p) ? false : (seen.add(p), true)));
  }

  numParameters(): number {
    return this.uniqueParameters().reduce((n, [, p]) => n + p.shape.reduce((a, b) => a * b, 1), 0);
  }

  /** Every buffer with its dotted name, in declaration order (parameters' order: own, then children's). */
  namedBuffers(prefix = ''): [string, ModuleBuffer][] {
    const out: [string, ModuleBuffer][] = [];
    for (const [n, b] of this.buffers) out.push([prefix + n, b]);
    for (const [n, c] of this.children) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  /** Every module of the tree with its dotted name (this one as ''), parents before children. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix.replace(/\.$/, ''), this]];
    for (const [n, c] of this.children) out.push(...c.namedModules(`${prefix}${n}.`));
    return out;
  }

  train(on = true): this {
    this.training = on;
    for (const c of this.children.values()) c.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * Runs fn in evaluation mode (dropout off, BatchNorm on its running statistics), then puts the mode
   * back as it was, also when fn throws: what every evaluation, probe and decoding pass needs.
   */
  async inEvalMode<T>(fn: () => Promise<T> | T): Promise<T> {
    const was = this.training;
    this.eval();
    try {
      return await fn();
    } finally {
      this.train(was);
    }
  }

  /**
   * Allocates every parameter in one flat buffer on `backend`, and the buffers in another, and
   * initialises them from `rng` (or, with `initialise` false, leaves them at zero for weights loaded next).
   */
  materialize(backend: Backend, rng: Rng, dtype: 'float32' | 'float64' = 'float32', initialise = true): this {
    this.store = ParameterStore.create(this.uniqueParameters(), backend, rng, this.namedBuffers(), dtype, initialise);
    return this;
  }
}

/** An indexed list of modules (`h.0`, `h.1`, ...). */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items;
    items.forEach((m, i) => this.child(String(i), m));
  }
}
