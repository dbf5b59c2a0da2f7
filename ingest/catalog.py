"""The corpus catalogue (``corpus/catalog.yaml``) and metadata inference for uncatalogued files."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from assistant.councils import council_names_in
from assistant.domain import load_domain
from assistant.errors import CatalogError
from assistant.types import DOC_TYPES, DocumentMeta

CATALOG_NAME = "catalog.yaml"
_YEAR = re.compile(r"\b(19[89]\d|20[0-4]\d)\b")


def doc_id_for(path: Path) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "document"


def load_catalog(corpus_dir: Path) -> dict[str, dict]:
    """File name → catalogue entry; an absent catalogue is an empty one."""
    path = corpus_dir / CATALOG_NAME
    if not path.exists():
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path} is not valid YAML ({exc.__class__.__name__}); fix or remove it") from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise CatalogError(f"{path} must map each file name to its fields (title, council, ...)")
    return {str(k): v for k, v in data.items()}


def meta_from_entry(path: Path, entry: dict, text: str) -> DocumentMeta:
    """Catalogue entry, with any missing field inferred from the text (and marked inferred)."""
    guessed = infer_meta(path, text)
    inferred = []
    values = {}
    for name in ("title", "council", "doc_type", "date"):
        value = str(entry.get(name) or "").strip()
        if not value:
            value = getattr(guessed, name)
            inferred.append(name)
        values[name] = value
    if values["doc_type"] not in DOC_TYPES:
        raise CatalogError(
            f"{path.name}: doc_type {values['doc_type']!r} is not one of {', '.join(DOC_TYPES)}"
        )
    return DocumentMeta(
        doc_id=doc_id_for(path),
        visit_date=str(entry.get("visit_date") or ""),
        description=str(entry.get("description") or "").strip(),
        source=path.name,
        inferred=tuple(inferred),
        **values,
    )


def infer_meta(path: Path, text: str) -> DocumentMeta:
    """Guess title, council, year and type from a document's cleaned text."""
    councils = Counter(council_names_in([text[:20000]], counts=True))
    council = councils.most_common(1)[0][0] if councils else "Unknown council"
    years = Counter(_YEAR.findall(text[:20000]))
    year = max(years, key=lambda y: (years[y], y)) if years else ""
    first_line = next((l.strip() for l in text.splitlines() if l.strip()), path.stem)
    return DocumentMeta(
        doc_id=doc_id_for(path),
        title=first_line[:120],
        council=council,
        doc_type=infer_doc_type(text),
        date=year,
        source=path.name,
        inferred=("title", "council", "doc_type", "date"),
    )


def infer_doc_type(text: str) -> str:
    """The document type whose evidence phrases (domain.yaml) the text uses most; the first
    type when none is found."""
    lower = text[:30000].lower()
    types = load_domain().document_types
    scores = {t.type: sum(weight * lower.count(phrase) for phrase, weight in t.evidence) for t in types}
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] > 0 else types[0].type
