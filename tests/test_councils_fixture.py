"""The many-council fixture (tests/fixtures/councils) stays consistent with itself.

Every gold phrase must lie on one line of its raw document (for PDF and DOCX, in the text the
project's loader extracts), every corpus file must have expected metadata and vice versa, and the
set must keep the sizes and shapes that issue 11 asks for.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from assistant.evaluation import _norm, load_questions
from ingest.build import prepare_document
from ingest.catalog import doc_id_for
from ingest.loaders import load

FIXTURE = Path(__file__).parent / "fixtures" / "councils"
CORPUS = FIXTURE / "corpus"
TYPES = {"peer challenge report", "progress review", "action plan", "cabinet report", "news",
         "web page"}
ROUTES = {"answer", "comparison", "listing", "register"}
FORBIDDEN = ("'", '"', "\u2018", "\u2019", "\u201c", "\u201d", "\t", "•", "  ")


def _yaml(name: str):
    return yaml.safe_load((FIXTURE / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def raw_lines() -> dict[str, list[str]]:
    """Doc id -> lines of the raw file; binary formats go through the project's loader.

    A PDF's lines are where its layout wrapped the text, so each PDF page counts as one line
    (whitespace collapsed); a DOCX paragraph or table row is one line.
    """
    out = {}
    for path in sorted(CORPUS.iterdir()):
        if path.suffix == ".pdf":
            text = "\n".join(" ".join(page.split()) for page in load(path).pages)
        elif path.suffix == ".docx":
            text = "\n".join(load(path).pages)
        else:
            text = path.read_text(encoding="utf-8")
        out[doc_id_for(path)] = text.splitlines()
    return out


@pytest.fixture(scope="module")
def cleaned_texts() -> dict[str, str]:
    return {doc_id_for(p): prepare_document(p, {}, "").text for p in sorted(CORPUS.iterdir())}


@pytest.fixture(scope="module")
def questions():
    return load_questions(FIXTURE / "questions.yaml")


def test_counts_meet_the_issue_minimums(questions):
    answerable = [q for q in questions if q.answerable]
    assert len(answerable) >= 90
    assert sum(not q.answerable for q in questions) >= 25
    assert len(list(CORPUS.iterdir())) >= 18
    assert len(_yaml("councils.yaml")) >= 8
    suffixes = Counter(p.suffix for p in CORPUS.iterdir())
    assert suffixes[".pdf"] >= 1 and suffixes[".docx"] >= 1 and suffixes[".html"] >= 1
    assert len(load(next(CORPUS.glob("*.pdf"))).pages) >= 2  # a multi-page PDF


def test_splits_are_stratified_by_type(questions):
    for qtype in {q.type for q in questions}:
        splits = Counter(q.split for q in questions if q.type == qtype)
        total = sum(splits.values())
        assert splits["dev"] >= total * 0.4, (qtype, splits)
        if total >= 5:
            assert splits["test"] and splits["holdout"], (qtype, splits)


def test_ids_unique_and_fields_valid(questions):
    data = _yaml("questions.yaml")
    assert len({item["id"] for item in data}) == len(data)
    councils = {c["name"] for c in _yaml("councils.yaml")}
    for item in data:
        assert item["route"] in ROUTES, item["id"]
        assert item.get("council", next(iter(councils))) in councils, item["id"]
        assert item["split"] in {"dev", "test", "holdout"}, item["id"]


def test_every_gold_phrase_is_on_one_raw_line(questions, raw_lines):
    bad = []
    for q in questions:
        for g in q.gold:
            assert g.doc in raw_lines, (q.id, g.doc)
            for phrase in g.phrases:
                words = len(phrase.split())
                if (not 3 <= words <= 8 or phrase != phrase.strip()
                        or any(ch in phrase for ch in FORBIDDEN)):
                    bad.append((q.id, phrase, "form"))
                elif not any(phrase in line for line in raw_lines[g.doc]):
                    bad.append((q.id, phrase, "not on one line of " + g.doc))
    assert not bad, bad


def test_every_gold_phrase_survives_cleaning(questions, cleaned_texts):
    missing = [(q.id, g.doc, p) for q in questions for g in q.gold for p in g.phrases
               if _norm(p) not in _norm(cleaned_texts[g.doc])]
    assert not missing, missing


def test_every_document_is_asked_about(questions):
    asked = {g.doc for q in questions for g in q.gold}
    assert asked == {doc_id_for(p) for p in CORPUS.iterdir()}


def test_expected_meta_matches_the_corpus():
    meta = _yaml("expected_meta.yaml")
    files = [m["file"] for m in meta]
    assert len(files) == len(set(files))
    assert set(files) == {p.name for p in CORPUS.iterdir()}
    councils = {c["name"]: c["kind"] for c in _yaml("councils.yaml")}
    for m in meta:
        assert councils.get(m["council"]) == m["kind"], m["file"]
        assert m["type"] in TYPES, m["file"]
        assert str(m["date"]).startswith(str(m["year"])), m["file"]
        # Document dates of this corpus lie in 2022-2024; plan horizons (2030, 2040) never do.
        assert 2022 <= m["year"] <= 2024, m["file"]
        assert str(m.get("visit_date", m["date"])) <= str(m["date"]), m["file"]
        assert m["title"].strip(), m["file"]
    assert set(councils) == {m["council"] for m in meta}  # every council has documents
    assert {m["type"] for m in meta} == TYPES  # every document shape is present


def test_councils_have_distinct_names_and_aliases():
    names = [n for c in _yaml("councils.yaml") for n in [c["name"], *c.get("aliases", [])]]
    assert len(names) == len(set(names)), Counter(names).most_common(3)
    kinds = {c["kind"] for c in _yaml("councils.yaml")}
    assert {"county", "district", "city", "unitary", "metropolitan borough", "london borough",
            "royal borough"} <= kinds


def test_binary_documents_are_small():
    for path in CORPUS.glob("*"):
        if path.suffix in (".pdf", ".docx"):
            assert path.stat().st_size < 200_000, path.name


def test_expected_recommendations_are_in_text_order(cleaned_texts):
    """Each expected register record starts where the document says, in the document's order."""
    expected = _yaml("recommendations_expected.yaml")
    meta = {doc_id_for(CORPUS / m["file"]): m["council"] for m in _yaml("expected_meta.yaml")}
    counts: dict[str, Counter] = {}
    for doc, kinds in expected["documents"].items():
        text = _norm(cleaned_texts[doc])
        for kind, rows in kinds.items():
            counts.setdefault(meta[doc], Counter())[kind] += len(rows)
            positions = [text.find(_norm(row["starts"])) for row in rows]
            assert -1 not in positions, (doc, kind, rows[positions.index(-1)]["starts"])
            assert positions == sorted(positions), (doc, kind)
    assert {c: dict(k) for c, k in counts.items()} == expected["counts"]
