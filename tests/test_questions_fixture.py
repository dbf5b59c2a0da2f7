"""The fixture question set stays valid: format, coverage, and gold phrases present in the corpus."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from assistant.evaluation import _norm, load_questions
from ingest.build import prepare_document
from ingest.catalog import doc_id_for, load_catalog

FIXTURE = Path(__file__).parent / "fixtures" / "questions.yaml"
CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.fixture(scope="module")
def questions():
    return load_questions(FIXTURE)


@pytest.fixture(scope="module")
def cleaned_texts() -> dict[str, str]:
    catalog = load_catalog(CORPUS)
    return {doc_id_for(p): prepare_document(p, catalog.get(p.name, {}), "").text
            for p in sorted(CORPUS.glob("*.txt"))}


def test_set_size_and_types(questions):
    answerable = [q for q in questions if q.answerable]
    assert len(answerable) >= 80
    assert sum(not q.answerable for q in questions) >= 12
    types = Counter(q.type for q in answerable)
    assert {"fact", "theme", "cross", "disambiguation"} <= set(types)
    assert {q.split for q in questions} == {"dev", "test", "holdout"}


def test_every_document_is_covered(questions, cleaned_texts):
    gold_docs = {g.doc for q in questions for g in q.gold}
    assert gold_docs == set(cleaned_texts)


def test_every_key_phrase_occurs_in_the_cleaned_corpus(questions, cleaned_texts):
    """Chunking or cleaning changes cannot silently invalidate the gold evidence."""
    missing = [(q.id, g.doc, p) for q in questions for g in q.gold for p in g.phrases
               if _norm(p) not in _norm(cleaned_texts.get(g.doc, ""))]
    assert not missing, f"key phrases not in the cleaned text: {missing[:10]}"


def test_every_2017_report_section_is_asked_about(questions, cleaned_texts):
    from ingest.cleaning import clean
    from ingest.chunking import sections_of

    text = cleaned_texts["cambridge-city-2017-corporate-peer-challenge-report"]
    sections = sections_of(text, clean([text]).blocks)
    phrases = [_norm(p) for q in questions for g in q.gold
               if g.doc == "cambridge-city-2017-corporate-peer-challenge-report" for p in g.phrases]
    uncovered = [s.path[-1] for s in sections
                 if len(text[s.start:s.end]) > 200 and not any(p in _norm(text[s.start:s.end]) for p in phrases)]
    assert not uncovered, f"sections with no question: {uncovered}"
