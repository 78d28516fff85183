"""The reader: a cross-encoder that reads the question and a sentence together (base.py).

    reader = get_reader()                     # the one shipped in the package (model/)
    reader.score(question, sentences)         # logits; above 0 reads as "this sentence answers"
    get_reader("path/to/folder")              # an exported reader folder (onnx.py), or a
                                              # sentence-transformers CrossEncoder folder (sbert.py)
    get_reader("default,path/to/folder")      # an ensemble: the mean of their logits (ensemble.py)
    get_reader("none")                        # None: answer without a reader
    get_reader(cache=READER_CACHE)            # remembering the last pairs it read (cache.py)

The shipped model is trained here (train.py, `ragcomm train-reader`) on public QA data
(pairs.py, train/qa/) and the gold tune split; its card is model/MODEL_CARD.md.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .base import Reader
from .cache import READER_CACHE, CachedReader
from .ensemble import SEPARATOR, EnsembleReader

SHIPPED = Path(__file__).resolve().parent / "model"
DEFAULT_READER = "default"
NONE = ("none", "off", "")


def shipped_available() -> bool:
    return (SHIPPED / "model-int8.onnx").is_file() and (SHIPPED / "meta.json").is_file()


def get_reader(name: str = DEFAULT_READER, backend: str = "onnx-int8", cache: int = 0) -> Reader | None:
    """A reader by name: 'default' (the shipped one; None if this checkout has none), 'none',
    an exported reader folder (meta.json + model-int8.onnx), a CrossEncoder folder, or several
    of these separated by commas (an ensemble);
    remembering the scores of its last `cache` pairs (cache.py: the server does, with
    READER_CACHE; evaluation and benchmarks read every pair, so their timings are honest)."""
    name = (name or "").strip()
    if name.lower() in NONE:
        return None
    reader = load_reader(name, backend)
    return CachedReader(reader, cache) if reader is not None and cache > 0 else reader


@lru_cache(maxsize=4)
def load_reader(name: str, backend: str) -> Reader | None:
    """The model itself, loaded once per process (name and backend as get_reader's)."""
    if SEPARATOR in name:
        parts = [part.strip() for part in name.split(SEPARATOR) if part.strip()]
        readers = [load_reader(part, backend) for part in parts]
        if any(r is None for r in readers):
            return None
        return readers[0] if len(readers) == 1 else EnsembleReader(readers)
    if name == DEFAULT_READER:
        if not shipped_available():
            return None
        from .onnx import OnnxReader

        return OnnxReader(SHIPPED, backend)
    path = Path(name)
    if (path / "meta.json").is_file():
        from .onnx import OnnxReader

        return OnnxReader(path, backend)
    from .sbert import CrossEncoderReader

    return CrossEncoderReader(name)


__all__ = ["DEFAULT_READER", "READER_CACHE", "Reader", "SHIPPED", "get_reader", "shipped_available"]
