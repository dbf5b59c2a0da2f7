"""The recommendations register: what peers recommended, what councils planned, what progressed.

Records are extracted by ``assistant.recommendation_records``.

Lineage (``link_records``) joins each recommendation to statements about it in later
documents of the same council that answer the same peer challenge (the same visit date, else
the council's latest report before them): an action the council planned in response, or a
progress statement. A statement giving the recommendation's number is linked to it; others
by embedding similarity: a link is "linked" only when the statement is more similar to this
recommendation than to any other and the similarity is high, else "possibly related".
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from assistant.errors import UsageError
from assistant.recommendation_records import (
    CANDIDATE,
    Link,
    Record,
    extract_corpus,
)
from assistant.settings import RegisterSettings, Settings
from assistant.store import IndexStore
from assistant.types import Document

DEFAULTS = RegisterSettings()  # link thresholds: Settings.register


# ---------------------------------------------------------------- lineage


def _later(date: str, than: str) -> bool:
    """Is ``date`` later than ``than``, compared at their common precision ("2018" > "2017-12")?"""
    n = min(len(date), len(than))
    return bool(n) and date[:n] > than[:n]


def _vector_text(record: Record) -> str:
    return (
        f"{record.text} {record.detail}".strip() if record.kind == "recommendation" else record.text
    )


def match_statements(
    sims: np.ndarray, firm: bool = True, tuning: RegisterSettings = DEFAULTS
) -> list[list[tuple[int, str, float]]]:
    """Links from a (recommendations × statements) similarity matrix, best first per row.

    (j, "linked", sim) when statement j prefers this recommendation to every other by
    ``preference`` or more, sim is within ``preference`` of the row's best, and either sim ≥
    ``linked`` or the two are each other's best match (among at least two of each) with sim
    ≥ ``mutual_linked`` (a paraphrase scores lower);
    otherwise (j, "possibly related", sim) when sim ≥ ``possibly``, at most ``max_possible``
    per row (thresholds from ``tuning``, i.e. Settings.register). With
    ``firm=False`` (the challenge cannot be confirmed) every link is "possibly related".

    >>> match_statements(np.array([[0.70, 0.45, 0.30], [0.50, 0.42, 0.20]]))
    [[(0, 'linked', 0.7), (1, 'possibly related', 0.45)], [(0, 'possibly related', 0.5), \
(1, 'possibly related', 0.42)]]
    """
    out = []
    for i, row in enumerate(sims):
        found: list[tuple[int, str, float]] = []
        for j in np.argsort(-row, kind="stable"):
            sim = float(row[j])
            if sim < tuning.possibly:
                break
            rivals = np.delete(sims[:, j], i)
            prefers = not len(rivals) or sim - float(rivals.max()) >= tuning.preference
            near_best = sim >= float(row.max()) - tuning.preference
            # each other's best match, when both had a choice: clear enough even below
            # ``linked`` (paraphrases score lower)
            choice = min(sims.shape) > 1
            mutual = choice and j == int(np.argmax(row)) and i == int(np.argmax(sims[:, j]))
            clear = sim >= tuning.linked or (mutual and sim >= tuning.mutual_linked)
            if firm and prefers and near_best and clear:
                found.append((int(j), "linked", round(sim, 3)))
            elif sum(1 for _, strength, _ in found if strength != "linked") < tuning.max_possible:
                found.append((int(j), "possibly related", round(sim, 3)))
        out.append(found)
    return out


def answered_challenges(
    documents: dict[str, Document], sources: Iterable[str]
) -> dict[str, str]:
    """doc_id → the document of recommendations it answers (``sources`` hold recommendations).

    A later document of the same council answers the report of its own peer challenge: the
    source with the same visit date when both record one, else (for a progress review, or a
    document recording no visit date) the council's latest source dated before it. So an
    action plan of 2023 answers the 2023 report, not the 2017 one, and never another
    council's.
    """
    sources = list(sources)
    answered = {}
    for doc_id, doc in documents.items():
        meta = doc.meta
        own = [
            documents[s].meta
            for s in sources
            if s != doc_id
            and documents[s].meta.council == meta.council
            and _later(meta.date, documents[s].meta.date)
        ]
        same_visit = [m for m in own if meta.visit_date and m.visit_date == meta.visit_date]
        # a review's visit date may be that of its own visit; any other document recording a
        # visit date nothing here shares speaks about a challenge the corpus does not hold
        if meta.visit_date and meta.doc_type != "progress review":
            own = same_visit
        if same_visit or own:
            answered[doc_id] = max(same_visit or own, key=lambda m: m.date).doc_id
    return answered


def _by_number(sims: np.ndarray, recs: Sequence[Record], statements: Sequence[Record]):
    """Pairs (i, j) where statement j names recommendation i's number ("Recommendation 3: …",
    row 3 of a plan); a numbered statement is kept from every other numbered recommendation."""
    pairs = []
    for j, statement in enumerate(statements):
        if not statement.number:
            continue
        for i, rec in enumerate(recs):
            if rec.number == statement.number:
                pairs.append((i, j))
            elif rec.number:
                sims[i, j] = 0.0
    return pairs


def _links_to(
    recs: Sequence[Record],
    statements: Sequence[Record],
    vectors: dict[str, np.ndarray],
    tuning: RegisterSettings,
) -> list[list[Link]]:
    """Per recommendation, its links among one later document's statements."""
    sims = (
        np.stack([vectors[r.record_id] for r in recs])
        @ np.stack([vectors[s.record_id] for s in statements]).T
    )
    numbered = _by_number(sims, recs, statements)
    rows = match_statements(sims, True, tuning)
    for i, j in numbered:  # the number says which recommendation a statement answers
        rows[i] = [(j, "linked", round(float(sims[i, j]), 3))] + [x for x in rows[i] if x[0] != j]
    out = []
    for found in rows:
        links = []
        for j, strength, sim in found:
            s = statements[j]
            status = s.status or ("reported" if s.kind == "progress statement" else "planned")
            links.append(Link(s.record_id, s.text, status, strength, sim, s.date, s.source))
        out.append(links)
    return out


