"""The ``peerqa`` command line: thin wrappers that parse flags, call one function, print.

The only module that wires ``ingest``, ``assistant`` and ``ui`` together (import-linter
contracts in pyproject.toml keep the packages from importing each other the other way).

Exit codes: 0 success; 1 unexpected failure; 2 bad usage (empty or over-long question, bad
filter); 3 index missing, damaged or built with other settings; 4 ingest finished but some
files were skipped (each listed with its reason).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import IndexNotFound, PeerqaError, UsageError
from assistant.settings import Loaded, Settings, describe, load_settings, parse_assignment

if TYPE_CHECKING:
    from assistant.store import IndexStore


def _loaded(args: argparse.Namespace) -> Loaded:
    """Defaults ← config file ← environment ← this command's flags."""
    flags: dict[str, object] = dict(parse_assignment(s) for s in getattr(args, "set", None) or ())
    if getattr(args, "corpus", None):
        flags["corpus_dir"] = Path(args.corpus)
    if getattr(args, "index", None):
        flags["index_dir"] = Path(args.index)
    return load_settings(flags=flags, config=getattr(args, "config", None))


def _settings(args: argparse.Namespace) -> Settings:
    return _loaded(args).settings


def _progress(settings: Settings):
    """Ingest progress on stderr and in the index folder's progress file."""
    from assistant.progress import IngestProgress

    return IngestProgress(Path(settings.index_dir), sys.stderr)


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.build import ingest

    settings = _settings(args)
    report = ingest(settings, rebuild=args.rebuild, allow_empty=args.allow_empty,
                    progress=_progress(settings))
    print(report.summary())
    return report.exit_code


def _filters(args, store):
    from assistant.retrieval import make_filters

    return make_filters(store, council=args.council, doc_type=args.doc_type, year=args.year,
                        doc_id=args.doc, theme=getattr(args, "theme", None))


def _noting_outdated_facts(store: IndexStore, settings: Settings) -> IndexStore:
    """``store``, after one line on stderr when its corpus facts or standard text were stored
    by another version of peerqa or domain.yaml: every question process then works them out
    again (~30 s at 1,000 documents) until an ingest stores them anew. Read from the loaded
    manifest; only an index written before the manifest said so has its files read."""
    from ingest.derived import facts_outdated

    if facts_outdated(store.manifest, store.path, settings):
        print("note: this index's corpus facts were stored by another version of peerqa or of "
              "domain.yaml, so they are worked out again (slow on a large corpus); run `peerqa ingest` "
              "once to store them.", file=sys.stderr)
    return store


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.render.jsonout import result_to_json
    from assistant.render.text import render_result
    from assistant.route import Session, respond
    from assistant.store import load_index

    settings = _settings(args)
    session = Session(_noting_outdated_facts(load_index(settings), settings), settings)
    filters = _filters(args, session.store)
    if args.k is not None and not 1 <= args.k <= 50:
        raise UsageError("-k must be between 1 and 50.")

    asked: list[str] = []  # the interactive session's questions, for follow-ups

    def one(question: str, follow_up: bool = False) -> int:
        query = session.analyse(question, asked if follow_up else ())
        if query.inherited_from and not args.json:
            print(f"(understood as: {query.text})", file=sys.stderr)
        result = respond(query, session, filters, args.k)
        asked.append(query.text)
        print(json.dumps(result_to_json(result), ensure_ascii=False) if args.json
              else render_result(result, color=sys.stdout.isatty()), flush=True)
        return 0

    if args.batch:  # every line stands alone
        return _batch(args.batch, one, args.json)
    if args.question:
        return one(" ".join(args.question))
    return _interactive(lambda question: one(question, follow_up=True))


def decode_input(raw: bytes, where: str) -> str:
    """One line of input as text (UTF-8, a BOM and the line ending dropped), or UsageError
    naming the line and the first bad byte: read as bytes, a bad line costs only itself."""
    raw = raw.removeprefix(b"\xef\xbb\xbf").rstrip(b"\r\n")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start:exc.start + 1].hex()
        raise UsageError(f"{where} is not valid UTF-8 (byte 0x{bad} at position {exc.start + 1}); "
                         "save the file as UTF-8.") from None


