"""Reports of an evaluation: a plain-text table, Markdown, a Recall@k plot, TREC run files."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from ..extras import require
from .grid import Evaluation
from .metrics import CURVE_KS
from .trec import write_trec_run

def table(evaluation: Evaluation) -> str:
    """A plain-text table, one row per configuration."""
    head = ["configuration", *evaluation.metrics, "p50 ms", "p95 ms", "p vs best"]
    rows = []
    for r in evaluation.results:
        mark = "*" if r is evaluation.best else ""
        p = "best" if r is evaluation.best else f"{r.significance['p_randomisation']:.3f}"
        rows.append([r.config.name + mark, *(f"{r.metrics[m]:.4f}" for m in evaluation.metrics),
                     f"{r.latency_ms['p50']:.1f}", f"{r.latency_ms['p95']:.1f}", p])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = ["  ".join(str(x).ljust(w) if i == 0 else str(x).rjust(w) for i, (x, w) in enumerate(zip(row, widths)))
             for row in [head, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    out = "\n".join(lines)
    out += (f"\n\n{evaluation.queries} queries, {evaluation.name}. * best by {evaluation.primary}; p: paired "
            f"randomisation test of {evaluation.primary} against it (10,000 trials).")
    if evaluation.abstention:
        out += "\n\nAbstention (answerable vs unanswerable, signal: highest dense cosine among candidates):"
        for name, a in evaluation.abstention.items():
            out += (f"\n  {name}: AUROC {a['auroc']:.3f}; threshold {a['threshold']:.3f} answers "
                    f"{a['answerable_answered']:.0%} of answerable, abstains on {a['unanswerable_abstained']:.0%} "
                    f"of unanswerable")
    for note in evaluation.notes:
        out += f"\nnote: {note}"
    return out


def markdown(evaluation: Evaluation) -> str:
    head = ["configuration", *evaluation.metrics, "p50 ms", "p95 ms", "p vs best"]
    lines = [f"## {evaluation.name}", "", f"{evaluation.queries} queries; best by {evaluation.primary}: "
             f"**{evaluation.best.config.name}**; p = paired randomisation test against it.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in evaluation.results:
        name = f"**{r.config.name}**" if r is evaluation.best else r.config.name
        p = "—" if r is evaluation.best else f"{r.significance['p_randomisation']:.3f}"
        lines.append("| " + " | ".join([name, *(f"{r.metrics[m]:.4f}" for m in evaluation.metrics),
                                        f"{r.latency_ms['p50']:.1f}", f"{r.latency_ms['p95']:.1f}", p]) + " |")
    if any(r.doc_metrics for r in evaluation.results):
        lines += ["", "Document level (a document counts when its document is retrieved):", "",
                  "| configuration | " + " | ".join(evaluation.metrics) + " |", "|" + "---|" * (1 + len(evaluation.metrics))]
        for r in evaluation.results:
            lines.append("| " + " | ".join([r.config.name, *(f"{r.doc_metrics[m]:.4f}" for m in evaluation.metrics)]) + " |")
    if evaluation.abstention:
        lines += ["", "Abstention (signal: highest dense cosine among the candidates):", "",
                  "| configuration | AUROC | threshold | answerable answered | unanswerable abstained |", "|---|---|---|---|---|"]
        for name, a in evaluation.abstention.items():
            lines.append(f"| {name} | {a['auroc']:.3f} | {a['threshold']:.3f} | {a['answerable_answered']:.2f} | "
                         f"{a['unanswerable_abstained']:.2f} |")
    lines += [f"- {note}" for note in evaluation.notes]
    return "\n".join(lines) + "\n"


def plot_recall(evaluations: list[Evaluation], path) -> None:
    """Recall@k for k = 1..100, one line per configuration (one panel per evaluation)."""
    matplotlib = require("matplotlib", "bench")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(evaluations), figsize=(7 * len(evaluations), 5), squeeze=False)
    for ax, evaluation in zip(axes[0], evaluations):
        for r in evaluation.results:
            ax.plot(CURVE_KS, r.curve, label=r.config.name)
        ax.set_xscale("log")
        ax.set_xlabel("k")
        ax.set_ylabel("Recall@k")
        ax.set_title(Path(evaluation.name).name)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def save_runs(evaluation: Evaluation, folder) -> list[Path]:
    """TREC run files, one per configuration (documents for BEIR, passages for the gold set)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    prefix = Path(evaluation.name).stem if evaluation.kind == "gold" else Path(evaluation.name).name
    paths = []
    for r in evaluation.results:
        tag = re.sub(r"[^\w.@+-]+", "_", r.config.name)
        path = folder / f"{prefix}.{tag}.run"
        write_trec_run(r.doc_ranked if evaluation.kind == "beir" else r.ranked, path, tag)
        paths.append(path)
    return paths


def log_stderr(message: str) -> None:
    print(message, file=sys.stderr)
