// The training form: a few TrainConfig fields, with the CLI's defaults except a shorter run (the sample
// text is ~20 KB) and quicker evaluations. Values go to the engine as typed; it validates them and its
// error names the field. Diagnostics are off: the page does not show them, and the probe costs time.

import { el } from '../../dashboard/page/dom.ts';
import { PLACEMENTS, RESIDUALS } from '../../nn/design.ts';
import { NORM_KINDS } from '../../nn/norm.ts'; // esbuild keeps only the tuple: 58 bytes of the page
import type { SampleSettings, TrainSettings } from '../../worker/protocol.ts';


type NumberKey = 'nLayer' | 'nHead' | 'nEmbd' | 'blockSize' | 'batchSize' | 'maxIters' | 'evalInterval' | 'evalIters' | 'lr' | 'seed';
type ChoiceKey = 'placement' | 'norm' | 'residual';

interface NumberField {
  key: NumberKey;
  label: string;
  value: number;
  title: string;
  step?: string;
}

const NUMBERS: NumberField[] = [
  { key: 'nLayer', label: 'layers', value: 4, title: 'L: Transformer blocks' },
  { key: 'nHead', label: 'heads', value: 4, title: 'H: attention heads (must divide the width)' },
  { key: 'nEmbd', label: 'width', value: 128, title: 'C: the residual stream’s width' },
  { key: 'blockSize', label: 'context', value: 64, title: 'T: characters of context' },
  { key: 'batchSize', label: 'batch', value: 12, title: 'B: sequences per step' },
  { key: 'maxIters', label: 'steps', value: 500, title: 'training steps (AdamW, warmup then cosine decay)' },
  { key: 'evalInterval', label: 'evaluate every', value: 100, title: 'steps between evaluations (validation loss and a sample)' },
  { key: 'evalIters', label: 'eval batches', value: 4, title: 'batches each evaluation averages, on each split' },
  { key: 'lr', label: 'learning rate', value: 1e-3, title: 'peak learning rate', step: 'any' },
  { key: 'seed', label: 'seed', value: 1337, title: 'the initialisation’s and batches’ seed: the same settings give the same run' },
];

const CHOICES: { key: ChoiceKey; label: string; options: readonly string[]; value: string; title: string }[] = [
  { key: 'placement', label: 'norm placement', options: PLACEMENTS, value: 'pre', title: 'pre-LN x + F(LN(x)) (GPT-2), post-LN LN(x + F(x)) (2017), … (docs/designs.md)' },
  { key: 'norm', label: 'norm', options: NORM_KINDS, value: 'layernorm', title: 'which normalization layer' },
  { key: 'residual', label: 'residual', options: RESIDUALS, value: 'plain', title: 'how each sub-layer joins the residual stream' },
];

export class SettingsForm {
  readonly root: HTMLElement;
  private readonly numbers = new Map<NumberKey, HTMLInputElement>();
  private readonly choices = new Map<ChoiceKey, HTMLSelectElement>();
  private readonly sampleLength: HTMLInputElement;
  private readonly temperature: HTMLInputElement;

  constructor() {
    const field = (label: string, title: string, input: HTMLElement) => el('label', { class: 'field', title }, el('span', { text: label }), input);
    const num = (key: string, value: number, step = '1') => el('input', { attrs: { type: 'number', value: String(value), step, min: '0', 'data-setting': key } });
    const fields: HTMLElement[] = [];
    for (const f of NUMBERS) {
      const input = num(f.key, f.value, f.step);
      this.numbers.set(f.key, input);
      fields.push(field(f.label, f.title, input));
    }
    for (const c of CHOICES) {
      const s = el('select', { attrs: { 'data-setting': c.key } }, ...c.options.map((o) => el('option', { attrs: { value: o }, text: o })));
      s.value = c.value;
      this.choices.set(c.key, s);
      fields.push(field(c.label, c.title, s));
    }
    this.sampleLength = num('sampleLength', 200);
    this.temperature = num('sampleTemperature', 0.8, 'any');
    fields.push(field('sample length', 'characters generated after each evaluation (0: none)', this.sampleLength));
    fields.push(field('temperature', 'sampling temperature of those samples', this.temperature));
    this.root = el('div', { class: 'settings' }, ...fields);
  }

  /** The settings as typed: an empty box leaves the field to its default, anything else goes as a number. */
  read(): { config: TrainSettings; sample: SampleSettings | null } {
    const config: Record<string, unknown> = { diagInterval: 0 };
    for (const [key, input] of this.numbers) if (input.value.trim() !== '') config[key] = Number(input.value);
    for (const [key, s] of this.choices) config[key] = s.value;
    const length = Number(this.sampleLength.value || 0);
    const sample = length > 0 ? { maxNewTokens: length, temperature: Number(this.temperature.value || 0.8), seed: Number(config.seed ?? 1337) } : null;
    return { config: config as TrainSettings, sample };
  }

  set disabled(v: boolean) {
    this.root.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select').forEach((e) => (e.disabled = v));
  }
}
