"""The ``--json`` schemas of ``peerqa ask`` and ``peerqa recommendations`` (see the README).

Named ``jsonout`` so that ``from assistant.render import jsonout`` never hides the stdlib ``json``
that its callers also import.
"""

from __future__ import annotations

from assistant.compare import Comparison, Listing
from assistant.recommendation_records import Record, Source
from assistant.render.common import action_cell
from assistant.route import Result
from assistant.types import Answer, Passage


def result_to_json(result: Result) -> dict:
    """The ``--json`` object of any result: an answer, a comparison or a listing."""
    if isinstance(result, Comparison):
        return comparison_to_json(result)
    if isinstance(result, Listing):
        return listing_to_json(result)
    return answer_to_json(result)


def answer_to_json(answer: Answer) -> dict:
    """The ``--json`` schema (documented in the README)."""
    return {
        "question": answer.question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "reason": answer.reason,
        "mode": answer.mode,
        "notice": answer.notice,
        "passages": [passage_to_json(n, p) for n, p in enumerate(answer.passages, start=1)],
        "citations": list(answer.citations),
        "index_version": answer.index_version,
    }


def passage_to_json(n: int, p: Passage) -> dict:
    """One numbered passage in the ``--json`` schema."""
    return {
        "n": n,
        "doc_id": p.meta.doc_id,
        "title": p.meta.title,
        "council": p.meta.council,
        "doc_type": p.meta.doc_type,
        "date": p.meta.date,
        "section": " › ".join(p.chunk.section),
        "page": p.chunk.page_label,
        "start": p.chunk.start,
        "end": p.chunk.end,
        "text": p.chunk.text,
        "score": p.score,
        "quoted": list(p.quoted),
    }


def comparison_to_json(comp: Comparison) -> dict:
    return {
        "type": "comparison" if comp.kind == "comparison" else "council listing",
        "question": comp.question,
        "councils": list(comp.councils),
        "unanswered": list(comp.unanswered),
        "not_held": list(comp.not_held),
        "groups": [
            {
                "council": g.council,
                "year": g.year,
                "answer": g.text,
                "abstained": g.abstained,
                "citations": list(g.citations),
                "passages": [passage_to_json(n, p) for n, p in zip(g.numbers, g.passages)],
            }
            for g in comp.groups
        ],
        "index_version": comp.index_version,
    }


def listing_to_json(listing: Listing) -> dict:
    return {
        "type": "listing",
        "query": listing.query,
        "term": listing.term,
        "mode": listing.mode,
        "searched": {
            "documents": listing.searched_documents,
            "of_documents": listing.total_documents,
            "chunks": listing.searched_chunks,
        },
        "documents": [
            {
                "doc_id": m.doc_id,
                "title": m.title,
                "council": m.council,
                "date": m.date,
                "exact": m.exact,
                "chunks": m.chunk_count,
                "occurrences": m.occurrences,
                "forms": list(m.forms),
                "best": passage_to_json(1, m.best),
            }
            for m in listing.mentions
        ],
    }


def _source_to_json(source: Source) -> dict:
    return {
        "doc_id": source.doc_id,
        "section": list(source.section),
        "page": source.page,
        "start": source.start,
        "end": source.end,
    }


def record_to_json(record: Record) -> dict:
    """The ``--json`` form of a register record: every field, with the source and links nested.

    ``action`` is the action cell of an action-plan row (null when the row lacks it, in which
    case ``text`` is the response); null for other kinds.
    """
    return {
        "id": record.record_id,
        "kind": record.kind,
        "number": record.number,
        "council": record.council,
        "doc_id": record.doc_id,
        "title": record.title,
        "date": record.date,
        "text": record.text,
        "action": action_cell(record),
        "detail": record.detail,
        "response": record.response,
        "lead": record.lead,
        "status": record.status,
        "themes": list(record.themes),
        "source": _source_to_json(record.source),
        "links": [
            {
                "id": link.record_id,
                "text": link.text,
                "status": link.status,
                "strength": link.strength,
                "similarity": link.similarity,
                "date": link.date,
                "source": _source_to_json(link.source),
            }
            for link in record.links
        ],
    }
