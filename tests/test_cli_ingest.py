"""`peerqa ingest` and `peerqa ask` failure paths, run as real subprocesses.

The real-model ingest runs once per module; later runs must not need the model at all, which
is checked by putting stub ``sentence_transformers`` and ``torch`` packages that refuse to
import first on PYTHONPATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PEERQA = ROOT / ".venv" / "bin" / "peerqa"
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "TRANSFORMERS_OFFLINE": "1"}


def peerqa(*args: str, cwd: Path, blocked: Path | None = None,
           timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERQA_")}
    env.update(OFFLINE)
    if blocked is not None:
        env["PYTHONPATH"] = str(blocked)
    return subprocess.run([str(PEERQA), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False, timeout=timeout)


@pytest.fixture(scope="module")
def blocked(tmp_path_factory) -> Path:
    """A folder of stub packages whose import fails loudly and leaves a trace."""
    folder = tmp_path_factory.mktemp("blocked")
    for name in ("sentence_transformers", "torch"):
        (folder / name).mkdir()
        (folder / name / "__init__.py").write_text(
            "from pathlib import Path\n"
            f"Path(__file__).parent.parent.joinpath('imported-{name}').touch()\n"
            f"raise ImportError('{name} must not be imported here')\n")
    return folder


def model_imports(blocked: Path) -> list[str]:
    return sorted(p.name for p in blocked.glob("imported-*"))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """A temp copy of the seed corpus, indexed once by the CLI with the real model."""
    work = tmp_path_factory.mktemp("cli")
    corpus = work / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    result = peerqa("ingest", "--corpus", str(corpus), "--index", str(work / "index"), cwd=work)
    return corpus, work / "index", result


def copy_of(built, tmp_path: Path) -> tuple[Path, Path]:
    corpus, index, _ = built
    shutil.copytree(corpus, tmp_path / "corpus")
    shutil.copytree(index, tmp_path / "index")
    return tmp_path / "corpus", tmp_path / "index"


@pytest.mark.slow
def test_first_ingest_prints_a_summary(built) -> None:
    _, index, result = built
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "added 5, updated 0, removed 0, unchanged 0, skipped 0" in lines
    assert lines[-1].startswith("index written: ") and " chunks, version " in lines[-1]
    assert "Traceback" not in result.stderr
    assert (index / "CURRENT").exists()


@pytest.mark.slow
def test_second_ingest_changes_nothing_and_needs_no_model(built, blocked, tmp_path: Path) -> None:
    corpus, index = copy_of(built, tmp_path)
    result = peerqa("ingest", "--corpus", str(corpus), "--index", str(index), cwd=tmp_path,
                    blocked=blocked, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "added 0, updated 0, removed 0, unchanged 5, skipped 0" in result.stdout
    assert "nothing changed; index left as it was" in result.stdout
    assert model_imports(blocked) == []


@pytest.mark.slow
def test_bad_file_gives_exit_4_and_names_the_file(built, blocked, tmp_path: Path) -> None:
    corpus, index = copy_of(built, tmp_path)
    (corpus / "scan.pdf").write_bytes(b"%PDF-1.4\nthis is not really a PDF")
    (corpus / "figures.xlsx").write_bytes(b"PK\x03\x04")
    result = peerqa("ingest", "--corpus", str(corpus), "--index", str(index), cwd=tmp_path,
                    blocked=blocked, timeout=120)
    assert result.returncode == 4, result.stderr
    lines = result.stdout.splitlines()
    assert "added 0, updated 0, removed 0, unchanged 5, skipped 2" in lines
    assert any(l.startswith("  skipped scan.pdf: not a readable PDF") for l in lines)
    assert "  skipped figures.xlsx: unsupported file type .xlsx; supported: .txt, .md, .html, .htm, " \
           ".pdf, .docx" in lines
    assert model_imports(blocked) == []  # nothing new to embed, so no model
    again = peerqa("ingest", "--corpus", str(corpus), "--index", str(index), cwd=tmp_path,
                   blocked=blocked, timeout=120)
    assert again.returncode == 4 and "nothing changed" in again.stdout


@pytest.mark.slow
def test_empty_question_exits_2_with_one_line(built, tmp_path: Path) -> None:
    _, index, _ = built
    result = peerqa("ask", "--index", str(index), "   ", cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("peerqa: ")
    assert "question is empty" in result.stderr


def test_ask_without_index_exits_3_and_says_run_ingest(tmp_path: Path) -> None:
    result = peerqa("ask", "--index", str(tmp_path / "no-index"), "What did the peers say?",
                    cwd=tmp_path, timeout=120)
    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "peerqa ingest" in result.stderr and str(tmp_path / "no-index") in result.stderr
    assert "Traceback" not in result.stderr


def test_ingest_of_a_missing_corpus_folder_is_one_line(tmp_path: Path) -> None:
    result = peerqa("ingest", "--corpus", str(tmp_path / "nowhere"), "--index", str(tmp_path / "index"),
                    cwd=tmp_path, timeout=120)
    assert result.returncode == 2  # bad usage: a folder that is not there
    assert result.stderr.count("\n") == 1 and "No corpus folder" in result.stderr
    assert not (tmp_path / "index").exists()