def _batch(path: str, one, as_json: bool) -> int:
    try:
        handle = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"Cannot read question file {path}: {exc.strerror}.") from exc
    status = 0
    with handle:
        for line_no, raw in enumerate(handle, start=1):
            try:
                question = decode_input(raw, "this line").strip()
                if not question or question.startswith("#"):
                    continue
                one(question)
            except UsageError as exc:  # one bad line must not stop the batch
                status = 2
                shown = raw.decode("utf-8", "replace").strip()[:200]
                error = {"question": shown, "error": str(exc), "line": line_no}
                print(json.dumps(error) if as_json else f"line {line_no}: {exc}", flush=True)
    return status


def _read_question() -> str:
    """The next typed or piped line; EOFError at the end."""
    if sys.stdin.isatty():
        # Fix (tests): input() writes its prompt to stdout, so piped `ask --json` printed
        # "question> {...}" lines that no JSON reader accepts; prompt only at a terminal.
        try:
            return input("question> ")
        except UnicodeDecodeError:
            raise UsageError("that line is not valid UTF-8; check the terminal's encoding.") from None
    raw = sys.stdin.buffer.readline()  # piped: bytes, so a bad line costs only itself
    if not raw:
        raise EOFError
    return decode_input(raw, "that line")


def _interactive(one) -> int:
    print("Ask about the peer challenge documents (empty line or Ctrl-D to quit).", file=sys.stderr)
    while True:
        try:
            question = _read_question().strip()
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return 0
        except UsageError as exc:
            print(f"peerqa: {exc}", file=sys.stderr)
            continue
        if not question:
            return 0
        try:
            one(question)
        except UsageError as exc:
            print(f"peerqa: {exc}", file=sys.stderr)


def check_argv(args: list[str]) -> None:
    """Arguments that were not valid UTF-8 arrive with surrogate escapes, which the tokenizer
    rejects with a TypeError deep inside; say which argument instead."""
    for n, arg in enumerate(args, start=1):
        if isinstance(arg, str) and any("\udc80" <= ch <= "\udcff" for ch in arg):
            raise UsageError(f"argument {n} is not valid UTF-8 ({arg.encode('utf-8', 'surrogateescape')!r}); "
                             "check the terminal's encoding.")


def cmd_eval(args: argparse.Namespace) -> int:
    from assistant.evaluation import run_eval_command
    from ingest.loaders import load

    # The tutorial baseline reads the raw files; the loader comes from ingest, passed in here.
    return run_eval_command(args, _settings(args), read_pages=lambda path: load(path).pages)


def load_or_ingest(settings: Settings) -> IndexStore:
    """The index, built from the corpus folder first when there is none yet."""
    from assistant.store import load_index

    try:
        return load_index(settings)
    except IndexNotFound:
        if not Path(settings.corpus_dir).is_dir():
            hint = (f"There is no corpus folder at {settings.corpus_dir}/ either: put documents "
                    "in a corpus folder and run `peerqa ingest` first.")
            raise IndexNotFound(str(settings.index_dir).rstrip("/"), hint) from None
        from ingest.build import ingest

        print(f"peerqa: no index yet; building it from {settings.corpus_dir}/ …", file=sys.stderr)
        print(ingest(settings, progress=_progress(settings)).summary(), file=sys.stderr)
        return load_index(settings)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860,
          auth_file: str | None = None) -> int:
    """The web chat over the index, building a missing one first."""
    import ui

    return ui.serve(settings, host=host, port=port, auth_file=auth_file,
                    load=lambda s: _noting_outdated_facts(load_or_ingest(s), s))


def cmd_serve(args: argparse.Namespace) -> int:
    return serve(_settings(args), host=args.host, port=args.port, auth_file=args.auth_file)


def cmd_config(args: argparse.Namespace) -> int:
    """Print every setting: value, where it came from, description."""
    loaded = _loaded(args)
    rows = describe(loaded)
    if args.json:
        print(json.dumps({"config_file": str(loaded.config_file or ""), "settings": rows},
                         ensure_ascii=False, indent=1))
        return 0
    print(f"config file: {loaded.config_file or 'none'}")
    width = max(len(r["name"]) for r in rows)
    value_width = min(28, max(len(repr(r["value"])) for r in rows))
    source_width = max(len(r["source"]) for r in rows)
    for r in rows:
        print(f"{r['name']:<{width}}  {r['value']!r:<{value_width}}  "
              f"{r['source']:<{source_width}}  {r['description']}")
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    from assistant.users import add_user_interactive

    return add_user_interactive(Path(args.file), args.name)


