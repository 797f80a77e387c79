#!/usr/bin/python3
"""Tiny random GPT-2 models in plain PyTorch, saved as Hugging Face GPT-2 directories, with their logits.

The fixtures of test/io/gpt2-*.test.ts (resnorm import-gpt2 / export-gpt2). `transformers` is not needed:
the model follows GPT-2's parameter names and layout (Conv1D weights stored (in, out)), its forward is
written out below, the tokenizer is GPT-2's byte-level BPE (encoder.py's bytes_to_unicode, pattern and
merge loop) with a few merges learned here, and safetensors is written by hand.

Run: /usr/bin/python3 scripts/make_gpt2_fixture.py   (Debian's python3 has torch 1.13 and regex)
Writes test/fixtures/gpt2/: three model directories and expected.json + expected.safetensors.
"""
import json
import math
import os
import shutil
import struct
import zlib

import sys

try:
    import numpy as np
    import regex
    import torch
except ImportError:
    # `python3` first on PATH may be an interpreter without torch: hand over to Debian's.
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__)] + sys.argv[1:])
    raise

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "gpt2"))
MAX_BYTES = 200 * 1024

# ------------------------------------------------------------------ GPT-2's tokenizer (encoder.py)

END_OF_TEXT = "<|endoftext|>"
PATTERN = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    """GPT-2's byte → printable character map; its order is the order of the base token ids."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return bs, [chr(c) for c in cs]


BYTE_ORDER, BYTE_CHARS = bytes_to_unicode()
BYTE_CHAR = dict(zip(BYTE_ORDER, BYTE_CHARS))


def words_of(text):
    return ["".join(BYTE_CHAR[b] for b in w.encode("utf-8")) for w in PATTERN.findall(text)]


def learn_merges(text, n):
    """Plain BPE on the pre-tokenized words: merge the most frequent pair (ties: the smaller pair), n times."""
    words = {}
    for w in words_of(text):
        words[tuple(w)] = words.get(tuple(w), 0) + 1
    merges = []
    for _ in range(n):
        counts = {}
        for w, c in words.items():
            for p in zip(w, w[1:]):
                counts[p] = counts.get(p, 0) + c
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))
        merges.append(best)
        merged = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            merged[tuple(out)] = merged.get(tuple(out), 0) + c
        words = merged
    return merges


def bpe(word, ranks):
    """encoder.py's Encoder.bpe: merge the lowest-ranked adjacent pair, all its occurrences, until none is left."""
    word = tuple(word)
    while len(word) > 1:
        pairs = set(zip(word, word[1:]))
        best = min(pairs, key=lambda p: ranks.get(p, float("inf")))
        if best not in ranks:
            break
        first, second = best
        new_word, i = [], 0
        while i < len(word):
            try:
                j = word.index(first, i)
            except ValueError:
                new_word.extend(word[i:])
                break
            new_word.extend(word[i:j])
            i = j
            if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                new_word.append(first + second)
                i += 2
            else:
                new_word.append(word[i])
                i += 1
        word = tuple(new_word)
    return word


class Tokenizer:
    def __init__(self, merges):
        self.merges = merges
        self.ranks = {m: k for k, m in enumerate(merges)}
        self.vocab = {c: i for i, c in enumerate(BYTE_CHARS)}
        for k, (a, b) in enumerate(merges):
            self.vocab[a + b] = 256 + k
        self.vocab[END_OF_TEXT] = 256 + len(merges)

    def encode(self, text):
        """Special tokens are cut out first, as Hugging Face's GPT-2 tokenizer does."""
        ids = []
        for i, part in enumerate(text.split(END_OF_TEXT)):
            if i > 0:
                ids.append(self.vocab[END_OF_TEXT])
            for w in words_of(part):
                ids.extend(self.vocab[t] for t in bpe(w, self.ranks))
        return ids

    def vocab_json(self):
        return json.dumps(self.vocab, ensure_ascii=False)

    def merges_txt(self):
        return "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in self.merges)

    def tokenizer_json(self):
        """Hugging Face's tokenizer.json for GPT-2, with merges as pairs (the newer form)."""
        eot = self.vocab[END_OF_TEXT]
        byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
        return json.dumps({
            "version": "1.0", "truncation": None, "padding": None,
            "added_tokens": [{"id": eot, "content": END_OF_TEXT, "single_word": False, "lstrip": False, "rstrip": False, "normalized": True, "special": True}],
            "normalizer": None, "pre_tokenizer": byte_level, "post_processor": byte_level, "decoder": byte_level,
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "", "end_of_word_suffix": "",
                      "fuse_unk": False, "byte_fallback": False, "vocab": self.vocab, "merges": [[a, b] for a, b in self.merges]},
        }, ensure_ascii=False)


# ------------------------------------------------------------------ the model, GPT-2's names and layout


