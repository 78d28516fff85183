"""The model exported to ONNX here and run with onnxruntime (fp32 `onnx`, or `onnx-int8`).

The ONNX files are made from the local model on first use and cached under
$RAGCOMM_CACHE (default ~/.cache/ragcomm)/onnx/<hash of the model files and recipe>/.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np

from ..config import DEFAULT_MODEL
from .base import BaseEmbedder, canonical_model_id, offline_env, resolve_model
from .sbert import load_sentence_transformer

# Bump when the export or quantisation recipe changes: it is part of the cache key.
ONNX_RECIPE = "st-wrapper-opset17-bertfusion-int8pc-skipgeluout-v1"


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def onnx_threads() -> int | None:
    """The intra-op threads set by $RAGCOMM_ONNX_THREADS (None when unset: all cores). One thread
    per run serves many concurrent questions better (REST at 20 clients: 71.6 against 65.8 req/s,
    5 interleaved pairs) and one question slower (`ask` p50 22.9 against 16.0 ms): PERFORMANCE.md.

    >>> os.environ["RAGCOMM_ONNX_THREADS"] = "1"; onnx_threads()
    1
    >>> del os.environ["RAGCOMM_ONNX_THREADS"]; onnx_threads() is None
    True
    """
    raw = os.environ.get("RAGCOMM_ONNX_THREADS", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"RAGCOMM_ONNX_THREADS must be a whole number of threads, 1 or more, not {raw[:20]!r}")
    return int(raw)


def session_options(threads: int | None = None):
    """onnxruntime options for one of our sessions (the embedder, the reader): `threads` intra-op
    threads (else $RAGCOMM_ONNX_THREADS, else all cores), one inter-op, quiet logs, and no
    spinning. A spinning pool busy-waits for its next job after each run; with two sessions in
    one process (an answer embeds the question, then reads its candidates) the idle pool's spin
    takes a core from the working one: the reader's 3 pairs took 23-31 ms spinning, 12.7 ms not
    (bench/reader_cost.py)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or onnx_threads() or cpu_count()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def cache_home() -> Path:
    return Path(os.environ.get("RAGCOMM_CACHE") or Path.home() / ".cache" / "ragcomm")


