#!/usr/bin/python3
"""NLTK and scikit-learn reference values for src/metrics, as small JSON files in test/fixtures/metrics/.

BLEU (nltk.translate.bleu_score), edit distance and the error rates (nltk.edit_distance, sklearn's
zero_one_loss), classification (sklearn.metrics) and perplexity (sklearn's log_loss), on seeded random
cases. test/metrics/ reads the committed JSON; nothing runs Python at test time.

Run: /usr/bin/python3 scripts/make_metric_fixtures.py [--check]
Needs Debian's python3-nltk and python3-sklearn (apt-get install python3-nltk python3-sklearn).
--check regenerates in memory and fails if a committed file differs.
"""
import json
import math
import os
import random
import sys
import warnings

try:
    import nltk
    import numpy as np
    import sklearn
    from nltk.metrics.distance import edit_distance
    from nltk.translate.bleu_score import (SmoothingFunction, brevity_penalty, closest_ref_length, corpus_bleu,
                                           modified_precision, sentence_bleu)
    from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score, log_loss, precision_recall_fscore_support,
                                 zero_one_loss)
except ImportError:
    # `python3` first on PATH may be a pyenv interpreter without them: hand over to Debian's.
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__)] + sys.argv[1:])
    raise

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "metrics"))
META = {"generator": "scripts/make_metric_fixtures.py", "nltk": nltk.__version__, "sklearn": sklearn.__version__,
        "python": sys.version.split()[0]}

# NLTK warns (and substitutes sys.float_info.min) for an n-gram order without matches; the fixtures
# record that value and whether it happened.
warnings.simplefilter("ignore")

# ----------------------------------------------------------------------------- BLEU

def corrupt(rng, tokens, vocab, p):
    """A noisy copy: each token kept, substituted, deleted or followed by an insertion."""
    out = []
    for t in tokens:
        u = rng.random()
        if u < p / 3:
            out.append(rng.choice(vocab))
        elif u < 2 * p / 3:
            continue
        elif u < p:
            out += [t, rng.choice(vocab)]
        else:
            out.append(t)
    return out


def bleu_case(name, hypotheses, references, max_order=4):
    weights = (1 / max_order,) * max_order
    m1 = SmoothingFunction().method1
    nums, dens = [0] * max_order, [0] * max_order
    hyp_len = ref_len = 0
    for refs, hyp in zip(references, hypotheses):
        for n in range(1, max_order + 1):
            p = modified_precision(refs, hyp, n)
            nums[n - 1] += p.numerator
            dens[n - 1] += p.denominator
        hyp_len += len(hyp)
        ref_len += closest_ref_length(refs, len(hyp))
    return {
        "name": name,
        "max_order": max_order,
        "hypotheses": hypotheses,
        "references": references,
        "matches": nums,
        "totals": dens,
        "hyp_length": hyp_len,
        "ref_length": ref_len,
        "brevity_penalty": float(brevity_penalty(ref_len, hyp_len)),
        # an order without matches, where NLTK's unsmoothed value is its sys.float_info.min artefact
        "zero_order": any(n == 0 for n in nums),
        "bleu": float(corpus_bleu(references, hypotheses, weights)),
        "bleu_method1": float(corpus_bleu(references, hypotheses, weights, smoothing_function=m1)),
        "sentence_bleu": [float(sentence_bleu(r, h, weights)) for r, h in zip(references, hypotheses)],
        "sentence_bleu_method1": [float(sentence_bleu(r, h, weights, smoothing_function=m1))
                                  for r, h in zip(references, hypotheses)],
    }