def _challenges(
    records: Sequence[Record], documents: dict[str, Document]
) -> tuple[dict[str, list[Record]], list[str], dict[str, str]]:
    """(doc_id → its records, the documents holding recommendations, doc_id → the document
    of recommendations it answers: ``answered_challenges``)."""
    by_doc: dict[str, list[Record]] = {}
    for record in records:
        by_doc.setdefault(record.doc_id, []).append(record)
    sources = [d for d, own in by_doc.items() if any(r.kind == "recommendation" for r in own)]
    return by_doc, sources, answered_challenges({d: documents[d] for d in by_doc}, sources)


def link_records(
    records: Sequence[Record],
    documents: dict[str, Document],
    vectors: dict[str, np.ndarray],
    tuning: RegisterSettings = DEFAULTS,
) -> list[Record]:
    """Attach later statements (actions, rows, progress statements) to each recommendation.

    Candidates come from the council's later documents that answer this document's peer
    challenge (``answered_challenges``). A statement giving a recommendation's number is
    linked to it; others by embedding similarity (``match_statements``). A recommendation's
    status is the status of its best firm link in the latest document ("planned" for an
    action-plan item), else "possibly related", else "not mentioned".
    """
    by_doc, sources, answered = _challenges(records, documents)
    updated = {}
    for doc_id in sources:
        recs = [r for r in by_doc[doc_id] if r.kind == "recommendation"]
        links: dict[str, list[Link]] = {r.record_id: [] for r in recs}
        for later_id, later in by_doc.items():
            statements = [s for s in later if s.kind != "recommendation"]
            if answered.get(later_id) != doc_id or not statements:
                continue
            for rec, found in zip(recs, _links_to(recs, statements, vectors, tuning)):
                links[rec.record_id] += found
        for rec in recs:
            found_links = links[rec.record_id]
            updated[rec.record_id] = replace(
                rec, links=tuple(found_links), status=_summary_status(found_links)
            )
    return [updated.get(r.record_id, r) for r in records]


