"""Answer generators by name: "extractive" (sentences quoted verbatim, the default) and
"openai" (a language model behind any OpenAI-compatible endpoint, every sentence checked).

Each has `ask(question, k, mode, filters, fusion, history) -> Answer` and `stream(...)`,
which yields `Token`s and `Checked` sentences as they come (generate.py) and last the Answer.
Front ends take whatever generator they are given; the Answer says how it was made
(`Answer.generated` is None for the extractive one).
"""
from __future__ import annotations

from typing import Iterator

from ..types import Answer
from .generate import LLMConfig, OpenAIGenerator

GENERATORS = ("extractive", "openai")


class ExtractiveGenerator:
    """The extractive Answerer as a generator: its stream is the finished answer."""

    name = "extractive"

    def __init__(self, answerer):
        self.answerer = answerer

    def ask(self, question: str, **options) -> Answer:
        return self.answerer.ask(question, **options)

    def stream(self, question: str, **options) -> Iterator[Answer]:
        yield self.ask(question, **options)


def get_generator(name: str, answerer, llm: LLMConfig | None = None):
    """The generator called `name` over an extractive Answerer (whose retrieval it shares)."""
    if name == "extractive":
        return ExtractiveGenerator(answerer)
    if name == "openai":
        if llm is None:
            raise ValueError("the openai generator needs a language model: give --llm-url and --llm-model")
        return OpenAIGenerator(answerer, llm)
    raise ValueError(f"unknown generator '{name}' (choose from {', '.join(GENERATORS)})")