def bleu_fixtures():
    rng = random.Random(20240501)
    cases = []
    # Inputs of the corpus_bleu and modified_precision doctests of nltk/translate/bleu_score.py.
    hyp1 = ("It is a guide to action which ensures that the military always obeys the commands of the party").split()
    ref1a = ("It is a guide to action that ensures that the military will forever heed Party commands").split()
    ref1b = ("It is the guiding principle which guarantees the military forces always being under the command "
             "of the Party").split()
    ref1c = ("It is the practical guide for the army always to heed the directions of the party").split()
    hyp2 = "he read the book because he was interested in world history".split()
    ref2a = "he was interested in world history because he read the book".split()
    cases.append(bleu_case("nltk doctest corpus", [hyp1, hyp2], [[ref1a, ref1b, ref1c], [ref2a]]))
    cases.append(bleu_case("nltk doctest sentence", [hyp1], [[ref1a, ref1b, ref1c]]))
    cases.append(bleu_case("the the the (modified precision)", ["the the the the the the the".split()],
                           [["the cat is on the mat".split(), "there is a cat on the mat".split()]]))
    cases.append(bleu_case("empty hypothesis alone", [[]], [[["a", "b", "c"]]]))
    cases.append(bleu_case("one empty hypothesis among others", [["a", "b", "c", "d", "e"], [], ["x", "y", "z", "w"]],
                           [[["a", "b", "c", "d", "e", "f"]], [["p", "q"]], [["x", "y", "z", "w"], ["x", "y"]]]))
    cases.append(bleu_case("hypothesis shorter than n", [["a", "b"]], [[["a", "b"]]]))
    cases.append(bleu_case("exact match", [["a", "b", "c", "d", "e"]], [[["a", "b", "c", "d", "e"]]]))
    cases.append(bleu_case("longer than every reference", [["a", "b", "c", "d", "e", "f", "g", "h"]],
                           [[["a", "b", "c", "d"], ["b", "c", "d", "e", "f"]]]))
    cases.append(bleu_case("reference lengths tie (shorter wins)", [["a", "b", "c", "d", "e", "f"]],
                           [[["a", "b", "c", "d", "e", "f", "g", "h"], ["a", "b", "c", "d"]]]))
    cases.append(bleu_case("empty reference", [["a", "b", "c"]], [[[], ["a", "b", "c", "d"]]]))
    # joined with spaces, ("a b", "c") and ("a", "b c") would be the same bigram
    cases.append(bleu_case("tokens with spaces", [["a b", "c", "d"]], [[["a", "b c", "d"]]], max_order=2))
    for i in range(40):
        vocab = [f"w{k}" for k in range(rng.choice([3, 5, 8, 20]))]
        corpus = rng.choice([1, 1, 2, 3, 5, 8])
        hyps, refs = [], []
        for _ in range(corpus):
            nref = rng.choice([1, 1, 2, 3, 4])
            rs = [[rng.choice(vocab) for _ in range(rng.randint(0, 18))] for _ in range(nref)]
            if rng.random() < 0.1:
                h = []
            elif rng.random() < 0.7:
                h = corrupt(rng, rng.choice(rs), vocab, rng.choice([0.0, 0.1, 0.3, 0.6]))
            else:
                h = [rng.choice(vocab) for _ in range(rng.randint(1, 18))]
            hyps.append(h)
            refs.append(rs)
        max_order = 4 if i < 28 else rng.choice([1, 2, 3, 5])
        cases.append(bleu_case(f"random {i}", hyps, refs, max_order))
    return {"meta": META, "cases": cases}

# ----------------------------------------------------------------------------- edit distance, WER, PER

PHONES = ("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH").split()


def edit_fixtures():
    rng = random.Random(20240502)
    pairs = []
    fixed = [([], []), ([], ["a"]), (["a", "b"], []), (["a"], ["a"]), (["k", "i", "t", "t", "e", "n"],
             ["s", "i", "t", "t", "i", "n", "g"]), (["a", "b"], ["b", "a"]), (["a", "a", "a"], ["a"])]
    for _ in range(60):
        alphabet = [f"t{k}" for k in range(rng.choice([2, 4, 10]))]
        a = [rng.choice(alphabet) for _ in range(rng.randint(0, 15))]
        b = corrupt(rng, a, alphabet, rng.choice([0.2, 0.5])) if rng.random() < 0.5 else \
            [rng.choice(alphabet) for _ in range(rng.randint(0, 15))]
        fixed.append((a, b))
    for a, b in fixed:
        # Levenshtein, and the insert/delete-only distance |a| + |b| - 2 LCS (a substitution costs 2).
        pairs.append({"a": a, "b": b, "distance": edit_distance(a, b),
                      "indel_distance": edit_distance(a, b, substitution_cost=2)})

    def corpus(tokens, words, p_wrong, edit_p):
        refs = [[rng.choice(tokens) for _ in range(rng.randint(1, 9))] for _ in range(words)]
        preds = [corrupt(rng, r, tokens, edit_p) if rng.random() < p_wrong else list(r) for r in refs]
        return preds, refs

    g2p = []
    for i in range(12):
        preds, refs = corpus(PHONES, rng.randint(1, 30), rng.choice([0.0, 0.2, 0.5, 1.0]), 0.4)
        if i == 0:
            preds[0] = []  # an empty prediction
        g2p.append({
            "predictions": preds, "references": refs,
            # exact-match error over whole pronunciations
            "g2p_wer": float(zero_one_loss([" ".join(r) for r in refs], [" ".join(p) for p in preds])),
            "per": sum(edit_distance(p, r) for p, r in zip(preds, refs)) / sum(len(r) for r in refs),
        })
    words = [f"word{k}" for k in range(30)]
    asr = []
    for _ in range(8):
        preds, refs = corpus(words, rng.randint(1, 10), 0.7, rng.choice([0.1, 0.5, 0.9]))
        asr.append({"predictions": preds, "references": refs,
                    "wer": sum(edit_distance(p, r) for p, r in zip(preds, refs)) / sum(len(r) for r in refs)})
    return {"meta": META, "pairs": pairs, "g2p": g2p, "asr": asr}

# ----------------------------------------------------------------------------- classification