# What a council planned in answer to a peer challenge: the most specific targets for a
# progress review's plain sentences
_PLANNED = ("action", "action-plan row")


def settle_candidates(
    records: Sequence[Record],
    documents: dict[str, Document],
    vectors: dict[str, np.ndarray],
    tuning: RegisterSettings = DEFAULTS,
) -> list[Record]:
    """Keep the progress candidates (``recommendation_records.CANDIDATE``) that report on
    something the council was asked or planned to do; drop the rest; number the review's
    unnumbered progress statements by what they answer.

    A progress review answers a peer challenge (``answered_challenges``). Its candidates are
    matched (``match_statements``) against the council's planned actions answering the same
    challenge, or, with none, against the challenge's recommendations: each action's or
    recommendation's best firm link becomes a progress statement carrying its number, so
    lineage links it to the recommendation of that number. "General reserves have risen to
    14.4 million pounds." is kept for the action "Add 2 million pounds a year to general
    reserves …"; "The team were grateful for the time given …" links to nothing.
    """
    candidates = [r for r in records if r.kind == CANDIDATE]
    if not candidates:
        return list(records)
    by_doc, sources, answered = _challenges(records, documents)
    kept: dict[str, tuple[float, Record]] = {}
    for doc_id in dict.fromkeys(c.doc_id for c in candidates):
        source = answered.get(doc_id)
        if source is None:
            continue
        planned = [r for d, own in by_doc.items() if d != doc_id and answered.get(d) == source
                   for r in own if r.kind in _PLANNED]
        targets = planned or [r for r in by_doc[source] if r.kind == "recommendation"]
        # the review's own unnumbered statements are numbered the same way
        mine = [r for r in by_doc[doc_id] if r.kind == CANDIDATE
                or (r.kind == "progress statement" and not r.number)]
        if not targets or not mine:
            continue
        sims = (np.stack([vectors[t.record_id] for t in targets])
                @ np.stack([vectors[c.record_id] for c in mine]).T)
        for target, found in zip(targets, match_statements(sims, True, tuning)):
            best = next(((j, sim) for j, strength, sim in found if strength == "linked"), None)
            if best is None:
                continue
            j, sim = best
            if sim > kept.get(mine[j].record_id, (-1.0, None))[0]:
                kept[mine[j].record_id] = (sim, replace(mine[j], kind="progress statement",
                                                       number=target.number))
    return [kept[r.record_id][1] if r.record_id in kept else r for r in records
            if r.kind != CANDIDATE or r.record_id in kept]


def _summary_status(links: Sequence[Link]) -> str:
    firm = [link for link in links if link.strength == "linked"]
    if firm:
        latest = max(link.date for link in firm)
        return max(
            (link for link in firm if link.date == latest), key=lambda link: link.similarity
        ).status
    return "possibly related" if links else "not mentioned"


# ---------------------------------------------------------------- the register


def build_register(store: IndexStore, encoder=None) -> list[Record]:
    """Every record of every document with themes and lineage; cached on the store.

    ``encoder`` must embed into the index's space (default: the index's model).
    """
    return store.derived("register", lambda: _build_register(store, encoder))[0]


def record_vectors(store: IndexStore, encoder=None) -> dict[str, np.ndarray]:
    """Record id → the embedding lineage used (cached with the register)."""
    return store.derived("register", lambda: _build_register(store, encoder))[1]


