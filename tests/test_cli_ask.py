"""`peerqa ask` as a user runs it: real subprocesses against a real-model index of the seed corpus."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PEERQA = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "peerqa"
CITY = "Cambridge City Council"
COUNTY = "Cambridgeshire County Council"
ANSWER_KEYS = {"question", "answer", "abstained", "reason", "mode", "notice", "passages", "citations",
               "index_version"}
PASSAGE_KEYS = {"n", "doc_id", "title", "council", "doc_type", "date", "section", "page", "start",
                "end", "text", "score", "quoted"}
QUESTIONS = [
    "What did peers say about shared services?",
    "Did the county act on the shared services recommendation?",
    "What did the peers think about how fast the city council makes decisions?",
]


@pytest.fixture(scope="module")
def index_dir(real_index) -> Path:
    return real_index[0].index_dir


def peerqa(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERQA_")}
    env.update(HF_HUB_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1", no_proxy="localhost,127.0.0.1,::1")
    return subprocess.run([str(PEERQA), *args], input=stdin if stdin is not None else "",
                          capture_output=True, text=True, timeout=120, env=env, cwd=cwd,
                          check=False)


def ask(index_dir: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return peerqa("ask", "--index", str(index_dir), *args, **kwargs)


def json_lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def check_schema(data: dict) -> None:
    assert set(data) == ANSWER_KEYS
    for passage in data["passages"]:
        assert set(passage) == PASSAGE_KEYS
    assert set(data["citations"]) <= {p["n"] for p in data["passages"]}


def test_ask_json_prints_one_object(index_dir):
    result = ask(index_dir, QUESTIONS[0], "--json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    check_schema(data)
    assert data["question"] == QUESTIONS[0]
    assert data["abstained"] is False and data["mode"] == "extractive"
    assert len(data["passages"]) == 5 and data["citations"]
    assert data["index_version"]


def test_ask_words_are_joined_into_one_question(index_dir):
    result = ask(index_dir, "What", "did", "peers", "say", "about", "shared", "services?", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["question"] == QUESTIONS[0]


def test_batch_json_answers_every_line_in_order(index_dir, tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_text(f"{QUESTIONS[0]}\n\n   \n{QUESTIONS[1]}\n{QUESTIONS[2]}\n", encoding="utf-8")
    result = ask(index_dir, "--batch", str(questions), "--json")
    assert result.returncode == 0, result.stderr
    answers = json_lines(result.stdout)
    assert [a["question"] for a in answers] == QUESTIONS
    for data in answers:
        check_schema(data)


def test_batch_bad_line_does_not_stop_the_others(index_dir, tmp_path):
    questions = tmp_path / "questions.txt"
    long = "why " * 260  # 1,040 characters: over the 1,000 limit
    questions.write_text(f"{QUESTIONS[0]}\n{long}\n{QUESTIONS[2]}\n", encoding="utf-8")
    result = ask(index_dir, "--batch", str(questions), "--json")
    assert result.returncode == 2
    first, error, last = json_lines(result.stdout)
    assert first["question"] == QUESTIONS[0] and "error" not in first
    assert set(error) == {"question", "error", "line"}
    assert error["line"] == 2 and "limit" in error["error"]
    assert last["question"] == QUESTIONS[2]
    check_schema(first)
    check_schema(last)


def test_batch_from_stdin(index_dir):
    result = ask(index_dir, "--batch", "-", "--json", stdin=f"{QUESTIONS[0]}\n{QUESTIONS[1]}\n")
    assert result.returncode == 0, result.stderr
    assert [a["question"] for a in json_lines(result.stdout)] == QUESTIONS[:2]


def test_batch_missing_file_is_a_usage_error(index_dir, tmp_path):
    result = ask(index_dir, "--batch", str(tmp_path / "missing.txt"))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "missing.txt" in result.stderr


def test_council_filter_and_k(index_dir):
    result = ask(index_dir, QUESTIONS[0], "--council", "county", "-k", "3", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["passages"]) == 3
    assert {p["council"] for p in data["passages"]} == {COUNTY}


def test_city_filter(index_dir):
    result = ask(index_dir, QUESTIONS[1], "--council", "city", "--json")
    assert result.returncode == 0, result.stderr
    assert {p["council"] for p in json.loads(result.stdout)["passages"]} == {CITY}


@pytest.mark.parametrize("k", ["0", "51"])
def test_k_out_of_range(index_dir, k):
    result = ask(index_dir, QUESTIONS[0], "-k", k)
    assert result.returncode == 2
    assert "-k" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_human_output(index_dir):
    result = ask(index_dir, QUESTIONS[0])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"Q: {QUESTIONS[0]}" in out
    assert "Sources" in out and "[1]" in out
    assert "\033[" not in out  # not a terminal: no colour codes
    assert "»" in out and "«" in out  # quotes marked in the passages


def test_interactive_session(index_dir):
    stdin = f"{QUESTIONS[0]}\n{QUESTIONS[1]}\n\n{QUESTIONS[2]}\n"
    result = ask(index_dir, stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Q: ") == 2
    assert f"Q: {QUESTIONS[0]}" in result.stdout and f"Q: {QUESTIONS[1]}" in result.stdout
    assert QUESTIONS[2] not in result.stdout  # the empty line ended the session


def test_interactive_bad_question_continues(index_dir):
    result = ask(index_dir, stdin=f"{'why ' * 260}\n{QUESTIONS[0]}\n")
    assert result.returncode == 0
    assert "limit" in result.stderr
    assert result.stdout.count("Q: ") == 1


def test_no_index(tmp_path):
    result = peerqa("ask", "--index", str(tmp_path / "nowhere"), QUESTIONS[0], cwd=tmp_path)
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "peerqa ingest" in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_empty_question(index_dir):
    result = ask(index_dir, "")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "empty" in lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize("flag, value, names", [
    ("--council", "Oxford", [CITY, COUNTY]),
    ("--doc-type", "minutes", ["progress review"]),
    ("--year", "2017-2013", ["2017-2013"]),
])
def test_bad_filter_is_a_usage_error(index_dir, flag, value, names):
    result = ask(index_dir, QUESTIONS[0], flag, value)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and all(name in lines[0] for name in names)
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_interactive_json_from_a_pipe_is_json_lines(index_dir):
    result = ask(index_dir, "--json", stdin=f"{QUESTIONS[0]}\n{QUESTIONS[1]}\n")
    assert result.returncode == 0, result.stderr
    answers = json_lines(result.stdout)  # no "question> " prompt mixed into the JSON
    assert [a["question"] for a in answers] == QUESTIONS[:2]


def test_interactive_follow_up_is_completed_but_batch_lines_stand_alone(index_dir, tmp_path):
    first, follow = "What did the peers say about the city council's finances?", "and what about the county?"
    result = ask(index_dir, "--json", stdin=f"{first}\n{follow}\n")
    assert result.returncode == 0, result.stderr
    answers = json_lines(result.stdout)
    assert answers[1]["question"] == "What did the peers say about the county council's finances?"
    assert [p["council"] for p in answers[1]["passages"]].count(COUNTY) >= 3  # the county's finances
    batch = tmp_path / "questions.txt"
    batch.write_text(f"{first}\n{follow}\n", encoding="utf-8")
    lines = json_lines(ask(index_dir, "--batch", str(batch), "--json").stdout)
    assert lines[1]["question"] == follow


def test_cambridge_council_means_the_city_council(index_dir):
    """Issue 10's example: a short form of the city's name answers from the city's 2017 report."""
    result = ask(index_dir, "What did the peers say about Cambridge Council's finances?", "--json")
    answer = json.loads(result.stdout)
    assert not answer["abstained"], answer["answer"]
    cited = {answer["passages"][n - 1]["doc_id"] for n in answer["citations"]}
    assert "cambridge-city-2017-corporate-peer-challenge-report" in cited


def test_ask_says_when_the_stored_corpus_facts_are_from_another_version(index_dir, tmp_path):
    """After an upgrade that changes domain.yaml, each `peerqa ask` works the facts out again
    (~30 s at 1,000 documents): it says so on stderr and how to stop it; a current index says
    nothing."""
    import shutil

    fresh = ask(index_dir, QUESTIONS[0])
    assert fresh.returncode == 0 and "peerqa ingest" not in fresh.stderr
    stale = tmp_path / "index"
    shutil.copytree(index_dir, stale)
    facts = stale / (stale / "CURRENT").read_text().strip() / "derived" / "corpus_facts.json"
    facts.write_text(json.dumps({**json.loads(facts.read_text(encoding="utf-8")), "domain": "older"}),
                     encoding="utf-8")
    manifest = facts.parent.parent / "manifest.json"  # as written before it stamped its facts
    manifest.write_text(json.dumps({k: v for k, v in json.loads(manifest.read_text(encoding="utf-8")).items()
                                    if k != "derived_stamp"}), encoding="utf-8")
    result = ask(stale, QUESTIONS[0])
    assert result.returncode == 0 and "run `peerqa ingest` once" in result.stderr
    assert result.stdout == fresh.stdout  # the same answer, only slower
