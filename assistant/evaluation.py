"""Retrieval evaluation on a question file: metrics, failures, baseline, JSON and a chart.

A retrieved passage is a *hit* for a question when it comes from a gold document and contains
at least one of that document's key phrases. Metrics per retriever:

* Recall@k — share of answerable questions with a hit in the top k;
* MRR@10 — mean of 1 / rank of the first hit (0 when none in the top 10);
* nDCG@10 — binary gain for the first hit of each gold document, ideal = all gold documents
  at the top;
* evidence coverage — share of a question's key phrases present in its top 5 passages;
* abstention precision / recall, quote rate — from the answer the user gets on the question's
  route (``route.respond``): ``ask``'s answer, the register's, or a comparison or council
  listing, which refuses when no council's group has evidence;
* latency p50 / p95 — one ``ask`` (retrieval + extractive answer), warm.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from assistant.errors import UnreadableDocument, UsageError
from assistant.settings import Settings
from assistant.types import Answer, Passage

K_VALUES = (1, 3, 5, 10)


@dataclass(frozen=True)
class Gold:
    doc: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    type: str
    split: str
    answerable: bool
    gold: tuple[Gold, ...] = ()
    council: str = ""  # the one council of the corpus the question names, if the file says


def load_questions(path: Path) -> list[EvalQuestion]:
    """Parse and validate a question file (format: tests/fixtures/README.md)."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"Cannot read question file {path}: {exc.strerror}.") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not valid YAML ({exc.__class__.__name__}).") from exc
    if not isinstance(data, list) or not data:
        raise UsageError(f"{path} must be a YAML list of questions (see tests/fixtures/README.md).")
    questions, seen = [], set()
    for i, item in enumerate(data, start=1):
        where = f"{path}: item {i}"
        if not isinstance(item, dict) or not str(item.get("question", "")).strip():
            raise UsageError(f"{where} needs a non-empty 'question'.")
        qid = str(item.get("id") or f"q{i:03d}")
        if qid in seen:
            raise UsageError(f"{where}: duplicate id {qid!r}.")
        seen.add(qid)
        answerable = bool(item.get("answerable", True))
        gold = tuple(
            Gold(doc=str(g["doc"]), phrases=tuple(str(p) for p in g.get("phrases", ())))
            for g in item.get("gold") or ()
        )
        if answerable and (not gold or not all(g.phrases for g in gold)):
            raise UsageError(f"{where} ({qid}) is answerable but has no gold doc with phrases.")
        questions.append(EvalQuestion(id=qid, question=str(item["question"]).strip(),
                                      type=str(item.get("type", "unanswerable" if not answerable else "theme")),
                                      split=str(item.get("split", "dev")), answerable=answerable, gold=gold,
                                      council=str(item.get("council") or "")))
    return questions


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).lower()


def is_hit(passage: Passage | tuple[str, str], gold: Sequence[Gold]) -> str | None:
    """The gold doc id this passage is evidence for, or None."""
    doc_id, text = (passage.meta.doc_id, passage.chunk.text) if isinstance(passage, Passage) else passage
    text = _norm(text)
    for g in gold:
        if g.doc == doc_id and any(_norm(p) in text for p in g.phrases):
            return g.doc
    return None


@dataclass(frozen=True)
class QuestionResult:
    id: str
    type: str
    split: str
    answerable: bool
    first_hit: int | None  # 1-based rank of the first hit in the top 10
    ndcg: float
    coverage: float
    abstained: bool
    confidence: float
    latency_ms: float
    retrieved: tuple[tuple[str, str, str], ...]  # (doc_id, section, text start) of the top 5
    quote_hit: bool = False  # the answer quotes a sentence holding a gold phrase (answerable only)
    first_quote_hit: bool = False  # …and the first sentence it quotes is one
    # answered, about one council: does it cite a passage of another council? None otherwise
    cross_council: bool | None = None
    # the question file names one council: read as that one (True), as none (None: the search is
    # not scoped, as for a place inside a programme's name), or as another council (False)
    council_read: bool | None = None
    quoted: int = 0  # sentences the answer quotes
    quoted_standard: int = 0  # …of which standard text (recurring across councils' documents)
    # first hit among the passages the answer shows, in the order shown: a register list's,
    # a comparison's or a listing's passages; the answer route's ranking for the rest
    shown_first_hit: int | None = None