def _embedded(encoder, records: Sequence[Record]) -> dict[str, np.ndarray]:
    """Record id → its vector: in batches when the encoder embeds many texts at once (the
    register of 1,000 documents holds ~18,000 records: 149 s one by one)."""
    texts = [_vector_text(r) for r in records]
    many = getattr(encoder, "embed_many", None)
    vectors = many(texts) if many is not None and texts else [encoder.embed_query(t) for t in texts]
    return {r.record_id: np.asarray(v, dtype=np.float32) for r, v in zip(records, vectors)}


def _build_register(
    store: IndexStore, encoder=None
) -> tuple[list[Record], dict[str, np.ndarray]]:
    from assistant.boilerplate import store_boilerplate
    from assistant.themes import index_encoder, tag_batch

    encoder = encoder or index_encoder(store)
    tuning = store.settings.register
    documents = store.documents
    standard = store_boilerplate(store)  # standard text is never a progress statement
    records = extract_corpus(documents.values(), tuning, standard)
    vectors = _embedded(encoder, records)
    # candidates are kept or dropped before anything else is worked out for them
    records = settle_candidates(records, documents, vectors, tuning)
    vectors = {r.record_id: vectors[r.record_id] for r in records}
    themes = tag_batch(
        [_vector_text(r) for r in records],
        [r.source.section for r in records],
        np.stack([vectors[r.record_id] for r in records]) if records else np.zeros((0, 1)),
        encoder,
        store.settings.themes,
    )
    records = [replace(r, themes=t) for r, t in zip(records, themes)]
    return link_records(records, documents, vectors, tuning), vectors


def select(
    records: Iterable[Record],
    council: str | None = None,
    theme: str | None = None,
    kind: str | None = None,
) -> list[Record]:
    """Records of one council / theme / kind (already resolved values)."""
    return [
        r
        for r in records
        if (council is None or r.council == council)
        and (theme is None or theme in r.themes)
        and (kind is None or r.kind == kind)
    ]


def _resolve(
    store: IndexStore, council: str | None, theme: str | None
) -> tuple[str | None, str | None]:
    from assistant.query import corpus_facts
    from assistant.themes import resolve_theme

    return (
        corpus_facts(store).registry.resolve(council) if council else None,
        resolve_theme(theme) if theme else None,
    )


def register_rows(
    store: IndexStore, council: str | None = None, theme: str | None = None, encoder=None
) -> list[dict]:
    """The register as flat rows (column name → value) for tables and CSV.

    ``council`` accepts a name or an alias ("city"); ``theme`` an id or a label.
    For an action-plan row, ``action`` is empty when the row lacks its action cell (``text``
    is then the response).
    """
    from assistant.render.tables import record_row  # rendering sits downstream of the register

    council, theme = _resolve(store, council, theme)
    return [record_row(r) for r in select(build_register(store, encoder), council, theme)]


def run_command(args, settings: Settings) -> int:
    """``peerqa recommendations [--council C] [--theme T] [--csv FILE | --json]``."""
    from assistant.render.jsonout import record_to_json
    from assistant.render.tables import record_row, register_csv
    from assistant.render.text import render_table
    from assistant.store import load_index

    csv_path, as_json = getattr(args, "csv", None), bool(getattr(args, "json", False))
    if csv_path and as_json:
        raise UsageError("Use either --csv FILE or --json, not both.")
    store = load_index(settings)
    council, theme = _resolve(store, getattr(args, "council", None), getattr(args, "theme", None))
    records = select(build_register(store), council, theme)
    if as_json:
        print(json.dumps([record_to_json(r) for r in records], ensure_ascii=False, indent=2))
    elif csv_path:
        text = register_csv([record_row(r) for r in records])
        if csv_path == "-":
            sys.stdout.write(text)
        else:
            try:
                with open(csv_path, "w", encoding="utf-8", newline="") as handle:
                    handle.write(text)
            except OSError as exc:
                raise UsageError(f"Cannot write {csv_path}: {exc.strerror}.") from exc
            print(f"Wrote {len(records)} records to {csv_path}.")
    else:
        print(render_table(records))
    return 0
