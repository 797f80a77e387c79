"""PyTorch side of the bench's `models` rows beyond the residual MLP: the encoder-decoder, the text
classifier and the ResNet, each written out to be resnorm's model op for op (src/models/seq2seq.ts,
text-classifier.ts, resnet.ts: pre-LN, exact-erf GELU, biases, tied head, padding masks, label smoothing,
BatchNorm2d in train mode), trained on the batch the TypeScript side sends, with resnorm's AdamW
(decay on tensors of >= 2 dimensions only, as src/nn/parameter.ts) and clipping at 1.

Each builder checks that its parameter count equals the one resnorm's model reported in the request and
exits non-zero when it does not: a figure beside a different model would be no comparison at all.
bench/reference.py times the step each builder returns."""
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


def check_design(kind, c, expected):
    """The design fields these PyTorch models implement; any other value would be a silent mismatch."""
    wrong = {k: (c.get(k), v) for k, v in expected.items() if c.get(k) != v}
    if wrong:
        sys.exit(f"reference_models {kind}: only {expected} is written out here, got " +
                 ", ".join(f"{k}={got!r} (need {want!r})" for k, (got, want) in wrong.items()))


TRANSFORMER_DESIGN = {"norm": "layernorm", "placement": "pre", "residual": "plain", "qkNorm": False,
                      "activation": "gelu", "positional": "learned", "bias": True, "dropout": 0}


def check_params(kind, model, req):
    n = sum(p.numel() for p in model.parameters())  # a tied weight counts once, as in resnorm's store
    if n != req["params"]:
        sys.exit(f"reference_models {kind}: PyTorch's model has {n} parameters, resnorm's {req['params']}; "
                 "the two models differ, so the step times would not compare: fix bench/reference_models.py")
    print(f"{kind}: {n} parameters on both sides", file=sys.stderr)


def adamw_step(model, loss_of):
    """resnorm's AdamW (lr 1e-3, betas 0.9/0.99, decay 0.1 on matrices and embeddings) and clipping at 1."""
    params = list(model.parameters())
    opt = torch.optim.AdamW([{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
                             {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99), eps=1e-8)

    def step():
        loss = loss_of()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    return step


def attend(q, k, v, causal, key_mask):
    """softmax(q·kᵀ/√D + masks)·v over (B, H, Tq, D) and (B, H, Tk, D); key_mask (B, Tk) bool, True = real."""
    att = (q @ k.transpose(-2, -1)) / math.sqrt(q.size(-1))
    if causal:
        Tq, Tk = att.shape[-2:]
        att = att.masked_fill(~torch.ones(Tq, Tk, dtype=torch.bool).tril(), float("-inf"))
    if key_mask is not None:
        att = att.masked_fill(~key_mask[:, None, None, :], float("-inf"))
    return att.softmax(-1) @ v


def heads(x, H):
    B, T, C = x.shape
    return x.view(B, T, H, C // H).transpose(1, 2)  # (B, H, T, D)


def merge(y):
    B, H, T, D = y.shape
    return y.transpose(1, 2).reshape(B, T, H * D)


class SelfAttention(nn.Module):
    """resnorm's SelfAttention: packed c_attn (q | k | v), then c_proj."""

    def __init__(self, C, H, causal):
        super().__init__()
        self.H, self.causal = H, causal
        self.c_attn, self.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)

    def forward(self, x, key_mask=None):
        q, k, v = (heads(t, self.H) for t in self.c_attn(x).split(x.size(-1), dim=2))
        return self.c_proj(merge(attend(q, k, v, self.causal, key_mask)))


class CrossAttention(nn.Module):
    """resnorm's CrossAttention: c_q of the decoder stream, packed c_kv (k | v) of the encoder output, c_proj."""

    def __init__(self, C, H):
        super().__init__()
        self.H = H
        self.c_q, self.c_kv, self.c_proj = nn.Linear(C, C), nn.Linear(C, 2 * C), nn.Linear(C, C)

    def forward(self, x, kv, key_mask):
        k, v = (heads(t, self.H) for t in kv.split(x.size(-1), dim=2))
        return self.c_proj(merge(attend(heads(self.c_q(x), self.H), k, v, False, key_mask)))


class MLP(nn.Module):
    def __init__(self, C):
        super().__init__()
        self.c_fc, self.c_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))  # exact erf GELU


class Block(nn.Module):
    """Pre-LN layer: x + attn(ln_1(x)), then + mlp(ln_2(·)); bidirectional with a key mask for encoders."""

    def __init__(self, C, H, causal):
        super().__init__()
        self.ln_1, self.attn, self.ln_2, self.mlp = nn.LayerNorm(C), SelfAttention(C, H, causal), nn.LayerNorm(C), MLP(C)

    def forward(self, x, key_mask=None):
        x = x + self.attn(self.ln_1(x), key_mask)
        return x + self.mlp(self.ln_2(x))


class DecoderBlock(nn.Module):
    """Pre-LN decoder layer: causal self-attention, cross-attention on the encoder output, feed-forward."""

    def __init__(self, C, H):
        super().__init__()
        self.ln_1, self.attn = nn.LayerNorm(C), SelfAttention(C, H, True)
        self.ln_2, self.cross = nn.LayerNorm(C), CrossAttention(C, H)
        self.ln_3, self.mlp = nn.LayerNorm(C), MLP(C)

    def forward(self, x, kv, src_mask):
        x = x + self.attn(self.ln_1(x))
        x = x + self.cross(self.ln_2(x), kv, src_mask)
        return x + self.mlp(self.ln_3(x))


