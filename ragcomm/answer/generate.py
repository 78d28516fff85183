"""A fluent answer from a language model, every sentence checked against the passages it cites.

    generator = OpenAIGenerator(answerer, LLMConfig("http://127.0.0.1:8080/v1", "smollm2"))
    answer = generator.ask("what makes a good commissioning manager?")
    answer.generated.sentences   # each sentence: supported or not, its evidence, how strongly
    answer.generated.fallback    # True: too little was supported, the extractive answer is shown

    for event in generator.stream(question):   # Token(text) as they come, Checked(i, support)
        ...                                     # as each sentence completes, then the Answer

Any OpenAI-compatible chat endpoint works (llama.cpp's server, Ollama, vLLM, a hosted one):
the passages the extractive answerer retrieved go into the prompt numbered as the sources
panel numbers them, and the model is asked for short sentences each ending with its [n].
Each sentence is held to the support check (support.py); a sentence citing nothing, or a
passage that does not exist, is unsupported. When fewer than MIN_KEPT of the sentences are
supported, or the endpoint is down, slow or answers nonsense, the extractive answer is shown
instead and `note` says why. When the extractive answerer abstains, no model is asked.

The key comes from RAGCOMM_LLM_API_KEY, never from the command line or a file in the repository.
The HTTP client is the standard library's, with one deadline for the whole answer.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import socket
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Iterator

from ..types import Answer, Citation, Generation, Hit, SentenceSupport
from .support import RULE, Passage, Rule, check_claims, make_passage, split_claims

API_KEY_ENV = "RAGCOMM_LLM_API_KEY"
MIN_KEPT = 0.5  # share of the generated sentences that must be supported, else the fallback
MAX_SENTENCES = 8  # reading stops here: a model that rambles on is not answering
CONNECT_TIMEOUT = 10.0
MAX_ERROR_BODY = 2000

SYSTEM_PROMPT = (
    "You answer questions about NHS commissioning documents using only the numbered passages you are given. "
    "Write two to four short sentences. End every sentence with the number of the passage it comes from in "
    "square brackets, for example: Managers had no authority over GPs [2]. Keep the passages' own words and "
    "numbers; add nothing that the passages do not say. If the passages do not answer the question, write "
    "only: The documents do not say.")
DECLINED = re.compile(r"\b(documents|passages?) (do|does) not (say|answer|mention)|\bnot (mentioned|stated)\b"
                      r"|\bno information\b", re.I)


def fallback_note(reason: str) -> str:
    """What the answer says when the extractive answer is shown instead of the model's."""
    return f"The generated answer was not used: {reason}. This is the extractive answer, quoted from the documents."


class GenerationError(RuntimeError):
    """The endpoint could not be used: down, slow, refused or answered nonsense."""


@dataclass
class LLMConfig:
    """An OpenAI-compatible chat endpoint and how to ask it."""
    url: str  # base URL as OpenAI clients take it (http://127.0.0.1:8080/v1), or the full .../chat/completions
    model: str
    timeout: float = 60.0  # seconds for the whole answer, first byte to last
    max_tokens: int = 300
    temperature: float = 0.0
    extra: dict = field(default_factory=dict)  # more request fields, e.g. llama.cpp's "grammar"
    rule: Rule = RULE
    min_kept: float = MIN_KEPT

    def __post_init__(self):
        parts = urllib.parse.urlsplit(self.url or "")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"--llm-url must be an http(s) URL such as http://127.0.0.1:8080/v1, not '{self.url}'")
        if not self.model or not self.model.strip():
            raise ValueError("--llm-model is required with --generator openai (the endpoint's model name)")
        if not self.timeout > 0 or self.max_tokens < 1:
            raise ValueError("the model's timeout must be positive and max_tokens at least 1")

    @property
    def endpoint(self) -> str:
        url = self.url.rstrip("/")
        return url if url.endswith("/chat/completions") else url + "/chat/completions"

    @property
    def shown_url(self) -> str:
        """The endpoint without any user:password@ part, for messages."""
        parts = urllib.parse.urlsplit(self.endpoint)
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


# ---------------------------------------------------------------- the endpoint

