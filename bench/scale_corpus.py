"""A many-document corpus for ``peerqa bench scale``, recombined from the many-council fixture.

The 19 fictional documents of ``tests/fixtures/councils`` are read through the normal ingest
loaders (so their PDF and DOCX count too), cut into sections and paragraphs, and recombined:
each generated document takes the opening of a fixture document of its type, then sections
of documents of the same type until it reaches its length; the fixture's councils are swapped
for councils made from a small name grammar (``bench/data/scale_names.yaml``), years are
shifted, and some paragraphs have their sentences reordered or one dropped, so chunks are real
prose that is rarely repeated word for word. Documents are written as .txt, .md, .html, .docx
and .pdf (the last only when fpdf2 is installed) with a ``catalog.yaml`` for most of them.

Same seed, same arguments → the same documents. Run on its own::

    python -m bench.scale_corpus --chunks 10000 --out /tmp/scale10k
"""

from __future__ import annotations

import html
import math
import random
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "councils"
NAMES_FILE = Path(__file__).resolve().parent / "data" / "scale_names.yaml"
DOCS_MAX = 1000  # the "~1,000 documents": bigger targets make longer documents
CHUNKS_PER_DOC = 10  # below DOCS_MAX chunks: about this many chunks per document
MIN_LENGTH = 400  # characters: the shortest planned document
CALIBRATION_SAMPLE = 24  # documents written and chunked to set the lengths
CALIBRATION_ROUNDS = 4  # measure, scale, measure again: at most this many times
CALIBRATION_TOLERANCE = 0.02  # stop when the estimate is this close to the target
# Relative length of each document type (the fixture's reports are ~3x its letters and news).
TYPE_WEIGHT = {"peer challenge report": 3.0, "progress review": 1.2, "action plan": 0.8,
               "cabinet report": 1.0, "news": 0.4, "web page": 0.4}
FORMATS = {".txt": 0.45, ".md": 0.2, ".html": 0.2, ".docx": 0.1, ".pdf": 0.05}
CATALOGUED = 0.85  # share of documents with a catalogue entry; the rest have metadata inferred
YEARS = (2012, 2025)
FIRE = "fire and rescue authority"  # a kind of body whose documents differ from councils'
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")
_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[A-Z]\.)\s+(?=\S)")
_YEAR = re.compile(r"\b((?:19|20)\d\d)(/\d\d)?\b")


@dataclass(frozen=True)
class Council:
    name: str
    kind: str
    place: str

    @property
    def acronym(self) -> str:
        return "".join(w[0] for w in self.name.split() if w[0].isupper())


@dataclass(frozen=True)
class SourceDoc:
    """One fixture document cut into (heading, paragraphs) sections; heading "" = the cover."""

    file: str
    doc_type: str
    council: str
    kind: str  # the subject council's kind
    year: int
    date: str
    visit_date: str
    title: str
    sections: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Planned:
    """One generated document before it is written."""

    council: Council
    doc_type: str
    year: int
    length: int  # target characters of text
    ext: str
    catalogued: bool


@dataclass(frozen=True)
class ScaleCorpus:
    corpus_dir: Path
    documents: int
    councils: int
    characters: int
    formats: dict[str, int]
    chars_per_chunk: float  # planned characters per chunk, measured on a sample: sets the lengths
    questions: tuple[str, ...]  # fixture questions with the councils swapped
    editable: Path  # a plain-text document the benchmark may change and re-ingest


@dataclass
class _Swapper:
    """Swaps the fixture's council names (every form councils.yaml lists) and shifts years."""

    forms: dict[str, tuple[str, str]] = field(default_factory=dict)  # lower form → (council, role)
    places: dict[str, str] = field(default_factory=dict)  # council → its place
    pattern: re.Pattern | None = None

    @classmethod
    def from_fixture(cls, councils: list[dict]) -> _Swapper:
        swapper = cls()
        for c in councils:
            swapper.forms[c["name"].lower()] = (c["name"], "name")
            swapper.forms[c["place"].lower()] = (c["name"], "place")
            for alias in c.get("aliases", []):
                if alias.lower().startswith("the "):
                    continue  # generic ("the county council"): true of any council of the kind
                role = "acronym" if alias.isupper() and len(alias) <= 5 else "alias"
                swapper.forms.setdefault(alias.lower(), (c["name"], role))
        swapper.places = {c["name"]: c["place"] for c in councils}
        alternatives = "|".join(map(re.escape, sorted(swapper.forms, key=len, reverse=True)))
        swapper.pattern = re.compile(rf"\b({alternatives})\b", re.IGNORECASE)
        return swapper

    def swap(self, text: str, mapping: dict[str, Council], shift: int = 0) -> str:
        def replace(match: re.Match) -> str:
            found = match.group(0)
            fixture, role = self.forms[found.lower()]
            target = mapping[fixture]
            if role == "name":
                new = target.name
            elif role == "place":
                new = target.place
            elif role == "acronym":
                new = target.acronym
            else:
                place = re.escape(self.places[fixture])
                new = re.sub(place, target.place, found, flags=re.IGNORECASE)
            return new.upper() if found.isupper() and len(found) > 5 else new

        text = self.pattern.sub(replace, text) if self.pattern else text
        return shift_years(text, shift) if shift else text