def make_weights(cfg, seed):
    """Random weights of every GPT-2 tensor, large enough that each one (and the GELU's curvature) shows in the logits."""
    g = torch.Generator().manual_seed(seed)
    V, T, C, L = cfg["vocab_size"], cfg["n_positions"], cfg["n_embd"], cfg["n_layer"]

    def normal(*shape, std=0.3, mean=0.0):
        return torch.randn(*shape, generator=g, dtype=torch.float32) * std + mean

    w = {"wte.weight": normal(V, C, std=0.5), "wpe.weight": normal(T, C, std=0.5)}
    for i in range(L):
        h = f"h.{i}."
        w[h + "ln_1.weight"] = normal(C, std=0.2, mean=1.0)
        w[h + "ln_1.bias"] = normal(C, std=0.2)
        w[h + "attn.c_attn.weight"] = normal(C, 3 * C, std=0.4)  # Conv1D: (in, out)
        w[h + "attn.c_attn.bias"] = normal(3 * C, std=0.2)
        w[h + "attn.c_proj.weight"] = normal(C, C, std=0.3)
        w[h + "attn.c_proj.bias"] = normal(C, std=0.2)
        w[h + "ln_2.weight"] = normal(C, std=0.2, mean=1.0)
        w[h + "ln_2.bias"] = normal(C, std=0.2)
        w[h + "mlp.c_fc.weight"] = normal(C, 4 * C, std=0.5)
        w[h + "mlp.c_fc.bias"] = normal(4 * C, std=0.3)
        w[h + "mlp.c_proj.weight"] = normal(4 * C, C, std=0.2)
        w[h + "mlp.c_proj.bias"] = normal(C, std=0.2)
    w["ln_f.weight"] = normal(C, std=0.2, mean=1.0)
    w["ln_f.bias"] = normal(C, std=0.2)
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = normal(V, C, std=0.5)  # a Linear: (out, in)
    return w


def layer_norm(x, weight, bias, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * weight + bias


def gelu(x, kind):
    if kind in ("gelu_new", "gelu_pytorch_tanh"):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    assert kind == "gelu"
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def conv1d(x, w, b):
    """GPT-2's Conv1D: y = x·W + b with W stored (in, out)."""
    return x @ w + b


def forward(w, cfg, ids):
    """GPT2LMHeadModel's forward, in float64: logits (T, V) of one sequence."""
    w = {k: v.double() for k, v in w.items()}
    C, H, eps = cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
    D = C // H
    T = len(ids)
    x = w["wte.weight"][ids] + w["wpe.weight"][torch.arange(T)]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(cfg["n_layer"]):
        h = f"h.{i}."
        a = layer_norm(x, w[h + "ln_1.weight"], w[h + "ln_1.bias"], eps)
        qkv = conv1d(a, w[h + "attn.c_attn.weight"], w[h + "attn.c_attn.bias"])
        q, k, v = qkv.split(C, dim=-1)
        q, k, v = (t.view(T, H, D).transpose(0, 1) for t in (q, k, v))  # (H, T, D)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(D)
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(0, 1).reshape(T, C)
        x = x + conv1d(y, w[h + "attn.c_proj.weight"], w[h + "attn.c_proj.bias"])
        m = layer_norm(x, w[h + "ln_2.weight"], w[h + "ln_2.bias"], eps)
        m = gelu(conv1d(m, w[h + "mlp.c_fc.weight"], w[h + "mlp.c_fc.bias"]), cfg["activation_function"])
        x = x + conv1d(m, w[h + "mlp.c_proj.weight"], w[h + "mlp.c_proj.bias"])
    x = layer_norm(x, w["ln_f.weight"], w["ln_f.bias"], eps)
    head = w["wte.weight"] if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    return x @ head.T


# ------------------------------------------------------------------ safetensors, by hand

DTYPE_NAMES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int32: "I32", torch.bool: "BOOL"}


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype("<i2").tobytes()  # numpy has no bfloat16: its bits
    if t.dtype == torch.bool:
        return t.numpy().astype(np.uint8).tobytes()
    a = t.numpy()
    return a.astype(a.dtype.newbyteorder("<")).tobytes()