def score_ranking(ranked: Sequence[tuple[str, str]], gold: Sequence[Gold]) -> tuple[int | None, float, float]:
    """(first hit rank, nDCG@10, evidence coverage@5) for (doc_id, text) pairs in rank order.

    >>> g = [Gold("a", ("x y",)), Gold("b", ("z",))]
    >>> score_ranking([("c", "x y"), ("a", "x y"), ("b", "z")], g)[0]
    2
    """
    import math

    first, dcg, seen_docs = None, 0.0, set()
    for rank, item in enumerate(ranked[:10], start=1):
        doc = is_hit(item, gold)
        if doc is None:
            continue
        first = first or rank
        if doc not in seen_docs:
            seen_docs.add(doc)
            dcg += 1 / math.log2(rank + 1)
    ideal = sum(1 / math.log2(r + 1) for r in range(1, min(len(gold), 10) + 1))
    phrases = [(g.doc, p) for g in gold for p in g.phrases]
    top5 = [(d, _norm(t)) for d, t in ranked[:5]]
    found = sum(1 for doc, p in phrases if any(d == doc and _norm(p) in t for d, t in top5))
    return first, (dcg / ideal if ideal else 0.0), (found / len(phrases) if phrases else 0.0)


def evaluate(questions: Sequence[EvalQuestion], store, settings: Settings, mode: str = "hybrid",
             encoder=None) -> list[QuestionResult]:
    """Run ``ask`` for every question with one retriever mode and score it."""
    from assistant.answering import ask
    from assistant.retrieval import Retriever
    from assistant.route import Session, respond

    retriever = Retriever(store, settings, encoder=encoder, mode=mode)
    session = Session(store, settings, retriever)
    retriever.search(session.analyse("warm up the encoder and indexes"))
    from assistant.boilerplate import store_boilerplate

    standard = store_boilerplate(store, MEASURED_BOILERPLATE)  # measured the same whatever the setting
    results = []
    for q in questions:
        started = time.perf_counter()
        # ranking is scored on the answer route for every question, comparisons included
        query = session.analyse(q.question)
        ranking = ask(query, store, settings, k=10, retriever=retriever)
        latency = (time.perf_counter() - started) * 1000  # one ask, whatever the route
        # quotes and refusals are those of the answer the user gets on the question's route
        # (the register, a comparison, a listing); ranking stays the retrieval's
        answer = ranking if query.route == "answer" else as_answer(respond(query, session, k=10))
        ranked = [(p.meta.doc_id, p.chunk.text) for p in ranking.passages]
        first, ndcg, coverage = score_ranking(ranked, q.gold) if q.answerable else (None, 0.0, 0.0)
        shown = first
        if q.answerable and query.route != "answer":
            shown = score_ranking([(p.meta.doc_id, p.chunk.text) for p in answer.passages], q.gold)[0]
        confidence = ranking.confidence
        quotes = [(p.meta.doc_id, " ".join(p.quoted)) for p in answer.passages if p.quoted]
        quote_hit = q.answerable and not answer.abstained and any(is_hit(quote, q.gold) for quote in quotes)
        opening = first_quote(answer)
        first_quote_hit = quote_hit and opening is not None and bool(is_hit(opening, q.gold))
        results.append(QuestionResult(
            id=q.id, type=q.type, split=q.split, answerable=q.answerable, first_hit=first, ndcg=ndcg,
            coverage=coverage, abstained=answer.abstained, confidence=confidence,
            latency_ms=latency,
            retrieved=tuple((p.meta.doc_id, " › ".join(p.chunk.section), p.chunk.text[:90])
                            for p in ranking.passages[:5]),
            quote_hit=quote_hit, first_quote_hit=first_quote_hit,
            cross_council=_cross_council((q.council,) if q.council else query.councils, answer),
            council_read=(query.councils == (q.council,)) if q.council and query.councils else None,
            quoted=sum(len(p.quoted) for p in answer.passages),
            quoted_standard=_standard_quotes(answer, standard), shown_first_hit=shown,
        ))
    return results


