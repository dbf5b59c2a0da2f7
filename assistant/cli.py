"""The ``peerqa`` command line: thin wrappers that parse flags, call one function, print.

Exit codes: 0 success; 1 unexpected failure; 2 bad usage (empty or over-long question, bad
filter); 3 index missing, damaged or built with other settings; 4 ingest finished but some
files were skipped (each listed with its reason).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.errors import PeerqaError, UsageError
from assistant.settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        corpus_dir=Path(args.corpus) if getattr(args, "corpus", None) else None,
        index_dir=Path(args.index) if getattr(args, "index", None) else None,
    )


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.build import ingest

    report = ingest(_settings(args), rebuild=args.rebuild)
    print(report.summary())
    return report.exit_code


def _filters(args, store):
    from assistant.retrieval import make_filters

    return make_filters(store, council=args.council, doc_type=args.doc_type, year=args.year,
                        doc_id=args.doc, theme=getattr(args, "theme", None))


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.answering import answer_to_json, ask, validate_question
    from assistant.compare import (
        compare, comparison_to_json, is_comparison, is_listing, list_mentions, listing_to_json,
        render_comparison, render_listing,
    )
    from assistant.render import render_answer
    from assistant.retrieval import Retriever
    from assistant.store import load_index

    settings = _settings(args)
    store = load_index(settings)
    filters = _filters(args, store)
    retriever = Retriever(store, settings)
    if args.k is not None and not 1 <= args.k <= 50:
        raise UsageError("-k must be between 1 and 50.")

    councils = sorted({m.council for m in store.metas.values()})

    def one(question: str) -> int:
        question = validate_question(question, settings)
        if is_listing(question):  # "which reports mention X?": exhaustive, not top-k
            listing = list_mentions(question, store, encoder=retriever.encoder, filters=filters)
            print(json.dumps(listing_to_json(listing), ensure_ascii=False) if args.json
                  else render_listing(listing), flush=True)
            return 0
        if is_comparison(question, councils):  # "… at each council?": grouped by council and year
            comparison = compare(question, store, settings, retriever, filters)
            print(json.dumps(comparison_to_json(comparison), ensure_ascii=False) if args.json
                  else render_comparison(comparison), flush=True)
            return 0
        answer = ask(question, store, settings, filters, args.k, retriever=retriever)
        if args.json:
            print(json.dumps(answer_to_json(answer), ensure_ascii=False), flush=True)
        else:
            print(render_answer(answer, color=sys.stdout.isatty()), flush=True)
        return 0

    if args.batch:
        return _batch(args.batch, one, args.json)
    if args.question:
        return one(" ".join(args.question))
    return _interactive(one)


def _batch(path: str, one, as_json: bool) -> int:
    source = sys.stdin if path == "-" else None
    try:
        handle = source or open(path, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"Cannot read question file {path}: {exc.strerror}.") from exc
    status = 0
    with handle:
        for line_no, line in enumerate(handle, start=1):
            question = line.strip()
            if not question or question.startswith("#"):
                continue
            try:
                one(question)
            except UsageError as exc:  # one bad line must not stop the batch
                status = 2
                error = {"question": question[:200], "error": str(exc), "line": line_no}
                print(json.dumps(error) if as_json else f"line {line_no}: {exc}", flush=True)
    return status


def _interactive(one) -> int:
    print("Ask about the peer challenge documents (empty line or Ctrl-D to quit).", file=sys.stderr)
    while True:
        try:
            # Fix (tests): input() writes its prompt to stdout, so piped `ask --json` printed
            # "question> {...}" lines that no JSON reader accepts; prompt only at a terminal.
            question = input("question> " if sys.stdin.isatty() else "").strip()
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return 0
        if not question:
            return 0
        try:
            one(question)
        except UsageError as exc:
            print(f"peerqa: {exc}", file=sys.stderr)


def cmd_eval(args: argparse.Namespace) -> int:
    from assistant.evaluation import run_eval_command

    return run_eval_command(args, _settings(args))


def cmd_serve(args: argparse.Namespace) -> int:
    import ui

    return ui.serve(_settings(args), host=args.host, port=args.port, auth_file=args.auth_file)


def cmd_users(args: argparse.Namespace) -> int:
    from assistant.users import add_user_interactive

    return add_user_interactive(Path(args.file), args.name)


def cmd_bench(args: argparse.Namespace) -> int:
    from assistant import bench

    return bench.run(args, _settings(args))


def cmd_recommendations(args: argparse.Namespace) -> int:
    from assistant.recommendations import run_command

    return run_command(args, _settings(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="peerqa", description="Questions and cited answers over LGA "
                                     "corporate peer challenge documents.")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--index", help="index folder (default: index, or $PEERQA_INDEX)")
        return p

    p = common(sub.add_parser("ingest", help="build or update the index from the corpus folder"))
    p.add_argument("--corpus", help="corpus folder (default: corpus, or $PEERQA_CORPUS)")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything")
    p.set_defaults(func=cmd_ingest)

    p = common(sub.add_parser("ask", help="ask a question (no question: interactive session)"))
    p.add_argument("question", nargs="*", help="the question")
    p.add_argument("--council", help="only this council (name or alias such as 'city', 'county')")
    p.add_argument("--doc-type", help="only this document type (e.g. 'progress review')")
    p.add_argument("--year", help="only documents of year Y or years Y1-Y2")
    p.add_argument("--doc", help="only this document id")
    p.add_argument("--theme", help="only passages tagged with this theme")
    p.add_argument("-k", type=int, default=None, help="number of passages (default 5)")
    p.add_argument("--json", action="store_true", help="print one JSON object per answer")
    p.add_argument("--batch", metavar="FILE", help="one question per line ('-' for stdin)")
    p.set_defaults(func=cmd_ask)

    p = common(sub.add_parser("eval", help="measure retrieval on a question file"))
    p.add_argument("--questions", default="tests/fixtures/questions.yaml")
    p.add_argument("--retriever", default="all", choices=["dense", "bm25", "hybrid", "all"])
    p.add_argument("--split", default="all", choices=["dev", "test", "holdout", "all"])
    p.add_argument("--json", metavar="FILE", dest="json_out", help="write aggregate and per-question results")
    p.add_argument("--plot", metavar="FILE", help="write a PNG bar chart of the table")
    p.add_argument("--no-baseline", action="store_true", help="skip the tutorial-pipeline baseline row")
    p.set_defaults(func=cmd_eval)

    p = common(sub.add_parser("serve", help="start the web chat"))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth-file", help="users file written by `peerqa users add` (enables login)")
    p.add_argument("--corpus", help="corpus folder, used to build a missing index")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("users", help="manage the login file for `peerqa serve --auth-file`")
    users = p.add_subparsers(dest="action", required=True)
    add = users.add_parser("add", help="add or update a user (asks for the password)")
    add.add_argument("name")
    add.add_argument("--file", default="users.json")
    add.set_defaults(func=cmd_users)

    p = common(sub.add_parser("bench", help="benchmarks: ingest, query, load, login"))
    p.add_argument("what", choices=["ingest", "query", "load", "login"])
    p.add_argument("--corpus", help="corpus folder")
    p.add_argument("--synthetic", type=int, default=100_000, help="synthetic chunk count for `bench query`")
    p.set_defaults(func=cmd_bench)

    p = common(sub.add_parser("recommendations", help="the recommendations register"))
    p.add_argument("--council")
    p.add_argument("--theme")
    p.add_argument("--csv", metavar="FILE")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_recommendations)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PeerqaError as exc:
        print(f"peerqa: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("peerqa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