def cmd_bench(args: argparse.Namespace) -> int:
    from bench.run import run

    return run(args, _settings(args))


def cmd_fit(args: argparse.Namespace) -> int:
    """Fit sentence selection and answerability on the dev split; print the TOML to use."""
    from assistant.evaluation import load_questions
    from assistant.fitting import as_toml, fit
    from assistant.store import load_index

    settings = _settings(args)
    pairs = [(load_index(replace(settings, index_dir=Path(index))), load_questions(Path(questions)))
             for index, questions in (args.pair or [(str(settings.index_dir), args.questions)])]
    selection, answerability = fit(pairs, settings, args.max_refused, keep_selection=args.keep_selection)
    print(as_toml(selection, answerability))
    return 0


def cmd_recommendations(args: argparse.Namespace) -> int:
    from assistant.recommendations import run_command

    return run_command(args, _settings(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="peerqa", description="Questions and cited answers over LGA "
                                     "corporate peer challenge documents.")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--index", help="index folder (default: index, or $PEERQA_INDEX)")
        return configurable(p)

    def configurable(p):
        p.add_argument("--config", metavar="FILE",
                       help="TOML settings file (default: $PEERQA_CONFIG, else ./peerqa.toml)")
        p.add_argument("--set", action="append", metavar="GROUP.FIELD=VALUE",
                       help="override one setting, e.g. retrieval.k=8 (repeatable)")
        return p

    p = common(sub.add_parser("ingest", help="build or update the index from the corpus folder"))
    p.add_argument("--corpus", help="corpus folder (default: corpus, or $PEERQA_CORPUS)")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything")
    p.add_argument("--allow-empty", action="store_true",
                   help="publish an index even when no document is left (removes every document)")
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
    p.add_argument("--corpus", help="raw files for the baseline (default: the folder the index was built from)")
    p.set_defaults(func=cmd_eval)

    p = common(sub.add_parser("fit", help="fit sentence selection and answerability on the dev split"))
    p.add_argument("--questions", default="tests/fixtures/questions.yaml", help="questions for --index")
    p.add_argument("--pair", nargs=2, action="append", metavar=("INDEX", "QUESTIONS"),
                   help="an index folder and its question file (repeat for several corpora)")
    p.add_argument("--max-refused", type=float, default=0.02,
                   help="share of answerable dev questions the threshold may refuse")
    p.add_argument("--keep-selection", action="store_true",
                   help="fit only the answerability model, on the configured selection weights")
    p.set_defaults(func=cmd_fit)

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

    p = common(sub.add_parser("bench", help="benchmarks: ingest, query, load, login, scale"))
    p.add_argument("what", choices=["ingest", "query", "load", "login", "scale"])
    p.add_argument("--corpus", help="corpus folder")
    p.add_argument("--synthetic", type=int, default=100_000, help="synthetic chunk count for `bench query`")
    p.add_argument("--chunks", default="1000,10000",
                   help="`bench scale`: corpus sizes in chunks, e.g. 1000,10000,100000")
    p.add_argument("--docs", type=int,
                   help="`bench scale`: documents per corpus (default: from the size)")
    p.add_argument("--seed", type=int, default=0, help="`bench scale`: corpus generator seed")
    p.add_argument("--keep", metavar="DIR", help="`bench scale`: keep corpora and indexes in DIR")
    p.add_argument("--json", action="store_true", help="`bench scale`: print JSON, not a table")
    p.set_defaults(func=cmd_bench)

    p = common(sub.add_parser("recommendations", help="the recommendations register"))
    p.add_argument("--council")
    p.add_argument("--theme")
    p.add_argument("--csv", metavar="FILE")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_recommendations)

    p = common(sub.add_parser("config", help="print the effective settings and their sources"))
    p.add_argument("--corpus", help="corpus folder")
    p.add_argument("--json", action="store_true", help="print them as JSON")
    p.set_defaults(func=cmd_config)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        check_argv(sys.argv[1:] if argv is None else argv)
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
