// One-line descriptions of a task run's model and its evaluation metrics, for train, eval and info.

import { describeDesign } from '../nn/design.ts';
import type { ResidualMLPConfig } from '../models/residual-mlp.ts';
import type { ResNetConfig } from '../models/resnet.ts';
import { stackDesign } from '../models/seq2seq-config.ts';
import type { TaskRun } from '../train/tasks/task-run.ts';

export function describeTaskModel(run: TaskRun): string {
  switch (run.task) {
    case 'translate': {
      const m = run.model;
      return `encoder-decoder, ${m.encoderLayers} + ${m.decoderLayers} layers, ${m.nHead} heads, width ${m.nEmbd}, source ≤ ${m.maxSource}, target ≤ ${m.maxTarget}, ${describeDesign(stackDesign(m, 'encoder'))}, label smoothing ${m.labelSmoothing}; vocabularies ${m.sourceVocab} / ${m.targetVocab}`;
    }
    case 'classify': {
      const m = run.model;
      return `text classifier, ${m.nLayer} encoder layers, ${m.nHead} heads, width ${m.nEmbd}, ≤ ${m.maxLen} tokens, ${m.pooling} pooling, ${describeDesign(m)}; ${m.classes} classes`;
    }
    case 'image': {
      if (run.train.model === 'mlp') {
        const m = run.model as ResidualMLPConfig;
        return `residual MLP ${m.inputs} → ${m.hidden} → ${m.classes}, ${m.depth} block${m.depth > 1 ? 's' : ''}, ${describeDesign({ ...m, nLayer: m.depth, qkNorm: false })}`;
      }
      const m = run.model as ResNetConfig;
      return `ResNet, ${m.width}-channel stem, stages of ${m.blocks.join(' + ')} residual blocks (widths ${m.blocks.map((_, s) => m.width << s).join(', ')}), BatchNorm; ${m.classes} classes`;
    }
  }
}

const PERCENT = new Set(['accuracy', 'trainAccuracy', 'exactMatch', 'wordErrorRate', 'phonemeErrorRate', 'characterErrorRate', 'macroF1']);

/** `accuracy 91.2%, macroF1 90.8%, bleu 0.523`. */
export function describeMetrics(metrics: Record<string, number>): string {
  return Object.entries(metrics)
    .filter(([k]) => !k.startsWith('f1.'))
    .map(([k, v]) => (PERCENT.has(k) ? `${k} ${(100 * v).toFixed(1)}%` : `${k} ${v.toFixed(3)}`))
    .join(', ');
}