def chat_stream(config: LLMConfig, messages: list[dict]) -> Iterator[str]:
    """The model's reply as it streams, piece by piece (OpenAI server-sent events; a plain
    JSON reply is taken whole). GenerationError when the endpoint is down, answers an error,
    or has not finished within config.timeout seconds."""
    parts = urllib.parse.urlsplit(config.endpoint)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    body = json.dumps({**config.extra, "model": config.model, "messages": messages, "stream": True,
                       "max_tokens": config.max_tokens, "temperature": config.temperature}).encode()
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    key = os.environ.get(API_KEY_ENV, "").strip()
    if key:
        headers["Authorization"] = f"Bearer {key}"
    deadline = time.monotonic() + config.timeout
    where = config.shown_url
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = connection_class(parts.hostname, parts.port, timeout=min(CONNECT_TIMEOUT, config.timeout))
    try:
        try:
            conn.request("POST", path, body, headers)
            sock = conn.sock
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            response = conn.getresponse()
        except (TimeoutError, socket.timeout):
            raise GenerationError(f"the language model at {where} did not answer within {config.timeout:g} s") \
                from None
        except OSError as exc:
            raise GenerationError(f"cannot reach the language model at {where} "
                                  f"({exc.strerror or exc.__class__.__name__})") from None
        if response.status != 200:
            raise GenerationError(f"the language model at {where} answered HTTP {response.status}: "
                                  f"{error_message(response.read(MAX_ERROR_BODY))}")
        kind = response.getheader("Content-Type", "")
        try:
            if "text/event-stream" not in kind:
                sock.settimeout(max(0.001, deadline - time.monotonic()))
                yield reply_content(json.loads(response.read()))
                return
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                sock.settimeout(left)
                line = response.readline()
                if not line:
                    return
                piece = event_content(line.decode("utf-8", errors="replace").strip())
                if piece is None:
                    return
                if piece:
                    yield piece
        except (TimeoutError, socket.timeout):
            raise GenerationError(f"the language model at {where} did not finish within {config.timeout:g} s") \
                from None
        except (ValueError, KeyError, IndexError, TypeError):
            raise GenerationError(f"the language model at {where} sent a reply that is not an OpenAI chat "
                                  "completion") from None
        except (OSError, http.client.HTTPException) as exc:
            raise GenerationError(f"the connection to the language model at {where} broke ({exc})") from None
    finally:
        conn.close()


def event_content(line: str) -> str | None:
    """The text of one server-sent event line: '' for lines without text, None at [DONE].

    >>> event_content('data: {"choices": [{"delta": {"content": "GPs"}}]}')
    'GPs'
    >>> event_content("data: [DONE]") is None, event_content(": keep-alive")
    (True, '')
    """
    if not line.startswith("data:"):
        return ""
    data = line[5:].strip()
    if data == "[DONE]":
        return None
    event = json.loads(data)
    if "error" in event:
        raise GenerationError(f"the language model reported an error: {error_message(json.dumps(event).encode())}")
    choices = event.get("choices") or [{}]
    return (choices[0].get("delta") or {}).get("content") or ""


def reply_content(reply: dict) -> str:
    return reply["choices"][0]["message"]["content"] or ""


