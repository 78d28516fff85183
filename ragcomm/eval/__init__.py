"""Evaluation: trec_eval metrics (metrics.py), TREC files (trec.py), test beds (datasets.py:
the gold set and BEIR folders), many configurations in one run (grid.py), paired tests
(stats.py), reports (report.py), and answer-level evaluation of any question -> Answer callable
(answers.py). Runs and qrels have ranx's shapes, {qid: {doc_id: score}}.
"""
from .answers import (AnswerEvaluation, AnswerRun, answers_table, evaluate_answers, evaluate_gold_answers,
                      split_of)
from .datasets import GoldSet, gold_set, load_beir, load_gold, locate, relevant_chunks, whole_document_chunks
from .grid import (WHOLE, Config, Evaluation, IndexCache, Result, compare_to_best,
                   configurations, evaluate_beir, evaluate_gold, grid_file, parse_bm25, run_configuration)
from .metrics import (BEIR_METRICS, CURVE_KS, GOLD_METRICS, check_metric, evaluate, mean_scores, ranks_to_run,
                      recall_curve, trec_order, truncate)
from .report import log_stderr, markdown, plot_recall, save_runs, table
from .stats import paired_t_test, randomisation_test
from .trec import read_qrels_tsv, read_trec_run, write_trec_run
from ..answer.calibration import auroc, choose_threshold, write_calibration
