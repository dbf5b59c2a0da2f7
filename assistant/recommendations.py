"""The recommendations register: what peers recommended, what councils planned, what progressed.

Records are extracted by ``assistant.recommendation_records``.

Lineage (``link_records``) joins each recommendation to statements about it in later
documents of the same council and the same peer challenge (same visit date): an action the
council planned in response, or a progress statement. Links are found by embedding
similarity; a link is "linked" only when the statement is more similar to this
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
    Link,
    Record,
    extract_corpus,
)
from assistant.settings import RegisterSettings, Settings
from assistant.store import IndexStore
from assistant.types import Document, DocumentMeta

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

    (j, "linked", sim) when sim ≥ ``linked``, statement j prefers this recommendation to every
    other by ``preference`` or more, and sim is within ``preference`` of the row's best;
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
            if firm and sim >= tuning.linked and prefers and near_best:
                found.append((int(j), "linked", round(sim, 3)))
            elif sum(1 for _, strength, _ in found if strength != "linked") < tuning.max_possible:
                found.append((int(j), "possibly related", round(sim, 3)))
        out.append(found)
    return out


def _answers(meta: DocumentMeta, later: DocumentMeta) -> str:
    """Can ``later`` speak about recommendations of ``meta``? "firm", "unconfirmed" or ""."""
    if later.council != meta.council or not _later(later.date, meta.date):
        return ""
    if meta.visit_date and later.visit_date:  # a later peer challenge answers its own report
        return "firm" if later.visit_date == meta.visit_date else ""
    return "unconfirmed"


def link_records(
    records: Sequence[Record],
    documents: dict[str, Document],
    vectors: dict[str, np.ndarray],
    tuning: RegisterSettings = DEFAULTS,
) -> list[Record]:
    """Attach later statements (actions, rows, progress statements) to each recommendation.

    Candidates come from later documents of the same council about the same peer challenge
    (same visit date); see ``match_statements`` for when a link is firm. A recommendation's
    status is the status of its best firm link in the latest document ("planned" for an
    action-plan item), else "possibly related", else "not mentioned".
    """
    by_doc: dict[str, list[Record]] = {}
    for record in records:
        by_doc.setdefault(record.doc_id, []).append(record)
    updated = {}
    for doc_id, own in by_doc.items():
        recs = [r for r in own if r.kind == "recommendation"]
        links: dict[str, list[Link]] = {r.record_id: [] for r in recs}
        for later_id, later in by_doc.items():
            relation = _answers(documents[doc_id].meta, documents[later_id].meta)
            statements = [s for s in later if s.kind != "recommendation"]
            if not recs or not relation or not statements:
                continue
            sims = (
                np.stack([vectors[r.record_id] for r in recs])
                @ np.stack([vectors[s.record_id] for s in statements]).T
            )
            found_rows = match_statements(sims, relation == "firm", tuning)
            for rec, found in zip(recs, found_rows):
                for j, strength, sim in found:
                    s = statements[j]
                    link = Link(
                        s.record_id, s.text, s.status or "planned", strength, sim, s.date, s.source
                    )
                    links[rec.record_id].append(link)
        for rec in recs:
            found_links = links[rec.record_id]
            updated[rec.record_id] = replace(
                rec, links=tuple(found_links), status=_summary_status(found_links)
            )
    return [updated.get(r.record_id, r) for r in records]


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
    return store.derived("register", lambda: _build_register(store, encoder))


def _build_register(store: IndexStore, encoder=None) -> list[Record]:
    from assistant.boilerplate import store_boilerplate
    from assistant.themes import index_encoder, tag_batch

    encoder = encoder or index_encoder(store)
    tuning = store.settings.register
    documents = store.documents
    standard = store_boilerplate(store)  # standard text is never a progress statement
    records = extract_corpus(documents.values(), tuning, standard)
    vectors = {r.record_id: encoder.embed_query(_vector_text(r)) for r in records}
    themes = tag_batch(
        [_vector_text(r) for r in records],
        [r.source.section for r in records],
        np.stack([vectors[r.record_id] for r in records]) if records else np.zeros((0, 1)),
        encoder,
        store.settings.themes,
    )
    records = [replace(r, themes=t) for r, t in zip(records, themes)]
    return link_records(records, documents, vectors, tuning)


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