def error_message(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace").strip()
    try:
        error = json.loads(text).get("error", text)
        text = error.get("message", str(error)) if isinstance(error, dict) else str(error)
    except (ValueError, AttributeError):
        pass
    return " ".join(text.split())[:300] or "(no message)"


# ---------------------------------------------------------------- the prompt

def build_messages(question: str, hits: list[Hit], history: list[str] | None = None) -> list[dict]:
    """System instructions, then the passages numbered [1]..[k] (as the sources panel numbers
    them), the earlier questions of the conversation, and the question."""
    blocks = []
    for n, hit in enumerate(hits, start=1):
        place = hit.title + (f" - {hit.section}" if hit.section and hit.section != hit.title else "")
        blocks.append(f"Passage [{n}], from {place}:\n{' '.join(hit.text.split())}")
    earlier = [h for h in history or [] if h and h.strip()]
    context = ("Earlier questions in this conversation:\n" + "\n".join(f"- {h}" for h in earlier) + "\n\n") \
        if earlier else ""
    user = ("Passages:\n\n" + "\n\n".join(blocks) + f"\n\n{context}Question: {question}\n\n"
            "Answer in short sentences, each ending with its passage number in square brackets.")
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


# ---------------------------------------------------------------- the generator

def distinct(claims: list) -> list:
    """Claims without repeats (small models loop)."""
    seen, out = set(), []
    for c in claims:
        key = " ".join(c.text.lower().split())
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


@dataclass
class Token:
    text: str


@dataclass
class Checked:
    index: int  # the sentence's position in the answer
    support: SentenceSupport


class OpenAIGenerator:
    """Answers with a language model over the extractive answerer's retrieval."""

    name = "openai"

    def __init__(self, answerer, config: LLMConfig):
        self.answerer = answerer
        self.config = config
        self._passages: dict[str, Passage] = {}

    def ask(self, question: str, k: int = 5, mode: str | None = None, filters: dict | None = None,
            fusion: str | None = None, history: list[str] | None = None) -> Answer:
        answer = None
        for event in self.stream(question, k=k, mode=mode, filters=filters, fusion=fusion, history=history):
            answer = event
        return answer

    def stream(self, question: str, k: int = 5, mode: str | None = None, filters: dict | None = None,
               fusion: str | None = None, history: list[str] | None = None) -> Iterator[Token | Checked | Answer]:
        """Token as the model writes, Checked as each sentence completes, and last the Answer."""
        started = time.monotonic()
        fallback = self.answerer.ask(question, k=k, mode=mode, filters=filters, fusion=fusion, history=history)
        generation = Generation(self.name, self.config.model, "")
        if fallback.abstained:
            generation.fallback = True
            generation.reason = "the passages are too far from the question, so no model was asked"
            fallback.generated = generation
            yield fallback
            return
        hits = fallback.hits
        passages = [self.passage(n, hit) for n, hit in enumerate(hits, start=1)]
        output, checked = "", 0
        try:
            for piece in chat_stream(self.config, build_messages(question, hits, history)):
                output += piece
                yield Token(piece)
                written = split_claims(re.sub(r"\[[^\]]*$", "", output))[:-1]  # not the one being written
                claims = distinct(written)
                if len(claims) > checked:
                    for i, support in enumerate(self.check(claims[checked:], passages), start=checked):
                        yield Checked(i, support)
                    checked = len(claims)
                if len(written) >= MAX_SENTENCES:
                    break
        except GenerationError as exc:
            generation.output = output
            generation.seconds = round(time.monotonic() - started, 3)
            yield self.fall_back(fallback, generation, str(exc))
            return
        generation.output = output
        claims = distinct(split_claims(output))[:MAX_SENTENCES]
        generation.sentences = self.check(claims, passages)
        for i in range(checked, len(claims)):
            yield Checked(i, generation.sentences[i])
        generation.seconds = round(time.monotonic() - started, 3)
        kept = generation.kept
        if not claims:
            yield self.fall_back(fallback, generation, "the model wrote nothing")
        elif kept == 0 and DECLINED.search(output):
            yield self.fall_back(fallback, generation, "the model found no answer in the passages")
        elif kept == 0 or kept < self.config.min_kept * len(claims):
            yield self.fall_back(fallback, generation, f"only {kept} of its {len(claims)} sentences are supported "
                                 "by the passages they cite")
        else:
            yield self.generated_answer(fallback, generation, hits)

    def passage(self, number: int, hit: Hit) -> Passage:
        """The hit as passage [number], its sentence vectors cached by chunk."""
        cached = self._passages.get(hit.chunk_id)
        if cached is None or cached.text != hit.text:
            if len(self._passages) > 4096:
                self._passages.clear()
            cached = make_passage(0, hit.chunk_id, hit.text, self.answerer.embedder.encode, self.analyzer)
            self._passages[hit.chunk_id] = cached
        return Passage(number, cached.chunk_id, cached.text, cached.spans, cached.vectors, cached.terms)

    @property
    def analyzer(self) -> str:
        return self.answerer.retriever.index.lexical.analyzer

    def check(self, claims, passages) -> list[SentenceSupport]:
        return check_claims(claims, passages, self.answerer.embedder.encode, self.config.rule, self.analyzer)

    @staticmethod
    def fall_back(answer: Answer, generation: Generation, reason: str) -> Answer:
        generation.fallback, generation.reason = True, reason
        answer.generated = generation
        answer.note = " ".join(filter(None, [fallback_note(reason), answer.note]))
        return answer

    @staticmethod
    def generated_answer(extractive: Answer, generation: Generation, hits: list[Hit]) -> Answer:
        """The supported sentences with their markers; each cites its evidence, verbatim."""
        parts, citations = [], []
        for s in generation.sentences:
            if not s.supported:
                continue
            parts.append(f"{s.sentence} {''.join(f'[{n}]' for n in s.markers)}")
            hit = hits[s.marker - 1]
            a, b = s.passage_start, s.passage_end
            citations.append(Citation(s.marker, hit.doc_id, hit.chunk_id, hit.source, hit.text[a:b], hit.start + a,
                                      hit.start + b, a, b, s.similarity, s.similarity, s.coverage))
        return Answer(extractive.question, extractive.query, " ".join(parts), False, citations, sources=list(hits),
                      hits=hits, evidence=extractive.evidence, threshold=extractive.threshold, note=extractive.note,
                      generated=generation, corrected=extractive.corrected)