def shift_years(text: str, shift: int) -> str:
    """Every year moved by ``shift``; a financial year stays one ("2026/27" → "2022/23")."""
    def one(match: re.Match) -> str:
        year = int(match.group(1)) + shift
        return f"{year}/{(year + 1) % 100:02d}" if match.group(2) else str(year)

    return _YEAR.sub(one, text)


def load_sources(fixture: Path = FIXTURE) -> list[SourceDoc]:
    """The fixture's documents, cleaned by the normal ingest path and cut into sections."""
    from ingest.build import prepare_document

    meta = {m["file"]: m for m in yaml.safe_load((fixture / "expected_meta.yaml").read_text())}
    sources = []
    for path in sorted((fixture / "corpus").iterdir()):
        if path.name not in meta:
            continue
        m = meta[path.name]
        doc = prepare_document(path, {}, "")
        sections = []
        for s in doc.sections:
            body = doc.text[s.start:s.end]
            heading = ""
            if s.path:
                heading, _, body = body.partition("\n")
                heading = _NUMBERING.sub("", heading).strip()
            paras = tuple(p.strip() for p in body.split("\n\n") if p.strip())
            if paras or heading:
                sections.append((heading, paras))
        sources.append(SourceDoc(path.name, m["type"], m["council"], m["kind"], int(m["year"]),
                                 str(m["date"]),
                                 str(m.get("visit_date", "")), m["title"], tuple(sections)))
    return sources


def make_councils(count: int, rng: random.Random, grammar: dict, taken: set[str]) -> list[Council]:
    """``count`` distinct fictional councils from the name grammar (none in ``taken``)."""
    kinds = list(grammar["kinds"])
    weights = [grammar["kinds"][k]["weight"] for k in kinds]
    councils: list[Council] = []
    seen = {t.lower() for t in taken}
    while len(councils) < count:
        place = rng.choice(grammar["first"]) + rng.choice(grammar["last"])
        kind = rng.choices(kinds, weights)[0]
        if kind == "county" and rng.random() < grammar["shire_share"]:
            place += "shire"
        if rng.random() < grammar["second_share"]:
            place += " " + rng.choice(grammar["second"])
        if place.lower() in seen:
            continue
        seen.add(place.lower())
        councils.append(Council(grammar["kinds"][kind]["pattern"].format(place=place), kind, place))
    return councils


def _vary(paragraph: str, rng: random.Random) -> str:
    """Sometimes reorder a paragraph's sentences or drop one, so recombined text rarely repeats."""
    sentences = _SENTENCE.split(paragraph)
    if len(sentences) < 3:
        return paragraph
    roll = rng.random()
    if roll < 0.3:
        head, rest = sentences[0], sentences[1:]
        rng.shuffle(rest)
        sentences = [head, *rest]
    elif roll < 0.5:
        del sentences[rng.randrange(1, len(sentences))]
    return " ".join(sentences)


