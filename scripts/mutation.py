"""Mutation testing, small and bounded: does the fast test suite notice when the code is wrong?

Applies one simple mutation at a time to a module (flip a comparison, swap ``and``/``or``,
change a number, negate a boolean constant, drop a ``not``, return ``None`` instead of a value,
``+`` ↔ ``-``), runs that module's fast tests (not ``slow``, not ``browser``) with ``-x`` in a
scratch copy of the repository, and lists the mutants no test killed (the *survivors*): each is
a defect the tests would let through, or an equivalent change worth a look.

    python scripts/mutation.py                      # 40 mutants, 20 per module, seed 0
    python scripts/mutation.py --count 10 --seed 3 --module assistant/retrieval.py
    python scripts/mutation.py --module assistant/answering.py --site 12 --site 40 \
        --tests tests/test_answering.py tests/test_cli_ask.py   # re-check two survivors

Not part of CI (minutes, not seconds). Mutants are sampled with a fixed seed so a run can be
repeated; ``--list`` prints every mutation site without running anything.
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = {  # module -> the fast tests that exercise it
    "assistant/retrieval.py": ["tests/test_retrieval.py"],
    "assistant/answering.py": ["tests/test_answering.py"],
}
COPY = ["assistant", "ingest", "ui.py", "tests", "corpus", "pyproject.toml", "README.md"]
FLIP = {ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt, ast.Eq: ast.NotEq,
        ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot,
        ast.IsNot: ast.Is}


@dataclass(frozen=True)
class Site:
    module: str
    index: int  # n-th mutable node of the module, in ast.walk order
    line: int
    description: str


def _docstring_ids(tree: ast.AST) -> set[int]:
    """Constants that are docstrings: not worth mutating."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _describe(node: ast.AST) -> str | None:
    """What mutating ``node`` would do, or None when it is not a mutation site."""
    if isinstance(node, ast.Compare) and type(node.ops[0]) in FLIP:
        return f"{type(node.ops[0]).__name__} -> {FLIP[type(node.ops[0])].__name__}"
    if isinstance(node, ast.BoolOp):
        return "and -> or" if isinstance(node.op, ast.And) else "or -> and"
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return f"{node.value} -> {not node.value}"
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return f"{node.value!r} -> {_new_number(node.value)!r}"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return "drop not"
    if isinstance(node, ast.Return) and node.value is not None and not (
            isinstance(node.value, ast.Constant) and node.value.value is None):
        return "return None"
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        return "+ -> -" if isinstance(node.op, ast.Add) else "- -> +"
    return None


def _new_number(value: int | float) -> int | float:
    if isinstance(value, int):
        return value + 1
    return value * 1.5 if value else 0.5


def _sites_and_nodes(source: str, module: str) -> tuple[ast.Module, list[tuple[Site, ast.AST]]]:
    tree = ast.parse(source)
    skip = _docstring_ids(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        description = _describe(node)
        if description:
            found.append((Site(module, len(found), getattr(node, "lineno", 0), description), node))
    return tree, found


def _mutate(node: ast.AST) -> ast.AST:
    """The mutated ``node`` (see ``_describe``): changed in place, or its replacement."""
    if isinstance(node, ast.Compare):
        node.ops[0] = FLIP[type(node.ops[0])]()
    elif isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        node.value = not node.value
    elif isinstance(node, ast.Constant):
        node.value = _new_number(node.value)
    elif isinstance(node, ast.UnaryOp):  # `not x` -> `x`
        return node.operand
    elif isinstance(node, ast.Return):
        node.value = ast.Constant(None)
    elif isinstance(node, ast.BinOp):
        node.op = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
    return node


class _Replace(ast.NodeTransformer):
    def __init__(self, target: ast.AST) -> None:
        self.target = target

    def visit(self, node: ast.AST) -> ast.AST:
        if node is self.target:
            return _mutate(node)
        return self.generic_visit(node)


def mutant_source(source: str, module: str, index: int) -> str:
    tree, found = _sites_and_nodes(source, module)
    tree = _Replace(found[index][1]).visit(tree)
    return ast.unparse(ast.fix_missing_locations(tree))


def run_tests(workdir: Path, tests: list[str], timeout: float) -> str:
    """'killed', 'survived' or 'timeout' (counted as killed: the mutant hangs the suite)."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
           "-m", "not slow and not browser", *tests]
    env = {**os.environ, "PYTHONPATH": str(workdir), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout"
    return "survived" if proc.returncode == 0 else "killed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", action="append", choices=sorted(TESTS))
    parser.add_argument("--count", type=int, default=40, help="mutants in all (split evenly)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=300, help="seconds per test run")
    parser.add_argument("--list", action="store_true", help="print the mutation sites and stop")
    parser.add_argument("--site", type=int, action="append",
                        help="run this site number (from --list) of the one --module given")
    parser.add_argument("--tests", nargs="+", help="test files to run instead of the module's own "
                        "(e.g. every fast test file, to re-check survivors)")
    args = parser.parse_args(argv)
    modules = args.module or sorted(TESTS)
    if args.tests:
        for module in modules:
            TESTS[module] = args.tests
    rng = random.Random(args.seed)
    chosen: list[Site] = []
    for module in modules:
        sites = [s for s, _ in _sites_and_nodes((ROOT / module).read_text(), module)[1]]
        if args.list:
            for s in sites:
                print(f"{module}:{s.line}  #{s.index}  {s.description}")
        elif args.site:
            chosen += [sites[i] for i in args.site]
        else:
            chosen += sorted(rng.sample(sites, min(len(sites), args.count // len(modules))),
                             key=lambda s: s.index)
    if args.list:
        return 0
    with tempfile.TemporaryDirectory(prefix="peerqa-mutation-") as scratch:
        work = Path(scratch)
        for name in COPY:
            src = ROOT / name
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, work / name)
        for module in modules:
            if run_tests(work, TESTS[module], args.timeout) != "survived":
                print(f"the tests of {module} fail without any mutation: fix them first")
                return 2
        return _run_mutants(work, chosen, args.timeout)


def _run_mutants(work: Path, chosen: list[Site], timeout: float) -> int:
    survivors = []
    started = time.monotonic()
    for n, site in enumerate(chosen, 1):
        path = work / site.module
        original = (ROOT / site.module).read_text()
        path.write_text(mutant_source(original, site.module, site.index))
        try:
            outcome = run_tests(work, TESTS[site.module], timeout)
        finally:
            path.write_text(original)
        print(f"[{n}/{len(chosen)}] {outcome:8} {site.module}:{site.line} {site.description}",
              flush=True)
        if outcome == "survived":
            survivors.append(site)
    killed = len(chosen) - len(survivors)
    print(f"\n{killed} of {len(chosen)} mutants killed in {time.monotonic() - started:.0f} s; "
          f"{len(survivors)} survived:")
    for site in survivors:
        print(f"  {site.module}:{site.line}  #{site.index}  {site.description}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