_LINE_MARKER = re.compile(r"\s*\[(\d{1,2})\]\s*$")


def first_quote(answer: Answer) -> tuple[str, str] | None:
    r"""(doc_id, sentence) of the first sentence an answer quotes: on its first line that holds
    one of its passage's quotes ("sentence [n]"; a register list's heading quotes nothing), else
    the first quote of the first passage shown.

    >>> from assistant.types import Chunk, DocumentMeta, Passage
    >>> p = Passage(Chunk("c", "d1", "A. B.", 0, 5, (), 0), DocumentMeta("d1", "T", "C", "news", ""), 1.0,
    ...             quoted=("A.", "B."))
    >>> first_quote(Answer("q", "C: 2 recommendations [1]\n1. B. [1]\n2. A. [1]", False, (p,), (1,)))
    ('d1', 'B.')
    """
    if answer.abstained:
        return None
    for line in answer.text.splitlines():
        marker = _LINE_MARKER.search(line)
        if not marker or not 1 <= int(marker.group(1)) <= len(answer.passages):
            continue
        passage = answer.passages[int(marker.group(1)) - 1]
        held = [q for q in passage.quoted if q and q in line[:marker.start()]]
        if held:
            return passage.meta.doc_id, max(held, key=len)
    return next(((p.meta.doc_id, p.quoted[0]) for p in answer.passages if p.quoted), None)


def as_answer(result) -> Answer:
    """Any route's result as one answer to score: a comparison's or a listing's quoted passages
    in the order shown; it refuses when it shows no evidence (every council group abstained,
    no council or document found)."""
    from assistant.compare import Comparison, Listing

    if isinstance(result, Answer):
        return result
    if isinstance(result, Comparison):
        groups = [g for g in result.groups if not g.abstained]
        passages = tuple(p for g in groups for p in g.passages)
        citations = tuple(sum(len(g.passages) for g in groups[:i]) + c - g.numbers[0] + 1
                          for i, g in enumerate(groups) for c in g.citations)
    elif isinstance(result, Listing):
        passages = tuple(m.best for m in result.mentions)
        citations = tuple(range(1, len(passages) + 1))
    else:
        raise TypeError(f"no answer in {type(result).__name__}")
    return Answer(result.query if isinstance(result, Listing) else result.question, "",
                  not passages, passages, citations if passages else ())


MEASURED_BOILERPLATE = 0.6  # the standard-text threshold the eval column uses


def _standard_quotes(answer, standard: frozenset[tuple[str, int]]) -> int:
    """How many of the answer's quoted sentences are standard text."""
    count = 0
    for passage in answer.passages:
        chunk = passage.chunk
        texts = dict(zip(chunk.sentence_texts(), (s.start for s in chunk.sentences), strict=True))
        count += sum(1 for q in passage.quoted if (passage.meta.doc_id, texts.get(q, -1)) in standard)
    return count


def _cross_council(councils: Sequence[str], answer) -> bool | None:
    """For an answer to a question about exactly one council (the question file's ``council``
    where it gives one, else the council the question was read as naming): does it cite another
    council? The file's council catches a question read as naming the wrong council."""
    if answer.abstained or len(councils) != 1:
        return None
    cited = {answer.passages[n - 1].meta.council for n in answer.citations}
    return bool(cited - set(councils))