def compose(plan: Planned, by_type: dict[str, list[SourceDoc]], councils: Sequence[Council],
            fixture_names: list[str], swapper: _Swapper,
            rng: random.Random) -> tuple[SourceDoc, str, list[tuple[str, list[str]]]]:
    """(the skeleton document, the title, sections) of one generated document."""
    # A fire authority's text goes to fire authorities, a council's to councils (when the
    # fixture has that type for that kind of body).
    fire = plan.council.kind == FIRE
    pool = [s for s in by_type[plan.doc_type] if (s.kind == FIRE) == fire] or by_type[plan.doc_type]
    skeleton = rng.choice(pool)
    others = rng.sample(list(councils), min(len(councils), len(fixture_names)))
    mapping = dict(zip(fixture_names, others))
    mapping[skeleton.council] = plan.council  # the skeleton's subject becomes this council

    def mapped(src: SourceDoc) -> dict[str, Council]:
        return {**mapping, src.council: plan.council}

    title = swapper.swap(skeleton.title, mapping, plan.year - skeleton.year)
    chosen = [(skeleton, s) for s in skeleton.sections]
    extra = [(src, s) for src in pool for s in src.sections if s[0]]
    # Once its type's sections are used up, a long document takes sections of any type (of its
    # kind of body): repeating its type's few sections word for word, it lost them to the
    # cleaner's check for repeated blocks, so its length stopped turning into chunks.
    wider = [(src, s) for kind in by_type.values() for src in kind
             if (src.kind == FIRE) == fire for s in src.sections if s[0]] or extra
    pools = iter([extra])
    sections: list[tuple[str, list[str]]] = []
    size = 0
    while size < plan.length:
        if not chosen:
            source = next(pools, wider)
            chosen = rng.sample(source, len(source))
        src, (heading, paras) = chosen.pop(0)
        shift = plan.year - src.year
        body = [swapper.swap(_vary(p, rng), mapped(src), shift) for p in paras]
        sections.append((swapper.swap(heading, mapped(src), shift), body))
        size += len(heading) + sum(len(p) + 2 for p in body)
    return skeleton, title, sections


def _plain(title: str, sections: list[tuple[str, list[str]]], heading_mark: str = "") -> str:
    lines = [f"{'# ' if heading_mark else ''}{title}", ""]
    for heading, paras in sections:
        if heading:
            lines += [f"{heading_mark}{heading}", ""]
        for p in paras:
            lines += [p, ""]
    return "\n".join(lines)


def _html(title: str, council: Council, sections: list[tuple[str, list[str]]]) -> str:
    e = html.escape
    body = [f"<h1>{e(title)}</h1>"]
    for heading, paras in sections:
        if heading:
            body.append(f"<h2>{e(heading)}</h2>")
        body += [f"<p>{e(p)}</p>" for p in paras]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{e(title)} | {e(council.name)}</title></head><body>\n"
            f"<header><a href=\"/\">{e(council.name)}</a><nav><a href=\"/bins\">Bins and recycling"
            "</a> <a href=\"/council\">Your council</a></nav></header>\n<main>\n"
            + "\n".join(body) + "\n</main>\n<footer>Contact us | Accessibility | Cookies</footer>"
            "</body></html>\n")


def _docx(path: Path, title: str, sections: list[tuple[str, list[str]]]) -> None:
    import docx

    document = docx.Document()
    document.add_heading(title, 0)
    for heading, paras in sections:
        if heading:
            document.add_heading(heading, 1)
        for p in paras:
            document.add_paragraph(p)
    document.save(str(path))


