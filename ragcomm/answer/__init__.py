"""Answers: extractive (extractive.py, the default), follow-ups (followup.py), the signals of
abstention (abstention.py) and the abstention model (calibration.py). A new answer generator
takes a question and a Retriever's hits and returns an `Answer` (types.py) whose every
sentence is cited.

Generators by name (generators.py): "extractive", and "openai" (generate.py: a language
model's answer, each sentence checked by support.py; answer/llamacpp.py serves a small local
model for tests). They are imported from their modules, not here, to keep this import light."""
from ..types import Answer, Citation
from .abstention import SIGNALS, AbstentionModel, CorpusProfile
from .calibration import DEFAULT_THRESHOLD, load_model, load_threshold
from .choice import Candidate, Selection, select_sentences
from .extractive import ABSTAIN_TEXT, NO_SENTENCE_TEXT, Answerer
from .sentences import passage_sentences, question_kind
from .followup import is_follow_up, standalone_queries, standalone_query

__all__ = ["ABSTAIN_TEXT", "DEFAULT_THRESHOLD", "NO_SENTENCE_TEXT", "SIGNALS", "AbstentionModel", "Answer",
           "Answerer", "Candidate", "Citation", "CorpusProfile", "Selection", "is_follow_up", "load_model",
           "load_threshold", "passage_sentences", "question_kind", "select_sentences", "standalone_queries",
           "standalone_query"]