def baseline_results(questions: Sequence[EvalQuestion], store, settings: Settings,
                     read_pages: Callable[[Path], Sequence[str]]) -> list[QuestionResult]:
    """The common tutorial pipeline: raw text, 1000/200-character chunks, dense only, no abstention.

    ``read_pages`` gives a corpus file's raw page texts (ingest's loader, passed in by cli.py).
    """
    import numpy as np
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from assistant.embedding import SentenceTransformerEmbedder

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    chunks: list[tuple[str, str]] = []
    for doc_id, doc in sorted(store.documents.items()):
        path = Path(settings.corpus_dir) / doc.meta.source
        try:
            raw = "\n".join(read_pages(path))
        except UnreadableDocument as exc:
            raise UsageError(f"The baseline reads the raw corpus files and cannot read {path} ({exc}). "
                             "Pass --corpus DIR (the folder the index was built from) or "
                             "--no-baseline.") from exc
        chunks += [(doc_id, piece) for piece in splitter.split_text(raw)]
    model = SentenceTransformerEmbedder(settings.model)
    vectors = np.asarray(model.embed_texts([t for _, t in chunks]), dtype=np.float32)
    results = []
    for q in questions:
        started = time.perf_counter()
        qvec = model.embed_query(q.question)
        order = np.argsort(-(vectors @ qvec))[:10]
        latency = (time.perf_counter() - started) * 1000
        ranked = [chunks[i] for i in order]
        first, ndcg, coverage = score_ranking(ranked, q.gold) if q.answerable else (None, 0.0, 0.0)
        results.append(QuestionResult(q.id, q.type, q.split, q.answerable, first, ndcg, coverage, False,
                                      0.0, latency, tuple((d, "", t[:90]) for d, t in ranked[:5])))
    return results


@dataclass(frozen=True)
class Summary:
    name: str
    questions: int
    recall: dict[int, float]
    mrr: float
    ndcg: float
    coverage: float
    abstain_precision: float | None
    abstain_recall: float | None
    latency_p50: float
    latency_p95: float
    by_type: dict[str, float] = field(default_factory=dict)  # Recall@5 per question type
    quote_rate: float | None = None  # answerable questions whose answer quotes a gold phrase
    first_quote_rate: float | None = None  # …whose first quoted sentence holds one
    cross_council: float | None = None  # answers about one council citing another council
    council_read: float | None = None  # …of the questions read as naming a council, the right one
    standard_quotes: float | None = None  # quoted sentences that are standard text
    # Recall@5 and MRR@10 over the passages each answer shows (``shown_first_hit``)
    shown_recall5: float | None = None
    shown_mrr: float | None = None


def summarise(name: str, results: Sequence[QuestionResult]) -> Summary:
    answerable = [r for r in results if r.answerable]
    n = max(1, len(answerable))
    recall = {k: sum(1 for r in answerable if r.first_hit and r.first_hit <= k) / n for k in K_VALUES}
    mrr = sum(1 / r.first_hit for r in answerable if r.first_hit) / n
    abstained = [r for r in results if r.abstained]
    unanswerable = [r for r in results if not r.answerable]
    precision = (sum(1 for r in abstained if not r.answerable) / len(abstained)) if abstained else None
    recall_abs = (sum(1 for r in unanswerable if r.abstained) / len(unanswerable)) if unanswerable else None
    latencies = sorted(r.latency_ms for r in results) or [0.0]
    by_type = {}
    for t in sorted({r.type for r in answerable}):
        group = [r for r in answerable if r.type == t]
        by_type[t] = sum(1 for r in group if r.first_hit and r.first_hit <= 5) / len(group)
    return Summary(
        name=name, questions=len(results), recall=recall, mrr=mrr,
        ndcg=sum(r.ndcg for r in answerable) / n, coverage=sum(r.coverage for r in answerable) / n,
        abstain_precision=precision, abstain_recall=recall_abs,
        latency_p50=statistics.median(latencies),
        latency_p95=latencies[min(len(latencies) - 1, int(round(0.95 * (len(latencies) - 1))))],
        by_type=by_type,
        quote_rate=(sum(1 for r in answerable if r.quote_hit) / n) if name != "baseline" else None,
        first_quote_rate=(sum(1 for r in answerable if r.first_quote_hit) / n) if name != "baseline" else None,
        cross_council=_share([r.cross_council for r in results if r.cross_council is not None]),
        council_read=_share([r.council_read for r in results if r.council_read is not None]),
        standard_quotes=(sum(r.quoted_standard for r in results) / quoted
                         if (quoted := sum(r.quoted for r in results)) else None),
        shown_recall5=(sum(1 for r in answerable if r.shown_first_hit and r.shown_first_hit <= 5) / n
                       if name != "baseline" else None),
        shown_mrr=(sum(1 / r.shown_first_hit for r in answerable if r.shown_first_hit and r.shown_first_hit <= 10)
                   / n if name != "baseline" else None),
    )


