"""Retrieved passages → a cited answer: extractive by default, generative when configured.

The extractive answer quotes the 2–5 best sentences verbatim, each followed by the number of
the passage it comes from. It abstains when the evidence is weak (threshold calibrated on the
fixture dev split); when the question is about a council, year or kind of document the corpus
does not hold; when it asks for a date, figure, amount or post holder that none of the top
passages gives (answer_type.py); and — with a different message — when the filters exclude
every document.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import replace
from typing import Sequence

from assistant.answer_type import gives, name_sentence, passage_gives
from assistant.boilerplate import standard_text
from assistant.lexical import stems
from assistant.query import CorpusFacts, Query, corpus_facts
from assistant.retrieval import RetrievalResult, Retriever
from assistant.settings import Settings
from assistant.store import IndexStore
from assistant.types import Answer, Filters, Passage

RELATED = "The closest passages are listed below as possibly related."
NO_ANSWER = ("The corpus does not answer this question. The closest passages are listed below "
             "as possibly related; check them before relying on them.")
_MARKER = re.compile(r"\[(\d{1,2})\]")


def ask(query: Query, store: IndexStore, settings: Settings | None = None,
        filters: Filters | None = None, k: int | None = None, retriever: Retriever | None = None,
        generator=None) -> Answer:
    """Answer an analysed question from ``store``. ``generator`` overrides the configured LLM."""
    settings = settings or Settings()
    asked_filters = filters or Filters()
    filters = scoped(query, asked_filters, settings)
    retriever = retriever or Retriever(store, settings)
    # quotes come from the council asked about; whether the corpus answers at all is judged on
    # the evidence the question's own filters allow (until answerability is calibrated for
    # scoped questions, issue "Answers that answer")
    result = retriever.search(query, filters, k, evidence_filters=asked_filters)
    base = Answer(question=query.text, text="", abstained=True, passages=result.passages, citations=(),
                  index_version=store.version, filters=filters, confidence=result.confidence)
    facts = corpus_facts(store)
    refusal = _refusal(query, result, facts, settings)
    if refusal:
        reason, text = refusal
        return replace(base, reason=reason, text=text)
    unknown = ", ".join(query.unknown_names)
    councils = [c.lower() for c in query.councils]
    standard = standard_text(store, settings)
    answer = extractive_answer(query, result, settings, councils, facts.registry.name_words, standard)
    notices = [f"The documents never mention {unknown}; check the quotes answer it." if unknown else "",
               _councils_notice(query, answer, filters)]
    answer = replace(answer, index_version=store.version, filters=filters, confidence=result.confidence,
                     notice=" ".join(n for n in notices if n))
    llm = generator if generator is not None else (
        OpenAICompatibleGenerator.from_settings(settings) if settings.answer.llm_url else None)
    if llm is not None:
        return generative_answer(query.text, answer, llm)
    return answer


def _councils_notice(query: Query, answer: Answer, filters: Filters) -> str:
    """A question naming no council, answered from several councils' documents: say so and
    offer the comparison (each passage's council is in its reference)."""
    cited = sorted({answer.passages[n - 1].meta.council for n in answer.citations})
    if query.councils or filters.council or len(cited) < 2:
        return ""
    return (f"The quotes come from {len(cited)} councils ({', '.join(cited)}); to see them side by "
            f"side, ask \"{query.text.rstrip('?. ')} at each council?\"")


def scoped(query: Query, filters: Filters, settings: Settings) -> Filters:
    """A question about one council is answered from that council's documents only (a filter,
    not a boost), unless a council filter is already set or scoping is switched off."""
    if settings.retrieval.council_scope and not filters.council and len(query.councils) == 1:
        return replace(filters, council=query.councils[0])
    return filters


def _refusal(query: Query, result: RetrievalResult, facts: CorpusFacts,
             settings: Settings) -> tuple[str, str] | None:
    """(reason, message) when the corpus cannot answer ``query``, else None."""
    if result.reason == "filtered_out":
        return "filtered_out", ("No document matches the filters you set, so nothing was searched. "
                                "Widen or remove a filter (council, document type, year).")
    held = facts.registry.held
    if query.unknown_councils and not query.councils:
        return "unknown_council", (f"The corpus holds no documents about {', '.join(query.unknown_councils)}; "
                                   f"it covers {', '.join(held)}. {RELATED}")
    if query.mentioned_only and not query.councils:
        # the documents mention the council (a partner, a peer's own council) but no peer team
        # reviewed it
        return "unknown_council", (
            f"The corpus holds no peer challenge documents about {', '.join(query.mentioned_only)}, "
            f"which its documents only mention in passing; it covers {' and '.join(held)}. {RELATED}")
    unknown = ", ".join(query.unknown_names)
    if unknown and result.confidence < settings.answer.unknown_name_threshold:
        # a name the corpus never uses, and only middling evidence: say so rather than guess
        return "unknown_name", f"The documents never mention {unknown}, so they cannot answer this. {RELATED}"
    if query.years and len(query.unknown_years) == len(query.years):
        years = ", ".join(str(y) for y in query.unknown_years)
        return "unknown_year", f"No document in the corpus covers {years}. {RELATED}"
    if query.missing_doc_types:
        kinds, named = " or ".join(query.missing_doc_types), " or ".join(query.councils)
        return "unknown_document", (f"The corpus holds no {kinds} of {named}, so it cannot say what one "
                                    f"found. {RELATED}")
    return _evidence_refusal(query, result, facts, settings)


def _evidence_refusal(query: Query, result: RetrievalResult, facts: CorpusFacts,
                      settings: Settings) -> tuple[str, str] | None:
    expected = query.expected
    councils = [c.lower() for c in query.councils]
    given = bool(expected) and any(
        passage_gives(_sentence_texts(p), expected, councils, facts.registry.name_words)
        for p in result.passages[:settings.answer.answer_type_passages])
    # A passage naming the holder of the very post asked about answers a terse "county council
    # leader in 2022?" even when its similarity to so short a question is low.
    named_holder = given and expected.kind == "post_holder"
    if not result.passages or (result.confidence < settings.answer.abstain_threshold and not named_holder):
        return "no_evidence", NO_ANSWER
    if expected and not given:
        # e.g. "How much did the council pay the LGA?" finds passages about the LGA and the
        # council, none of which states an amount
        return "not_stated", (f"The closest passages do not give {expected.label}, so the documents do "
                              "not seem to answer this. They are listed below as possibly related.")
    return None


def _sentence_texts(passage: Passage) -> list[str]:
    chunk = passage.chunk
    return [chunk.text[s.start - chunk.start:s.end - chunk.start] for s in chunk.sentences]


def extractive_answer(query: Query, result: RetrievalResult, settings: Settings,
                      councils: Sequence[str] = (), not_names: frozenset[str] = frozenset(),
                      standard: frozenset[tuple[str, int]] = frozenset()) -> Answer:
    """Quote the best sentences of the top passages, each with its passage number; never a
    ``standard`` sentence ((doc_id, start) of text that recurs across councils' documents).

    With an ``expected`` kind of answer ("when …?" → a date), sentences that give one are
    preferred, so "When did the peers visit?" quotes the sentence with the date.
    """
    cfg = settings.answer
    question, expected = query.text, query.expected
    q_stems = set(stems(question))
    candidates = []  # (score, passage index, sentence index, text)
    name_rows: dict[tuple[int, int], int] = {}  # post sentence → the sentence naming its holder
    for p_index, passage in enumerate(result.passages):
        texts = _sentence_texts(passage)
        rank_bonus = cfg.rank_bonus * (len(result.passages) - p_index) / len(result.passages)
        typed = {i for i in range(len(texts)) if expected and gives(texts, i, expected, councils, not_names)}
        if expected and expected.kind == "post_holder":  # the post and the name may be two rows
            names = {i: j for i in typed for j in [name_sentence(texts, i, not_names)] if j is not None}
            name_rows.update({(p_index, i): j for i, j in names.items()})
            typed |= set(names.values())
        for s_index, text in enumerate(texts):
            if len(text) < cfg.min_sentence_chars or not re.search(r"[a-z]{3}", text) \
                    or text.rstrip().endswith(":"):
                continue  # headings, labels, fragments and lead-ins ("… are:") answer nothing
            if (passage.meta.doc_id, passage.chunk.sentences[s_index].start) in standard:
                continue  # the LGA's standard text says nothing about this council
            dense = passage.sentence_scores[s_index] if s_index < len(passage.sentence_scores) else 0.0
            words = set(stems(text))
            lexical = len(q_stems & words) / max(1, len(q_stems))
            bonus = cfg.answer_type_bonus if s_index in typed else 0.0
            candidates.append((dense + cfg.lexical_weight * lexical + rank_bonus + bonus, p_index, s_index, text))
    if not candidates:
        candidates = [(p.score, i, -1, p.chunk.text) for i, p in enumerate(result.passages)]
    candidates.sort(key=lambda c: c[0], reverse=True)
    # Fix (tests): overlapping chunks share sentences, so one sentence could be quoted twice
    # (once per passage); keep only its best-scored occurrence.
    first_by_text: dict[str, tuple] = {}
    for candidate in candidates:
        first_by_text.setdefault(candidate[3], candidate)
    candidates = list(first_by_text.values())
    best = candidates[0][0]
    chosen = [c for c in candidates if c[0] >= best - cfg.quote_window][: cfg.max_quotes]
    if len(chosen) < cfg.min_quotes:
        chosen = candidates[: cfg.min_quotes]
    if name_rows:
        # "Post: Leader of the Council" answers nothing without the "Name: …" row beside it
        by_position = {(c[1], c[2]): c for c in candidates}
        for _, p_index, s_index, _ in list(chosen):
            partner = by_position.get((p_index, name_rows.get((p_index, s_index), -1)))
            if partner is not None and partner not in chosen and len(chosen) < cfg.max_quotes + 1:
                chosen.append(partner)
    chosen.sort(key=lambda c: (c[1], c[2]))
    quoted: dict[int, list[str]] = {}
    lines = []
    for _, p_index, _, text in chosen:
        quoted.setdefault(p_index, []).append(text)
        lines.append(f"{text} [{p_index + 1}]")
    passages = tuple(replace(p, quoted=tuple(quoted.get(i, ()))) for i, p in enumerate(result.passages))
    return Answer(question=question, text="\n".join(lines), abstained=False, passages=passages,
                  citations=tuple(sorted(i + 1 for i in quoted)), mode="extractive")


# ---------------------------------------------------------------- generative mode

class GenerationError(Exception):
    pass


class OpenAICompatibleGenerator:
    """Client for an OpenAI-compatible ``/chat/completions`` endpoint (llama.cpp, Ollama, vLLM…)."""

    def __init__(self, url: str, model: str = "local", key: str = "", timeout: float = 30.0):
        self.url = url.rstrip("/")
        if not self.url.endswith("/chat/completions"):
            self.url += "/chat/completions"
        self.model, self.key, self.timeout = model, key, timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAICompatibleGenerator:
        a = settings.answer
        return cls(a.llm_url, a.llm_model, a.llm_key, a.llm_timeout)

    def complete(self, messages: list[dict]) -> str:
        body = json.dumps({"model": self.model, "messages": messages, "temperature": 0}).encode()
        headers = {"Content-Type": "application/json"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = json.loads(response.read().decode("utf-8"))
            return str(payload["choices"][0]["message"]["content"])
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise GenerationError(f"no answer from {self.url} ({getattr(exc, 'reason', exc)})") from exc
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise GenerationError(f"unexpected reply from {self.url} ({exc.__class__.__name__})") from exc


SYSTEM_PROMPT = (
    "You answer questions about local government peer challenge documents using ONLY the numbered "
    "passages given. Every sentence of your answer must end with the number of the passage that "
    "supports it, like [1] or [2][3]. If the passages do not answer the question, say so. "
    "Answer in at most five sentences."
)


def build_messages(question: str, passages: tuple[Passage, ...]) -> list[dict]:
    blocks = []
    for n, p in enumerate(passages, start=1):
        where = " › ".join(p.chunk.section) or "start of document"
        blocks.append(f"[{n}] {p.meta.title} ({p.meta.council}, {p.meta.date}), {where}:\n{p.chunk.text}")
    user = "Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def check_citations(reply: str, n_passages: int) -> tuple[list[str], list[int], int]:
    """Keep sentences whose markers all point at given passages; drop the rest.

    Returns (kept sentences, cited numbers, number of sentences dropped).
    >>> check_citations("Yes [1]. Also [7]. No marker here.", 2)
    (['Yes [1].'], [1], 2)
    """
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", reply.strip()) if s.strip()]
    kept, cited, dropped = [], set(), 0
    for sentence in sentences:
        numbers = [int(m) for m in _MARKER.findall(sentence)]
        if numbers and all(1 <= n <= n_passages for n in numbers):
            kept.append(sentence)
            cited.update(numbers)
        else:
            dropped += 1
    return kept, sorted(cited), dropped


def generative_answer(question: str, extractive: Answer, generator) -> Answer:
    """Ask the language model; fall back to ``extractive`` (with a notice) on any failure."""
    try:
        reply = generator.complete(build_messages(question, extractive.passages))
    except GenerationError as exc:
        return replace(extractive, notice=f"Generative mode failed: {exc}; showing the extractive answer.")
    kept, cited, dropped = check_citations(reply, len(extractive.passages))
    if not kept:
        return replace(extractive, notice="The language model's answer cited no given passage; "
                                          "showing the extractive answer.")
    notice = f"{dropped} sentence(s) without a valid citation were removed." if dropped else ""
    passages = tuple(replace(p, quoted=()) for p in extractive.passages)
    return replace(extractive, text="\n".join(kept), citations=tuple(cited), mode="generative",
                   notice=notice, passages=passages)
