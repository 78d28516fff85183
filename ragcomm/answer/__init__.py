"""Answers: extractive (extractive.py, the default), follow-ups (followup.py), and the
abstention threshold (calibration.py). A new answer generator takes a question and a
Retriever's hits and returns an `Answer` (types.py) whose every sentence is cited.

Generators by name (generators.py): "extractive", and "openai" (generate.py: a language
model's answer, each sentence checked by support.py; answer/llamacpp.py serves a small local
model for tests). They are imported from their modules, not here, to keep this import light."""
from ..types import Answer, Citation
from .calibration import DEFAULT_THRESHOLD, load_threshold
from .extractive import ABSTAIN_TEXT, Answerer, Candidate, select_sentences
from .followup import is_follow_up, standalone_queries, standalone_query

__all__ = ["ABSTAIN_TEXT", "DEFAULT_THRESHOLD", "Answer", "Answerer", "Candidate", "Citation", "is_follow_up",
           "load_threshold", "select_sentences", "standalone_queries", "standalone_query"]