def _share(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def refusal_line(results: Sequence[QuestionResult], threshold: float) -> str:
    """How many answerable questions were refused, and unanswerable ones answered."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    refused = sum(r.abstained for r in answerable)
    answered = sum(not r.abstained for r in unanswerable)
    share = refused / len(answerable) if answerable else 0.0
    return (f"refusals: {refused} of {len(answerable)} answerable questions refused ({share:.1%}); "
            f"{answered} of {len(unanswerable)} unanswerable answered (answerability threshold {threshold})")


def format_table(summaries: Sequence[Summary]) -> str:
    def pct(x: float | None) -> str:
        return "  n/a" if x is None else f"{x:5.3f}"

    head = (f"{'retriever':<10} {'R@1':>5} {'R@3':>5} {'R@5':>5} {'R@10':>5} {'MRR@10':>6} {'nDCG@10':>7} "
            f"{'cover@5':>7} {'quote':>5} {'quote1':>6} {'abs-P':>5} {'abs-R':>5} {'xcncl':>5} {'stdq':>5} {'p50 ms':>7} "
            f"{'p95 ms':>7}")
    lines = [head, "-" * len(head)]
    for s in summaries:
        lines.append(
            f"{s.name:<10} {s.recall[1]:5.3f} {s.recall[3]:5.3f} {s.recall[5]:5.3f} {s.recall[10]:5.3f} "
            f"{s.mrr:6.3f} {s.ndcg:7.3f} {s.coverage:7.3f} {pct(s.quote_rate)} {pct(s.first_quote_rate):>6} "
            f"{pct(s.abstain_precision)} "
            f"{pct(s.abstain_recall)} {pct(s.cross_council)} {pct(s.standard_quotes)} "
            f"{s.latency_p50:7.1f} {s.latency_p95:7.1f}"
        )
    return "\n".join(lines)


def format_failures(name: str, questions: Sequence[EvalQuestion], results: Sequence[QuestionResult]) -> str:
    by_id = {q.id: q for q in questions}
    lines = []
    for r in results:
        q = by_id[r.id]
        if r.answerable and not (r.first_hit and r.first_hit <= 5):
            lines.append(f"- {r.id} [{r.type}] {q.question}")
            lines.append(f"    wanted: {'; '.join(g.doc + ': ' + ' / '.join(g.phrases) for g in q.gold)}")
            for doc, section, text in r.retrieved[:3]:
                lines.append(f"    got: {doc} › {section[:50]} :: {text[:70]!r}")
        elif r.answerable and r.abstained:
            lines.append(f"- {r.id} [{r.type}] abstained on an answerable question "
                         f"(confidence {r.confidence:.3f}): {q.question}")
        elif not r.answerable and not r.abstained:
            lines.append(f"- {r.id} [unanswerable] answered instead of abstaining "
                         f"(confidence {r.confidence:.3f}): {q.question}")
    if not lines:
        return f"{name}: no failures"
    return f"{name}: {sum(1 for l in lines if l.startswith('- '))} failures\n" + "\n".join(lines)


def plot(summaries: Sequence[Summary], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [("R@1", lambda s: s.recall[1]), ("R@5", lambda s: s.recall[5]), ("MRR@10", lambda s: s.mrr),
               ("nDCG@10", lambda s: s.ndcg), ("cover@5", lambda s: s.coverage),
               ("abs-P", lambda s: s.abstain_precision or 0.0), ("abs-R", lambda s: s.abstain_recall or 0.0)]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / max(1, len(summaries))
    for i, s in enumerate(summaries):
        xs = [j + i * width for j in range(len(metrics))]
        ax.bar(xs, [f(s) for _, f in metrics], width, label=s.name)
    ax.set_xticks([j + width * (len(summaries) - 1) / 2 for j in range(len(metrics))])
    ax.set_xticklabels([m for m, _ in metrics])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    ax.set_title("peerqa retrieval evaluation")
    ax.legend(loc="upper center", ncol=len(summaries), fontsize=8, frameon=False)
    ax.set_ylim(0, 1.12)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def with_baseline_corpus(settings: Settings, manifest: dict, given: str | None) -> Settings:
    """The baseline re-reads the raw files: from ``--corpus`` when given, else from the folder
    the index was built from (recorded in its manifest), not the default ``corpus/``."""
    if given or not manifest.get("corpus_dir"):
        return settings
    return replace(settings, corpus_dir=Path(manifest["corpus_dir"]))


def run_eval_command(args, settings: Settings,
                     read_pages: Callable[[Path], Sequence[str]]) -> int:
    """``peerqa eval``; ``read_pages`` reads raw corpus files for the baseline row."""
    from assistant.store import load_index

    questions = load_questions(Path(args.questions))
    if args.split != "all":
        questions = [q for q in questions if q.split == args.split]
    if not questions:
        raise UsageError(f"No questions in split {args.split!r}.")
    store = load_index(settings)
    settings = with_baseline_corpus(settings, store.manifest, given=getattr(args, "corpus", None))
    modes = ["dense", "bm25", "hybrid"] if args.retriever == "all" else [args.retriever]
    per_mode = {m: evaluate(questions, store, settings, m) for m in modes}
    summaries = [summarise(m, per_mode[m]) for m in modes]
    if not args.no_baseline:
        base = baseline_results(questions, store, settings, read_pages)
        per_mode["baseline"] = base
        summaries.insert(0, summarise("baseline", base))
    answerable = sum(q.answerable for q in questions)
    print(f"{len(questions)} questions ({answerable} answerable, {len(questions) - answerable} unanswerable), "
          f"split {args.split}, index {store.version}, settings {settings.digest()}\n")
    print(format_table(summaries))
    main = "hybrid" if "hybrid" in per_mode else modes[0]
    s = next(x for x in summaries if x.name == main)
    print("\nRecall@5 by question type (" + main + "): "
          + ", ".join(f"{t} {v:.3f}" for t, v in s.by_type.items()))
    if s.shown_recall5 is not None:
        print(f"as shown ({main}; register, comparison and listing answers ranked by the passages they "
              f"show): Recall@5 {s.shown_recall5:.3f}, MRR@10 {s.shown_mrr:.3f}")
    if s.council_read is not None:
        misread = [r.id for r in per_mode[main] if r.council_read is False]
        print(f"council read: {s.council_read:.3f} of the questions read as naming a council are read "
              f"as naming the one the file gives" + (f" (misread: {', '.join(misread)})" if misread else ""))
    print(refusal_line(per_mode[main], settings.answerability.threshold) + "\n")
    print(format_failures(main, questions, per_mode[main]))
    if args.json_out:
        payload = {
            "questions_file": str(args.questions), "split": args.split, "index_version": store.version,
            "settings": json.loads(json.dumps(asdict(settings), default=str)), "settings_digest": settings.digest(),
            "summaries": [asdict(x) for x in summaries],
            "results": {m: [asdict(r) for r in rs] for m, rs in per_mode.items()},
        }
        Path(args.json_out).write_text(json.dumps(payload, indent=1), encoding="utf-8")
        print(f"\nwrote {args.json_out}")
    if args.plot:
        plot(summaries, Path(args.plot))
        print(f"wrote {args.plot}")
    return 0


def with_retrieval(settings: Settings, **changes) -> Settings:
    """Settings with some retrieval fields changed (for tuning experiments)."""
    return replace(settings, retrieval=replace(settings.retrieval, **changes))
