"""The corpus catalogue (``corpus/catalog.yaml``) and metadata inference for uncatalogued files."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from assistant.errors import CatalogError
from assistant.types import DOC_TYPES, UNKNOWN_COUNCIL, DocumentMeta
from ingest.loaders import PageFacts
from ingest.metadata import infer_council, infer_date, infer_doc_type, infer_title, year_in_file_name

CATALOG_NAME = "catalog.yaml"
NO_FACTS = PageFacts()  # a document that says nothing about itself outside its text


def doc_id_for(path: Path) -> str:
    """The id a file gets when no other file claims it: its stem, slugged.

    A stem with no ASCII letter or digit ("Отчёт.txt") gets a hash of its name instead,
    so two such files do not both become "document".
    """
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    return slug or "document-" + _name_hash(path.name)


def _name_hash(name: str, length: int = 8) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:length]


def assign_doc_ids(paths: list[Path], previous: dict[str, str] | None = None) -> dict[Path, str]:
    """A unique, stable id per file.

    Files whose stems slug alike ("Peer Review 2019.txt", "peer-review-2019.md") share a
    base id: the file that already holds it in the live index (``previous``: id → file
    name) keeps it, else the first by file name; the others get the base plus a hash of their
    own file name, which does not depend on what else is in the folder.
    """
    previous = previous or {}
    groups: dict[str, list[Path]] = {}
    for path in sorted(paths, key=lambda p: p.name):
        groups.setdefault(doc_id_for(path), []).append(path)
    ids: dict[Path, str] = {}
    taken = set(groups)
    for base, group in groups.items():
        group.sort(key=lambda p: p.name != previous.get(base))  # stable: name order otherwise
        ids[group[0]] = base
        for path in group[1:]:
            length = 8
            while (doc_id := f"{base}-{_name_hash(path.name, length)}") in taken:
                length += 8  # another file's own stem is this id: take more of the hash
            taken.add(doc_id)
            ids[path] = doc_id
    return ids


def load_catalog(corpus_dir: Path) -> dict[str, dict]:
    """File name → catalogue entry; an absent catalogue is an empty one."""
    path = corpus_dir / CATALOG_NAME
    if not path.exists():
        return {}
    import yaml

    # libyaml's parser when PyYAML has it: the same safe loading (tags resolved and values
    # built by the same Python code), ~9x faster; a 1,000-entry catalogue took 0.3-0.4 s of
    # every re-ingest in the pure-Python parser
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path} is not valid YAML ({exc.__class__.__name__}); fix or remove it") from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise CatalogError(f"{path} must map each file name to its fields (title, council, ...)")
    return {str(k): v for k, v in data.items()}


def meta_from_entry(path: Path, entry: dict, text: str, doc_id: str = "",
                    facts: PageFacts = NO_FACTS) -> DocumentMeta:
    """Catalogue entry, with any missing field inferred from the text (and marked inferred)."""
    guessed = infer_meta(path, text, facts)
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
        doc_id=doc_id or doc_id_for(path),
        visit_date=str(entry.get("visit_date") or ""),
        description=str(entry.get("description") or "").strip(),
        source=path.name,
        inferred=tuple(inferred),
        **values,
    )


def infer_meta(path: Path, text: str, facts: PageFacts = NO_FACTS) -> DocumentMeta:
    """Guess title, council, date and type from a document's cleaned text and, for a web page,
    what the page says about itself (ingest/metadata.py)."""
    council = infer_council(path, text, facts.about(), facts.furniture)
    doc_type = infer_doc_type(text, path.suffix, facts.furniture)
    when = infer_date(text, published=facts.published) or year_in_file_name(path)
    known = "" if council == UNKNOWN_COUNCIL else council
    return DocumentMeta(
        doc_id=doc_id_for(path),
        title=infer_title(path, text, facts.headline, known, doc_type, when[:4]),
        council=council,
        doc_type=doc_type,
        date=when,
        source=path.name,
        inferred=("title", "council", "doc_type", "date"),
    )
