"""Train the reader: a cross-encoder (question and sentence read together) on the CPU.

The model is the bundled all-MiniLM-L6-v2 (its first `layers` transformer layers) with a
one-logit head on [CLS] (transformers' BertForSequenceClassification, so the saved folder
is also a sentence-transformers CrossEncoder). It is trained on `Group`s (pairs.py): within
a group, a softmax over the sentences' logits and a fixed "no answer" logit of 0, the
target being the positives (or "no answer" for an unanswerable question), plus a pointwise
logistic loss on each pair. So a logit above 0 reads as "this sentence answers", and the
best sentence's logit is an answerability score.

    train_reader(groups, out_dir, TrainConfig(layers=3, max_length=96, epochs=2, seed=0))

Seeded: the same groups, settings and seed give the same weights (torch on the CPU with a
fixed number of threads).
"""
from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .pairs import Group


@dataclass
class TrainConfig:
    layers: int = 3
    max_length: int = 96  # wordpieces of question + sentence (the sentence is truncated)
    epochs: float = 2.0
    groups_per_batch: int = 4
    max_sentences: int = 8  # per group: the positives, then negatives in order
    lr: float = 7e-5
    warmup: float = 0.06
    weight_decay: float = 0.01
    pointwise: float = 0.3  # weight of the per-pair logistic loss beside the listwise one
    seed: int = 0
    threads: int = 2  # torch threads (1 is as fast on a busy machine: no threads waiting on each other)
    bf16: bool = False  # bfloat16 autocast: about 20% faster on CPUs with AVX-512 BF16
    base: str = "all-MiniLM-L6-v2"
    limit: int = 0  # train on only this many groups (a quick trial; 0 = all)
    max_steps: int = 0  # stop after this many steps (0 = run the epochs)
    checkpoints: tuple = ()  # also save the model after these steps (in out_dir/step-N), to compare lengths of training
    chunk: int = 8  # pairs per forward pass, sorted by length (less padding; 0 = the whole batch at once)
    teacher: str = ""  # a reader (get_reader name: "default" = the shipped one) whose logits the model also learns
    distill: float = 1.0  # weight of the squared gap to the teacher's logits (with a teacher)


def base_model(base: str, layers: int):
    """The base model's first `layers` layers with a fresh one-logit classification head."""
    from transformers import BertForSequenceClassification

    from ..embed.base import offline_env, resolve_model

    offline_env()
    return BertForSequenceClassification.from_pretrained(resolve_model(base), num_labels=1, num_hidden_layers=layers,
                                                         attn_implementation="sdpa")


def tokenizer_of(base: str):
    from transformers import AutoTokenizer

    from ..embed.base import resolve_model

    return AutoTokenizer.from_pretrained(resolve_model(base))


def batch_inputs(tokenizer, questions: list[str], sentences: list[str], max_length: int):
    return tokenizer(questions, sentences, truncation="only_second", max_length=max_length, padding=True,
                     return_tensors="pt")


def batch_logits(model, tokenizer, questions: list[str], sentences: list[str], max_length: int, chunk: int,
                 bf16: bool = False):
    """The model's logits for the pairs, in their order. With `chunk`, the pairs run in chunks
    of that many sorted by length, each padded to its own longest: the same logits as one padded
    batch (up to float rounding) for less work (a batch of 32 pairs padded to its longest pair
    is mostly padding)."""
    import torch

    if not chunk:
        inputs = batch_inputs(tokenizer, questions, sentences, max_length)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            return model(**inputs).logits.squeeze(-1).float()
    encoded = tokenizer(questions, sentences, truncation="only_second", max_length=max_length)
    order = sorted(range(len(questions)), key=lambda i: len(encoded["input_ids"][i]))
    parts = []
    for start in range(0, len(order), chunk):
        ids = order[start:start + chunk]
        inputs = tokenizer.pad({k: [encoded[k][i] for i in ids] for k in encoded.keys()}, return_tensors="pt")
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            parts.append(model(**inputs).logits.squeeze(-1).float().reshape(-1))
    return torch.cat(parts)[torch.argsort(torch.tensor(order))]  # back in the pairs' order


def group_loss(logits, groups: list[Group], sizes: list[int], pointwise: float):
    """The listwise loss with a "no answer" logit of 0, plus the pointwise logistic loss."""
    import torch
    import torch.nn.functional as F

    losses, pos = [], 0
    labels = []
    for g, n in zip(groups, sizes):
        s = logits[pos:pos + n]
        y = torch.tensor(g.labels[:n], dtype=torch.float32)
        labels.append(y)
        full = torch.cat([s, torch.zeros(1)])
        log_p = F.log_softmax(full, dim=0)
        if y.sum() > 0:
            losses.append(-torch.logsumexp(log_p[:n][y > 0], dim=0))
        else:
            losses.append(-log_p[n])
        pos += n
    listwise = torch.stack(losses).mean()
    point = F.binary_cross_entropy_with_logits(logits, torch.cat(labels))
    return listwise + pointwise * point