class Stack(nn.Module):
    """One side's token embedding + learned positions, its layers and the final norm (seq2seq-stack.ts)."""

    def __init__(self, V, T, C, layers):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
        self.h = nn.ModuleList(layers)
        self.ln_f = nn.LayerNorm(C)

    def embed(self, ids):
        return self.wte(ids) + self.wpe(torch.arange(ids.shape[1]))  # (B, T, C)


class Seq2Seq(nn.Module):
    def __init__(self, c):
        super().__init__()
        C, H = c["nEmbd"], c["nHead"]
        self.encoder = Stack(c["sourceVocab"], c["maxSource"], C, [Block(C, H, False) for _ in range(c["encoderLayers"])])
        self.decoder = Stack(c["targetVocab"], c["maxTarget"], C, [DecoderBlock(C, H) for _ in range(c["decoderLayers"])])
        self.eps = c["labelSmoothing"]

    def forward(self, src, src_mask, tgt_in, tgt_out):
        x = self.encoder.embed(src)
        for b in self.encoder.h:
            x = b(x, src_mask)
        enc = self.encoder.ln_f(x)  # (B, S, C)
        kvs = [b.cross.c_kv(enc) for b in self.decoder.h]  # each layer's keys | values, as Seq2Seq.memory
        y = self.decoder.embed(tgt_in)
        for b, kv in zip(self.decoder.h, kvs):
            y = b(y, kv, src_mask)
        logits = self.decoder.ln_f(y) @ self.decoder.wte.weight.t()  # tied head, no bias: (B, T, V)
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), tgt_out.reshape(-1), ignore_index=-100, label_smoothing=self.eps)


def seq2seq_train_step(req):
    c = req["config"]
    check_design("seq2seq_train_step", c, {**TRANSFORMER_DESIGN, "tieTargetEmbedding": True, "shareEmbeddings": False})
    torch.manual_seed(0)
    m = Seq2Seq(c)
    check_params("seq2seq_train_step", m, req)
    i = req["inputs"]
    B, S, T = req["batch"], c["maxSource"], c["maxTarget"]
    src = torch.tensor(i["src"]).view(B, S)
    src_mask = torch.tensor(i["srcMask"]).view(B, S) > 0
    tgt_in, tgt_out = torch.tensor(i["tgtIn"]).view(B, T), torch.tensor(i["tgtOut"]).view(B, T)
    return adamw_step(m, lambda: m(src, src_mask, tgt_in, tgt_out))


class TextClassifier(nn.Module):
    """The encoder stack over the text (padded keys masked), the mean of the real positions, a linear head."""

    def __init__(self, c):
        super().__init__()
        C, H = c["nEmbd"], c["nHead"]
        self.encoder = Stack(c["vocabSize"], c["maxLen"], C, [Block(C, H, False) for _ in range(c["nLayer"])])
        self.head = nn.Linear(C, c["classes"])

    def forward(self, ids, mask, labels):
        x = self.encoder.embed(ids)
        keys = mask > 0
        for b in self.encoder.h:
            x = b(x, keys)
        x = self.encoder.ln_f(x)  # (B, T, C)
        pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True)  # (B, C)
        return F.cross_entropy(self.head(pooled), labels)


def text_classifier_train_step(req):
    c = req["config"]
    check_design("text_classifier_train_step", c, {**TRANSFORMER_DESIGN, "pooling": "mean"})
    torch.manual_seed(0)
    m = TextClassifier(c)
    check_params("text_classifier_train_step", m, req)
    i = req["inputs"]
    B, T = req["batch"], c["maxLen"]
    ids = torch.tensor(i["ids"]).view(B, T)
    mask = torch.tensor(i["mask"], dtype=torch.float32).view(B, T)
    labels = torch.tensor(i["labels"])
    return adamw_step(m, lambda: m(ids, mask, labels))


class BasicBlock(nn.Module):
    """He et al. 2016's basic block as src/nn/residual-block.ts: ReLU(BN(conv(ReLU(BN(conv x)))) + S(x))."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
        project = stride != 1 or cin != cout
        self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)) if project else None

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        f = self.bn2(self.conv2(h))
        return F.relu((self.downsample(x) if self.downsample is not None else x) + f)


class ResNet(nn.Module):
    def __init__(self, c):
        super().__init__()
        w = c["width"]
        self.conv1, self.bn1 = nn.Conv2d(c["channels"], w, 3, 1, 1, bias=False), nn.BatchNorm2d(w)
        blocks, cin = [], w
        for stage, n in enumerate(c["blocks"]):
            cout = w * 2 ** stage
            for i in range(n):
                blocks.append(BasicBlock(cin, cout, 2 if stage > 0 and i == 0 else 1))
                cin = cout
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, c["classes"])

    def forward(self, x, y):
        h = self.layers(F.relu(self.bn1(self.conv1(x))))
        return F.cross_entropy(self.fc(h.mean((2, 3))), y)  # global average pool, then the head


def resnet_train_step(req):
    """Pixels and labels are drawn here (their values do not change the work); the shapes are resnorm's batch's."""
    c = req["config"]
    torch.manual_seed(0)
    m = ResNet(c).train()  # BatchNorm on batch statistics, running estimates updated
    check_params("resnet_train_step", m, req)
    x = torch.rand(req["batch"], c["channels"], c["size"], c["size"])
    y = torch.randint(0, c["classes"], (req["batch"],))
    return adamw_step(m, lambda: m(x, y))


# Each kind's builder: the request → a step closure for reference.py's `timed`.
BUILDERS = {
    "seq2seq_train_step": seq2seq_train_step,
    "text_classifier_train_step": text_classifier_train_step,
    "resnet_train_step": resnet_train_step,
}