def write_safetensors(path, tensors, metadata=None):
    """8-byte little-endian header length, the JSON header (space-padded to 8 bytes), then the raw data."""
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        raw = tensor_bytes(t)
        header[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * (-len(hb) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Reads back what write_safetensors wrote (F32/F16/BF16/BOOL), to check the files."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, h in header.items():
        b, e = h["data_offsets"]
        raw = buf[8 + n + b:8 + n + e]
        if h["dtype"] == "BF16":
            t = torch.from_numpy(np.frombuffer(raw, dtype="<i2").copy()).view(torch.bfloat16)
        else:
            t = torch.from_numpy(np.frombuffer(raw, dtype={"F32": "<f4", "F16": "<f2", "I32": "<i4", "BOOL": "u1"}[h["dtype"]]).copy())
        out[name] = (t.bool() if h["dtype"] == "BOOL" else t).reshape(h["shape"])
    return out


# ------------------------------------------------------------------ the fixtures

CORPUS = ("the cat sat on the mat. the hat is on the cat, and the cat is in the hat! "
          "hello world, hello there: the world is wide. 12 cats, 3 hats.")
TEXTS = [
    "the cat sat on the hat",
    "hello world<|endoftext|>café",
    " the  world, 42!",
]


def config_of(tok, **over):
    cfg = {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
        "vocab_size": len(tok.vocab), "n_positions": 16, "n_ctx": 16, "n_embd": 12, "n_layer": 2, "n_head": 3, "n_inner": None,
        "activation_function": "gelu_new", "resid_pdrop": 0.1, "embd_pdrop": 0.1, "attn_pdrop": 0.1,
        "layer_norm_epsilon": 1e-05, "initializer_range": 0.02, "scale_attn_weights": True, "use_cache": True,
        "bos_token_id": tok.vocab[END_OF_TEXT], "eos_token_id": tok.vocab[END_OF_TEXT], "tie_word_embeddings": True,
    }
    cfg.update(over)
    return cfg


def main():
    tok = Tokenizer(learn_merges(CORPUS, 16))
    encoded = [{"text": t, "ids": tok.encode(t)} for t in TEXTS]
    for e in encoded:
        assert 0 < len(e["ids"]) <= 16, e
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    expected, cases = {}, {}
    variants = [
        # F32, names as GPT-2's hub checkpoints have them (no prefix, no head), vocab.json + merges.txt.
        ("tiny", dict(), torch.float32, False, "files"),
        # BF16, saved from GPT2LMHeadModel: 'transformer.' prefix, the tied head stored, the mask buffers; tokenizer.json only.
        ("tiny-hf", dict(), torch.bfloat16, True, "tokenizer.json"),
        # F16, an untied head, torch's tanh GELU under its other name.
        ("tiny-untied", dict(tie_word_embeddings=False, activation_function="gelu_pytorch_tanh"), torch.float16, False, "files"),
    ]
    for name, over, dtype, lm_head_model, tok_files in variants:
        cfg = config_of(tok, **over)
        seed = zlib.crc32(name.encode())
        w = {k: v.to(dtype) for k, v in make_weights(cfg, seed).items()}
        d = os.path.join(OUT, name)
        os.makedirs(d)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        stored = {}
        for k, v in w.items():
            stored[("transformer." + k) if lm_head_model and k != "lm_head.weight" else k] = v
        if lm_head_model:
            T = cfg["n_positions"]
            for i in range(cfg["n_layer"]):
                stored[f"transformer.h.{i}.attn.bias"] = torch.tril(torch.ones(T, T, dtype=torch.bool)).view(1, 1, T, T)
                stored[f"transformer.h.{i}.attn.masked_bias"] = torch.tensor(-1e4, dtype=torch.float32)
            stored["lm_head.weight"] = w["wte.weight"].clone()
        write_safetensors(os.path.join(d, "model.safetensors"), stored, {"format": "pt"})
        if tok_files == "files":
            with open(os.path.join(d, "vocab.json"), "w", encoding="utf-8") as f:
                f.write(tok.vocab_json())
            with open(os.path.join(d, "merges.txt"), "w", encoding="utf-8") as f:
                f.write(tok.merges_txt())
        else:
            with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
                f.write(tok.tokenizer_json())
        # The file holds what the forward reads: check it round-trips bit for bit.
        back = read_safetensors(os.path.join(d, "model.safetensors"))
        for k, v in stored.items():
            assert back[k].dtype == v.dtype and torch.equal(back[k], v), k
        g = torch.Generator().manual_seed(seed + 1)
        seqs = [e["ids"] for e in encoded] if name == "tiny" else [encoded[1]["ids"]]
        # And a full block of random ids: every position, ids across the whole vocabulary.
        seqs = seqs + [torch.randint(0, cfg["vocab_size"], (cfg["n_positions"] if name == "tiny" else 10,), generator=g).tolist()]
        cases[name] = {"dtype": DTYPE_NAMES[dtype], "sequences": seqs}
        for i, ids in enumerate(seqs):
            expected[f"{name}.logits.{i}"] = forward(w, cfg, torch.tensor(ids)).float()
    write_safetensors(os.path.join(OUT, "expected.safetensors"), expected, {"source": "scripts/make_gpt2_fixture.py"})
    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"note": "written by scripts/make_gpt2_fixture.py; logits in expected.safetensors as '<variant>.logits.<i>' (T, V), float32 of a float64 forward",
                   "texts": encoded, "variants": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(r, n)) for r, _, ns in os.walk(OUT) for n in ns)
    assert total < MAX_BYTES, f"fixtures are {total} bytes, above {MAX_BYTES}"
    print(f"wrote {OUT}: {total} bytes; vocabulary {len(tok.vocab)} ({len(tok.merges)} merges); texts {[e['ids'] for e in encoded]}")


if __name__ == "__main__":
    main()