_LATIN = str.maketrans({"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "..."})


def _pdf(path: Path, title: str, sections: list[tuple[str, list[str]]]) -> None:
    from fpdf import FPDF

    def latin(text: str) -> str:  # the core fonts are Latin-1 only
        return text.translate(_LATIN).encode("latin-1", "replace").decode("latin-1")

    pdf = FPDF(format="A4")
    pdf.set_creation_date(__import__("datetime").datetime(2024, 1, 1,
                                                           tzinfo=__import__("datetime").UTC))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 7, latin(title), new_x="LMARGIN", new_y="NEXT")
    for heading, paras in sections:
        if heading:
            pdf.set_font("Helvetica", "B", 12)
            pdf.multi_cell(0, 7, latin(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        for p in paras:
            pdf.multi_cell(0, 5, latin(p), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
    pdf.output(str(path))


def write_document(path: Path, title: str, council: Council,
                   sections: list[tuple[str, list[str]]]) -> None:
    ext = path.suffix
    if ext == ".docx":
        _docx(path, title, sections)
    elif ext == ".pdf":
        _pdf(path, title, sections)
    elif ext == ".html":
        path.write_text(_html(title, council, sections), encoding="utf-8")
    else:
        path.write_text(_plain(title, sections, "## " if ext == ".md" else ""), encoding="utf-8")


def _formats() -> dict[str, float]:
    try:
        import fpdf  # noqa: F401 - a test extra; without it no PDFs
    except ImportError:
        return {k: v for k, v in FORMATS.items() if k != ".pdf"}
    return FORMATS


def plan_documents(docs: int, total_chars: int, councils: Sequence[Council],
                   sources: Sequence[SourceDoc], rng: random.Random) -> list[Planned]:
    """Types in the fixture's proportions, lengths by type with a log-normal spread."""
    types = [s.doc_type for s in sources]
    formats = _formats()
    draws = []
    for _ in range(docs):
        doc_type = rng.choice(types)
        weight = TYPE_WEIGHT.get(doc_type, 1.0) * math.exp(rng.gauss(0, 0.5))
        ext = rng.choices(list(formats), list(formats.values()))[0]
        ext = ".html" if doc_type == "web page" else ext
        draws.append((rng.choice(councils), doc_type, rng.randint(*YEARS), weight, ext,
                      rng.random() < CATALOGUED))
    if not any(d[4] == ".txt" for d in draws):  # the benchmark edits a plain-text document
        draws[0] = (*draws[0][:4], ".txt", draws[0][5])
    scale = total_chars / sum(d[3] for d in draws)
    return [Planned(c, t, y, max(MIN_LENGTH, int(w * scale)), e, k) for c, t, y, w, e, k in draws]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _catalog_entry(plan: Planned, skeleton: SourceDoc, title: str) -> dict:
    shift = plan.year - skeleton.year
    entry = {"title": title, "council": plan.council.name, "doc_type": skeleton.doc_type,
             "date": shift_years(skeleton.date, shift)}
    if skeleton.visit_date:
        entry["visit_date"] = shift_years(skeleton.visit_date, shift)
    return entry


def count_chunks(plans: Sequence[Planned], compose_one: Callable[[Planned], tuple], settings,
                 count_tokens: Callable[[str], int]) -> int:
    """Chunks of ``plans`` composed by ``compose_one`` ((skeleton, title, sections)), written in
    their own formats, read by the ingest loaders and cleaner and chunked by the real chunker."""
    import tempfile

    from ingest.build import prepare_document
    from ingest.chunking import chunk_document

    chunks = 0
    with tempfile.TemporaryDirectory(prefix="peerqa-calibrate-") as tmp:
        for i, plan in enumerate(plans):
            _, title, sections = compose_one(plan)
            path = Path(tmp) / f"sample-{i}{plan.ext}"
            write_document(path, title, plan.council, sections)
            doc = prepare_document(path, {}, "")
            chunks += len(chunk_document(doc, settings.chunking, count_tokens))
    return chunks


def calibrate(plans: list[Planned], target_chunks: int,
              count: Callable[[Sequence[Planned]], int]) -> tuple[list[Planned], float]:
    """``plans`` with their lengths scaled so the corpus chunks to about ``target_chunks``,
    and the planned characters per chunk.

    A sample of the documents spread over the plan is made, written, cleaned and chunked
    (``count``); its chunks per planned character, times the plan's characters, estimate the
    corpus's chunks; the lengths are scaled by target / estimate and the sample is measured
    again, until the estimate is within CALIBRATION_TOLERANCE. Planned characters are not
    chunk text: the cleaner drops what repeats and keeps headings, the formats differ, so
    the ratio is measured, not assumed (a ratio of cleaned characters undershot by 25%)."""
    step = max(1, len(plans) // CALIBRATION_SAMPLE)
    picks = list(range(0, len(plans), step))[:CALIBRATION_SAMPLE]
    per_chunk = 0.0
    for _ in range(CALIBRATION_ROUNDS):
        sample = [plans[i] for i in picks]
        chunks = max(1, count(sample))
        per_chunk = sum(p.length for p in sample) / chunks
        estimate = sum(p.length for p in plans) / per_chunk
        scale = target_chunks / estimate
        if abs(scale - 1) <= CALIBRATION_TOLERANCE:
            break
        plans = [replace(p, length=max(MIN_LENGTH, int(p.length * scale))) for p in plans]
    return plans, per_chunk


def swapped_questions(fixture: Path, councils: Sequence[Council], swapper: _Swapper,
                      fixture_names: list[str], rng: random.Random,
                      count: int = 40) -> tuple[str, ...]:
    """Questions of the fixture that take the ordinary answer path, about generated councils."""
    items = yaml.safe_load((fixture / "questions.yaml").read_text(encoding="utf-8"))
    items = [q for q in items if q.get("route", "answer") == "answer"]
    chosen = rng.sample(items, min(count, len(items)))
    out = []
    for q in chosen:
        order = rng.sample(list(councils), len(councils))  # fewer councils than the fixture's:
        mapping = {name: order[i % len(order)] for i, name in enumerate(fixture_names)}  # reuse
        out.append(swapper.swap(q["question"], mapping))
    return tuple(out)


def document_count(target_chunks: int) -> int:
    """About ten chunks per document, at most DOCS_MAX documents (then they grow longer)."""
    return max(8, min(DOCS_MAX, math.ceil(target_chunks / CHUNKS_PER_DOC)))


def generate(target_chunks: int, out_dir: Path, seed: int = 0, docs: int | None = None,
             settings=None, count_tokens: Callable[[str], int] | None = None,
             fixture: Path = FIXTURE) -> ScaleCorpus:
    """Write about ``target_chunks`` chunks' worth of documents into ``out_dir``/corpus."""
    from assistant.errors import UsageError
    from assistant.settings import Settings, resolve_model_path

    settings = settings or Settings()
    if count_tokens is None:
        from assistant.tokens import token_counter

        count_tokens = token_counter(resolve_model_path(settings.model))
    corpus = Path(out_dir) / "corpus"
    if corpus.exists() and any(corpus.iterdir()):
        raise UsageError(f"{corpus}/ is not empty; give an empty or new folder.")
    corpus.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    sources = load_sources(fixture)
    fixture_councils = yaml.safe_load((fixture / "councils.yaml").read_text(encoding="utf-8"))
    names = [c["name"] for c in fixture_councils]
    swapper = _Swapper.from_fixture(fixture_councils)
    grammar = yaml.safe_load(NAMES_FILE.read_text(encoding="utf-8"))
    taken = {c["place"] for c in fixture_councils} | {c["name"] for c in fixture_councils}
    docs = docs or document_count(target_chunks)
    councils = make_councils(max(len(names), docs // 3), rng, grammar, taken)
    by_type: dict[str, list[SourceDoc]] = {}
    for s in sources:
        by_type.setdefault(s.doc_type, []).append(s)
    guess = 600.0  # planned characters per chunk, before calibration
    plans = plan_documents(docs, int(target_chunks * guess), councils, sources, rng)

    def count(sample: Sequence[Planned]) -> int:
        sample_rng = random.Random(seed + 1)  # calibration must not move the main stream
        return count_chunks(sample, lambda p: compose(p, by_type, councils, names, swapper,
                                                      sample_rng), settings, count_tokens)

    plans, per_chunk = calibrate(plans, target_chunks, count)
    return _write_all(corpus, plans, by_type, councils, names, swapper, rng, per_chunk, fixture)


def _write_all(corpus: Path, plans: list[Planned], by_type: dict[str, list[SourceDoc]],
               councils: list[Council], names: list[str], swapper: _Swapper,
               rng: random.Random, per_chunk: float, fixture: Path) -> ScaleCorpus:
    catalog: dict[str, dict] = {}
    formats: dict[str, int] = {}
    chars = 0
    for i, plan in enumerate(plans):
        skeleton, title, sections = compose(plan, by_type, councils, names, swapper, rng)
        stem = f"{_slug(plan.council.place)}-{_slug(plan.doc_type)}-{plan.year}-{i:04d}"
        path = corpus / (stem + plan.ext)
        write_document(path, title, plan.council, sections)
        formats[plan.ext] = formats.get(plan.ext, 0) + 1
        chars += len(title) + sum(len(h) + sum(len(p) for p in ps) for h, ps in sections)
        if plan.catalogued:
            catalog[path.name] = _catalog_entry(plan, skeleton, title)
    (corpus / "catalog.yaml").write_text(
        "# Generated by bench/scale_corpus.py: fictional councils, recombined fixture text.\n"
        + yaml.safe_dump(catalog, sort_keys=True, allow_unicode=True, width=100), encoding="utf-8")
    used = sorted({p.council for p in plans}, key=lambda c: c.name)
    questions = swapped_questions(fixture, used, swapper, names, rng)
    editable = min(corpus.glob("*.txt"))
    return ScaleCorpus(corpus, len(plans), len(used), chars, dict(sorted(formats.items())),
                       round(per_chunk, 1), questions, editable)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=1000, help="target number of chunks")
    parser.add_argument("--docs", type=int, help="number of documents (default: from --chunks)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="folder; the documents go in OUT/corpus")
    args = parser.parse_args(argv)
    made = generate(args.chunks, Path(args.out), args.seed, args.docs)
    summary = {k: str(v) if isinstance(v, Path) else v for k, v in made.__dict__.items()}
    print(json.dumps(summary, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