def trimmed(g: Group, max_sentences: int) -> Group:
    if len(g.sentences) <= max_sentences:
        return g
    return Group(g.source, g.article, g.question, g.sentences[:max_sentences], g.labels[:max_sentences], g.split,
                 g.qid, g.meta)


def train_reader(groups: list[Group], out_dir: Path, config: TrainConfig, validate=None, log=print) -> dict:
    """Train on the groups and save the model (transformers format) to out_dir; returns the
    training record (config, steps, seconds, losses). `validate(model, tokenizer)`, if given,
    is called at the end and its figures are added to the record."""
    import torch

    torch.manual_seed(config.seed)
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.set_num_threads(config.threads)
    rng = random.Random(config.seed)
    train = [trimmed(g, config.max_sentences) for g in groups if g.split == "train" and g.sentences]
    rng.shuffle(train)
    if config.limit:
        train = train[:config.limit]
    model = base_model(config.base, config.layers)
    tokenizer = tokenizer_of(config.base)
    model.train()
    steps_per_epoch = math.ceil(len(train) / config.groups_per_batch)
    total = max(1, int(steps_per_epoch * config.epochs))
    if config.max_steps:
        total = min(total, config.max_steps)
    no_decay = ("bias", "LayerNorm.weight")
    params = [{"params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)],
               "weight_decay": config.weight_decay},
              {"params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)],
               "weight_decay": 0.0}]
    optimiser = torch.optim.AdamW(params, lr=config.lr)
    warm = max(1, int(total * config.warmup))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (total - s) / max(1, total - warm)))
    teacher = None
    if config.teacher:
        from . import get_reader

        teacher = get_reader(config.teacher)
        if teacher is None:
            raise RuntimeError(f"no teacher reader '{config.teacher}'")
    log(f"training on {len(train)} groups, {total} steps of {config.groups_per_batch} groups "
        f"({config.layers} layers, {config.max_length} wordpieces)")
    started = time.time()
    losses, step, order = [], 0, []
    while step < total:
        if not order:
            order = list(range(len(train)))
            rng.shuffle(order)
        batch = [train[order.pop()] for _ in range(min(config.groups_per_batch, len(order)))]
        questions = [g.question for g in batch for _ in g.sentences]
        sentences = [s for g in batch for s in g.sentences]
        logits = batch_logits(model, tokenizer, questions, sentences, config.max_length, config.chunk, config.bf16)
        loss = group_loss(logits, batch, [len(g.sentences) for g in batch], config.pointwise)
        if teacher is not None:
            taught = np.concatenate([teacher.score(g.question, list(g.sentences)) for g in batch])
            loss = loss + config.distill * torch.mean((logits - torch.from_numpy(taught.astype(np.float32))) ** 2)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
        losses.append(loss.item())
        step += 1
        if step in config.checkpoints:
            model.save_pretrained(Path(out_dir).parent / f"step-{step}")
            tokenizer.save_pretrained(Path(out_dir).parent / f"step-{step}")
        if step % 100 == 0 or step == total:
            rate = step / (time.time() - started)
            log(f"step {step}/{total}  loss {np.mean(losses[-100:]):.4f}  {rate:.2f} steps/s  "
                f"eta {(total - step) / rate / 60:.1f} min")
    seconds = time.time() - started
    model.eval()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    record = {"config": asdict(config), "groups": len(train), "steps": step, "seconds": round(seconds, 1),
              "loss_first_100": round(float(np.mean(losses[:100])), 4),
              "loss_last_100": round(float(np.mean(losses[-100:])), 4)}
    if validate is not None:
        record["validation"] = validate(model, tokenizer)
    (out_dir / "training.json").write_text(json.dumps(record, indent=2) + "\n")
    return record


def torch_scorer(model, tokenizer, max_length: int, batch: int = 64):
    """score(question, sentences) -> logits with the torch model (for validation before export)."""
    import torch

    def score(question: str, sentences: list[str]) -> np.ndarray:
        out = []
        with torch.no_grad():
            for i in range(0, len(sentences), batch):
                part = sentences[i:i + batch]
                inputs = batch_inputs(tokenizer, [question] * len(part), part, max_length)
                out.append(model(**inputs).logits.squeeze(-1).float().numpy())
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)

    return score
