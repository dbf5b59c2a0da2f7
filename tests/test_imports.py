"""Imports run one way: cli.py (and bench/) → ui.py | ingest/ → assistant/.

The package contracts live in pyproject.toml ([tool.importlinter]) and are checked by the
real ``lint-imports``; ui.py is a single module, which import-linter cannot analyse as a
root package, so its own imports are read here.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module a file imports, at any depth (lazy imports too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_import_contracts_hold():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_ui_imports_only_the_core():
    assert not imported_modules(ROOT / "ui.py") & {"ingest", "cli", "bench"}


def test_the_reader_sees_lazy_imports(tmp_path):
    """The check above would be empty if nested imports were missed."""
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from ingest.build import ingest\n    import cli\n")
    assert imported_modules(source) == {"ingest", "cli"}


RUFF = Path(sys.executable).parent / "ruff"


def test_no_undefined_names_or_other_pyflakes_errors():
    """`ruff check --select F,E9`: undefined names, unused imports, syntax errors. A line pasted
    into the wrong function (a name it does not have) failed only when that path ran."""
    done = subprocess.run([str(RUFF), "check", "--select", "F,E9", "--output-format", "concise",
                           "assistant", "ingest", "bench", "tests", "cli.py", "ui.py"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
