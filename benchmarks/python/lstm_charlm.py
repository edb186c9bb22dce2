#!/usr/bin/python3
"""The char-LM benchmark workload in PyTorch, for comparison in the same run as Recur's.

Same model and step as benchmarks/src/lstm-charlm.ts: Embedding(V, E) -> {LSTM,GRU,RNN}(E, H,
2 layers) -> Linear(H, V); cross-entropy, backward, clip_grad_norm_(1.0), Adam; zero initial
state per step. Prints one JSON object. Run with Debian's /usr/bin/python3 (python3-torch);
--device cuda runs it on a GPU (cuDNN's RNN kernels) with a CUDA build of torch.
"""
import argparse
import json
import os
import statistics
import time

import torch

p = argparse.ArgumentParser()
p.add_argument("--cell", default="lstm", choices=["lstm", "gru", "rnn"])
p.add_argument("--hidden", type=int, default=256)
p.add_argument("--embedding", type=int, default=64)
p.add_argument("--layers", type=int, default=2)
p.add_argument("--batch", type=int, default=32)
p.add_argument("--steps", type=int, default=64, help="sequence length (time steps)")
p.add_argument("--vocab", type=int, default=65)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--warmup", type=int, default=2)
p.add_argument("--timed", type=int, default=5)
p.add_argument("--latency-tokens", type=int, default=200)
p.add_argument("--mode", default="train", choices=["train", "latency"])
p.add_argument("--data", default="")
p.add_argument("--device", default="cpu", help="cpu, or cuda with a CUDA build of torch")
a = p.parse_args()

if a.device.startswith("cuda") and not torch.cuda.is_available():
    raise SystemExit(f"--device {a.device}: this torch ({torch.__version__}) sees no CUDA device")
device = torch.device(a.device)

torch.set_num_threads(a.threads)
torch.manual_seed(0)

if a.data and os.path.exists(a.data):
    text = open(a.data, encoding="utf-8").read()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    tokens = torch.tensor([index[c] for c in text], dtype=torch.long)
    vocab = len(chars)
else:
    vocab = a.vocab
    tokens = torch.randint(0, vocab, (200_000,))

rnn_class = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[a.cell]
emb = torch.nn.Embedding(vocab, a.embedding).to(device)
rnn = rnn_class(a.embedding, a.hidden, num_layers=a.layers).to(device)
head = torch.nn.Linear(a.hidden, vocab).to(device)
params = list(emb.parameters()) + list(rnn.parameters()) + list(head.parameters())
opt = torch.optim.Adam(params, lr=2e-3)
gen = torch.Generator().manual_seed(1)


def batch():
    starts = torch.randint(0, len(tokens) - a.steps - 1, (a.batch,), generator=gen)
    seq = torch.stack([tokens[s : s + a.steps + 1] for s in starts.tolist()], dim=1)  # [T+1, B]
    seq = seq.to(device)
    return seq[:-1], seq[1:]


def train_step():
    x, y = batch()
    out, _ = rnn(emb(x))
    logits = head(out.reshape(-1, a.hidden))
    loss = torch.nn.functional.cross_entropy(logits, y.reshape(-1))
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    return loss.item()


result = {"backend": "pytorch", "torch": torch.__version__, "device": str(device), "threads": torch.get_num_threads(), "cell": a.cell, "hidden": a.hidden, "vocab": vocab}
if device.type == "cuda":
    result.update({"gpu": torch.cuda.get_device_name(device), "cudnn": torch.backends.cudnn.version()})
if a.mode == "train":
    for _ in range(a.warmup):
        train_step()
    times = []
    loss = 0.0
    for _ in range(a.timed):
        t0 = time.perf_counter()
        loss = train_step()
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    result.update({"stepSeconds": median, "tokensPerSecond": a.batch * a.steps / median, "loss": loss})
else:
    with torch.no_grad():
        h = None
        token = torch.zeros((1, 1), dtype=torch.long, device=device)
        times = []
        for i in range(a.latency_tokens + 20):
            t0 = time.perf_counter()
            out, h = rnn(emb(token), h)
            logits = head(out[-1])
            token = logits.argmax(dim=-1, keepdim=True)
            token.item()
            if i >= 20:
                times.append(time.perf_counter() - t0)
    result.update({"microsecondsPerToken": statistics.median(times) * 1e6})
print(json.dumps(result))