def model_fingerprint(path: str) -> str:
    """Hash of a local model folder's files (names and contents) and the export recipe."""
    digest = hashlib.sha256(ONNX_RECIPE.encode())
    root = Path(path)
    if not root.is_dir():
        raise RuntimeError(f"the ONNX backends need a local model folder; '{path}' is not one")
    for f in sorted(p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts):
        digest.update(str(f.relative_to(root)).encode())
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def export_onnx(model: str, folder: Path) -> Path:
    """Export a sentence-transformers model (transformer + pooling + normalise, one graph) to
    `folder`: model.onnx (fp32, BERT ops fused), model-int8.onnx, tokenizer.json, meta.json.
    Written to a sibling folder and renamed into place, so readers never see half an export."""
    import torch

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        # Eager attention traces into plain ops that onnxruntime's BERT fusion recognises.
        st = load_sentence_transformer(model, model_kwargs={"attn_implementation": "eager"}).eval()
        tokenizer = st.tokenizer
        names = list(tokenizer.model_input_names)

        class Wrapped(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.st = st

            def forward(self, *inputs):
                return self.st(dict(zip(names, inputs)))["sentence_embedding"]

        sample = tokenizer(["a short text", "a somewhat longer text for tracing the graph"], padding=True,
                           return_tensors="pt")
        axes = {n: {0: "batch", 1: "sequence"} for n in names}
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes about shapes that are constant here
            torch.onnx.export(Wrapped(), tuple(sample[n] for n in names), str(tmp / "raw.onnx"), input_names=names,
                              output_names=["sentence_embedding"], opset_version=17, dynamo=False,
                              dynamic_axes={**axes, "sentence_embedding": {0: "batch"}})
        config = st[0].auto_model.config
        fuse_and_quantize(tmp / "raw.onnx", tmp / "model.onnx", tmp / "model-int8.onnx",
                          int(getattr(config, "num_attention_heads", 0)), int(getattr(config, "hidden_size", 0)))
        tokenizer.backend_tokenizer.save(str(tmp / "tokenizer.json"))
        meta = {"model_id": canonical_model_id(model), "dim": int(st.get_embedding_dimension()
                                                                  if hasattr(st, "get_embedding_dimension")
                                                                  else st.get_sentence_embedding_dimension()),
                "max_seq_length": int(st.max_seq_length), "inputs": names, "recipe": ONNX_RECIPE,
                "pad_id": int(tokenizer.pad_token_id or 0)}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
        try:
            os.rename(tmp, folder)
        except OSError:  # another process finished the same export first: use theirs
            if not (folder / "meta.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def fuse_and_quantize(raw: Path, fp32: Path, int8: Path, num_heads: int, hidden_size: int,
                      gelu_fp32: bool = True) -> None:
    """A traced BERT graph (`raw`, deleted after) with onnxruntime's BERT ops fused (`fp32`)
    and its weights quantised to int8 per output channel (`int8`). With `gelu_fp32`, MatMuls
    fed by a GELU stay fp32: their inputs have outliers that one uint8 activation scale cannot
    hold (the embedder's cosine to torch drops from ~0.995 to ~0.989 when they are quantised)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    fused = optimize_model(str(raw), model_type="bert", opt_level=1, num_heads=num_heads, hidden_size=hidden_size)
    fused.save_model_to_file(str(fp32))
    Path(raw).unlink()
    graph = onnx.load(str(fp32), load_external_data=False).graph
    gelu_outputs = {o for n in graph.node if "Gelu" in n.op_type for o in n.output}
    keep_fp32 = [n.name for n in graph.node if n.op_type == "MatMul" and n.input[0] in gelu_outputs] if gelu_fp32 \
        else []
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=keep_fp32,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def padded_feed(encodings: list, rows, pad_id: int, inputs: list[str]) -> dict:
    """The ONNX inputs for the encodings at `rows`, padded to the longest of them only."""
    width = max(len(encodings[i].ids) for i in rows)
    feed = {"input_ids": np.full((len(rows), width), pad_id, dtype=np.int64),
            "attention_mask": np.zeros((len(rows), width), dtype=np.int64),
            "token_type_ids": np.zeros((len(rows), width), dtype=np.int64)}
    for r, i in enumerate(rows):
        e = encodings[i]
        feed["input_ids"][r, :len(e.ids)] = e.ids
        feed["attention_mask"][r, :len(e.ids)] = 1
        feed["token_type_ids"][r, :len(e.ids)] = e.type_ids
    return {k: feed[k] for k in inputs}


def onnx_folder(model: str, cache_dir: Path | None = None) -> Path:
    """The cached ONNX export of a model, made on first use."""
    path = resolve_model(model)
    folder = Path(cache_dir or cache_home() / "onnx") / model_fingerprint(path)
    if not (folder / "meta.json").exists():
        try:
            export_onnx(model, folder)
        except Exception as exc:
            raise RuntimeError(f"cannot export '{model}' to ONNX in {folder}: {exc}") from exc
    return folder


class OnnxEmbedder(BaseEmbedder):
    """The model exported to ONNX and run with onnxruntime: same interface as `Embedder`.
    Texts are tokenised with the model's own fast tokenizer (same ids, same truncation) and
    batched by length, so each batch is padded only to its longest text.

    onnx-int8 quantises activations with one scale per batch, so a text's vector moves a
    little with its batch-mates (cosine >= 0.995 to the same text embedded alone); batch
    size 1 would make it exact at ~20% less throughput."""

    def __init__(self, model: str = DEFAULT_MODEL, backend: str = "onnx-int8", cache_dir: Path | None = None,
                 threads: int | None = None):
        if backend not in ("onnx", "onnx-int8"):
            raise ValueError(f"unknown ONNX backend '{backend}' (choose onnx or onnx-int8)")
        offline_env()
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = onnx_folder(model, cache_dir)
        meta = json.loads((folder / "meta.json").read_text())
        self.backend, self.folder = backend, folder
        self.model_id, self.dim, self.max_seq_length = meta["model_id"], int(meta["dim"]), int(meta["max_seq_length"])
        self._counter = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._counter.no_padding()
        self._counter.no_truncation()
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(self.max_seq_length)
        self._pad_id = int(meta.get("pad_id", 0))
        options = session_options(threads)
        name = "model-int8.onnx" if backend == "onnx-int8" else "model.onnx"
        self.session = ort.InferenceSession(str(folder / name), options, providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self.session.get_inputs()]

    def count_tokens(self, text: str) -> int:
        """Length in the model's own tokenizer, special tokens included."""
        return len(self._counter.encode(text).ids)

    def batch_plan(self, texts: list[str], batch_size: int = 32, encodings=None) -> list[list[int]]:
        """The batches `encode` makes: positions by decreasing token length (stable), cut
        every batch_size. (Ray embedding sends these same batches to its actors.)"""
        encodings = encodings or self._tokenizer.encode_batch(list(texts))
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
        return [order[a:a + batch_size].tolist() for a in range(0, len(order), batch_size)]

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(texts), desc="Batches", unit="text")
        for rows in self.batch_plan(texts, batch_size, encodings):
            vectors = self.session.run(None, padded_feed(encodings, rows, self._pad_id, self._inputs))[0]
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            out[rows] = vectors / np.maximum(norms, 1e-12)
            if bar is not None:
                bar.update(len(rows))
        if bar is not None:
            bar.close()
        return out