def prfs(y_true, y_pred, labels, average):
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=average, zero_division=0)
    if average is None:
        return {"precision": p.tolist(), "recall": r.tolist(), "f1": f.tolist(), "support": s.tolist()}
    return {"precision": float(p), "recall": float(r), "f1": float(f)}


def class_case(name, y_true, y_pred, labels=None):
    case = {"name": name, "y_true": y_true, "y_pred": y_pred}
    if labels is not None:
        case["labels"] = labels
    present = sorted(set(y_true) | set(y_pred))
    case["resolved_labels"] = labels if labels is not None else present
    case["accuracy"] = float(accuracy_score(y_true, y_pred))
    try:
        case["confusion"] = confusion_matrix(y_true, y_pred, labels=labels).tolist()
    except ValueError:  # sklearn refuses labels none of which occurs in y_true
        case["confusion"] = None
    case["per_class"] = prfs(y_true, y_pred, labels, None)
    for avg in ("macro", "micro", "weighted"):
        case[avg] = prfs(y_true, y_pred, labels, avg)
        assert case[avg]["f1"] == float(f1_score(y_true, y_pred, labels=labels, average=avg, zero_division=0))
    return case


def classification_fixtures():
    rng = random.Random(20240503)
    cases = [
        class_case("sklearn doctest, as integers", [0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1]),
        class_case("one sample", [3], [3]),
        class_case("all wrong", [0, 0, 1, 1], [1, 1, 0, 0]),
        class_case("a class never predicted", [0, 1, 2, 2, 1, 0], [0, 1, 1, 1, 1, 0]),
        class_case("a class only predicted", [0, 0, 1, 1], [0, 2, 1, 2]),
        class_case("non-contiguous labels", [7, 3, 3, 0, 7, 7], [7, 3, 0, 0, 3, 7]),
        class_case("labels with an absent class", [0, 1, 1, 0], [0, 1, 0, 0], labels=[0, 1, 2]),
        class_case("labels subset", [0, 1, 2, 2, 1, 0, 2], [0, 2, 2, 1, 1, 0, 0], labels=[2, 0]),
        class_case("labels with no support at all", [0, 0, 1], [0, 1, 1], labels=[5]),
    ]
    for i in range(24):
        K = rng.randint(2, 7)
        classes = sorted(rng.sample(range(12), K))
        n = rng.randint(1, 60)
        y_true = [rng.choice(classes) for _ in range(n)]
        acc = rng.choice([0.0, 0.3, 0.7, 0.95])
        y_pred = [t if rng.random() < acc else rng.choice(classes) for t in y_true]
        if i % 2 == 0:  # one or two classes never predicted
            dropped = set(rng.sample(classes, min(K - 1, rng.randint(1, 2))))
            kept = [c for c in classes if c not in dropped]
            y_pred = [rng.choice(kept) if p in dropped else p for p in y_pred]
        labels = None
        if i % 6 == 5:
            labels = rng.sample(classes, rng.randint(1, K)) + rng.sample([c for c in range(12, 15)], 1)
        cases.append(class_case(f"random {i}", y_true, y_pred, labels))
    return {"meta": META, "cases": cases}

# ----------------------------------------------------------------------------- perplexity

def perplexity_fixtures():
    gen = np.random.default_rng(20240504)
    cases = []
    for _ in range(12):
        V = int(gen.integers(2, 9))
        T = int(gen.integers(1, 41))
        p = 0.9 * gen.dirichlet(np.ones(V) * float(gen.choice([0.3, 1.0, 5.0])), size=T) + 0.1 / V
        p /= p.sum(axis=1, keepdims=True)
        y = gen.integers(0, V, size=T)
        ce = float(log_loss(y, p, labels=list(range(V))))  # mean cross-entropy, nats
        cases.append({"probs": p.tolist(), "targets": y.tolist(), "mean_nats": ce, "perplexity": math.exp(ce),
                      "bits_per_token": ce / math.log(2)})
    return {"meta": META, "cases": cases}

# ----------------------------------------------------------------------------- main

def main():
    check = "--check" in sys.argv
    files = {"bleu.json": bleu_fixtures(), "edit-distance.json": edit_fixtures(),
             "classification.json": classification_fixtures(), "perplexity.json": perplexity_fixtures()}
    os.makedirs(OUT, exist_ok=True)
    stale = []
    for name, data in files.items():
        text = json.dumps(data, separators=(",", ":")) + "\n"
        path = os.path.join(OUT, name)
        if check:
            with open(path) as f:
                if f.read() != text:
                    stale.append(name)
        else:
            with open(path, "w") as f:
                f.write(text)
            print(f"wrote {os.path.relpath(path)} ({len(text)} bytes)")
    if stale:
        sys.exit(f"stale fixtures (rerun scripts/make_metric_fixtures.py): {', '.join(stale)}")


if __name__ == "__main__":
    main()
