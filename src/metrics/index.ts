// Evaluation metrics of the translation, summarisation, grapheme-to-phoneme and classification tasks:
// a pure library layer (no engine imports, no Node imports), each metric matched to an established
// implementation (docs/metrics.md).

export { BLEU_SMOOTHINGS, bleuBrevityPenalty, closestRefLength, corpusBleu, sentenceBleu } from './bleu.ts';
export type { BleuOptions, BleuResult, BleuSmoothing } from './bleu.ts';
export { editDistance, lcsLength } from './edit-distance.ts';
export { asrWordErrorRate, g2pWordErrorRate, phonemeErrorRate, tokenErrorRate } from './error-rates.ts';
export { meanRougeScores, rougeL, rougeN, rougeScores, rougeTokenize } from './rouge.ts';
export type { RougeScore, RougeScores } from './rouge.ts';
export { accuracy, classificationReport, confusionMatrix } from './classification.ts';
export type { AveragedScores, ClassScores, ClassificationOptions, ClassificationReport } from './classification.ts';
export { bitsPerToken, meanCrossEntropy, perplexity } from './perplexity.ts';
