"""Settings: descriptions, the layers defaults ← file ← env ← flags, errors, `peerqa config`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import UsageError
from assistant.recommendations import match_statements
from assistant.settings import (
    RegisterSettings,
    Settings,
    ThemeSettings,
    describe,
    field_table,
    load_settings,
)
from assistant.themes import choose, rule_scores
from cli import main


def load(tmp_path: Path, env: dict | None = None, flags: dict | None = None,
         config: str | None = None, toml: str | None = None):
    if toml is not None:
        (tmp_path / "peerqa.toml").write_text(toml, encoding="utf-8")
    return load_settings(env=env or {}, flags=flags, config=config, cwd=tmp_path)


def test_every_field_has_a_one_line_description():
    table = field_table()
    assert len(table) > 30 and "retrieval.k" in table and "register.linked" in table
    for name, info in table.items():
        assert info.description and "\n" not in info.description, name
    groups = [f for f in dataclasses.fields(Settings)]
    assert all(f.metadata.get("description") for f in groups)


def test_settings_stay_plain_frozen_dataclasses():
    settings = Settings(index_dir=Path("x"), model="fake")
    changed = dataclasses.replace(settings, retrieval=dataclasses.replace(settings.retrieval, k=9))
    assert changed.retrieval.k == 9 and settings.retrieval.k == 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.model = "other"  # type: ignore[misc]
    assert changed.digest() != settings.digest()  # the digest sees nested fields


def test_chunking_hash_is_unchanged_so_existing_indexes_still_load():
    # Descriptions are metadata: the hash of the default chunker must not move. (It moved on
    # 2026-11-25 on purpose: a new field, chunking.min_section_chars; and again on 2026-11-26:
    # min_section_chars on (80) and new fields, chunking.cover_chars and min_piece_tokens; and
    # on 2026-11-26 again: CHUNKER_VERSION 5, sentences of inline numbered lists; and on
    # 2026-11-27: cover_chars on (160) and CHUNKER_VERSION 6, no cover block is a chunk of its own;
    # and CHUNKER_VERSION 7: a numbered title in text whose lines are its paragraphs is a heading;
    # CHUNKER_VERSION 8: a line reading as a clause, "… 18 recommendations which prioritise", is no
    # heading.)
    assert Settings().chunking_hash() == "ee925a1c8253"


def test_layers_file_then_env_then_flags(tmp_path):
    toml = ("batch_size = 8\n[retrieval]\nk = 7\ncandidates = 30\n"
            "[answer]\nabstain_threshold = 0.3\n")
    env = {"PEERQA_RETRIEVAL__K": "9", "PEERQA_INDEX": "from-env"}
    loaded = load(tmp_path, env, {"retrieval.candidates": "50"}, toml=toml)
    s = loaded.settings
    assert (s.batch_size, s.retrieval.k, s.retrieval.candidates) == (8, 9, 50)
    assert s.answer.abstain_threshold == 0.3 and s.index_dir == Path("from-env")
    assert loaded.config_file == tmp_path / "peerqa.toml"
    assert loaded.sources["batch_size"].startswith("file ")
    assert loaded.sources["retrieval.k"] == "env PEERQA_RETRIEVAL__K"
    assert loaded.sources["index_dir"] == "env PEERQA_INDEX"
    assert loaded.sources["retrieval.candidates"] == "flag"
    assert loaded.sources["model"] == "default" and s.model == Settings().model


def test_generic_env_names_win_over_the_legacy_ones(tmp_path):
    env = {"PEERQA_LLM_TIMEOUT": "5", "PEERQA_ANSWER__LLM_TIMEOUT": "7",
           "PEERQA_LLM_URL": "http://h/v1"}
    s = load(tmp_path, env).settings
    assert s.answer.llm_timeout == 7.0 and s.answer.llm_url == "http://h/v1"
    assert Settings.from_env(env={"PEERQA_LLM_TIMEOUT": "0.5"}).answer.llm_timeout == 0.5


def test_config_file_choice(tmp_path):
    other = tmp_path / "other.toml"
    other.write_text("[retrieval]\nk = 3\n")
    (tmp_path / "peerqa.toml").write_text("[retrieval]\nk = 4\n")
    assert load(tmp_path).settings.retrieval.k == 4  # ./peerqa.toml
    assert load(tmp_path, {"PEERQA_CONFIG": str(other)}).settings.retrieval.k == 3
    explicit = load(tmp_path, {"PEERQA_CONFIG": "nope.toml"}, config=str(other))
    assert explicit.settings.retrieval.k == 3
    assert load_settings(env={}, cwd=tmp_path, use_file=False).settings.retrieval.k == 5


@pytest.mark.parametrize("toml, message", [
    ("[retrieval]\nkk = 3\n", "unknown setting 'retrieval.kk'"),
    ("colour = 'red'\n", "unknown setting 'colour'"),
    ("[retrieval]\nk = 'many'\n", "retrieval.k must be an integer"),
    ("[retrieval]\nk = 2.5\n", "retrieval.k must be an integer"),
    ("[retrieval]\nk = true\n", "retrieval.k must be an integer"),
    ("retrieval = 3\n", "[retrieval] must be a section"),
    ("[retrieval\n", "not valid TOML"),
    ("[chunking]\noverlap_tokens = 400\n", "overlap_tokens must be smaller"),
    ("[retrieval]\nfusion = 'max'\n", "fusion must be 'weighted' or 'rrf'"),
])
def test_bad_config_files_give_one_line_errors_naming_key_and_file(tmp_path, toml, message):
    with pytest.raises(UsageError) as err:
        load(tmp_path, toml=toml)
    text = str(err.value)
    assert message in text and "\n" not in text
    if "setting" in message or "must be an" in message:
        assert "peerqa.toml" in text


def test_toml_integers_are_accepted_for_numbers(tmp_path):
    loaded = load(tmp_path, toml="[answer]\nabstain_threshold = 1\n")
    assert loaded.settings.answer.abstain_threshold == 1.0


@pytest.mark.parametrize("env, message", [
    ({"PEERQA_RETRIEVAL__K": "eight"}, "$PEERQA_RETRIEVAL__K: retrieval.k must be an integer"),
    ({"PEERQA_LLM_TIMEOUT": "soon"}, "$PEERQA_LLM_TIMEOUT: answer.llm_timeout must be a number"),
    ({"PEERQA_RETRIEVL__K": "3"}, "$PEERQA_RETRIEVL__K: unknown setting"),
    ({"PEERQA_CONFIG": "missing.toml"}, "Config file missing.toml not found"),
])
def test_bad_environment_values_give_one_line_errors(tmp_path, env, message):
    with pytest.raises(UsageError, match=message.replace("$", r"\$")):
        load(tmp_path, env)


def test_secrets_are_masked_in_the_description(tmp_path):
    rows = {r["name"]: r for r in describe(load(tmp_path, {"PEERQA_LLM_KEY": "sekret"}))}
    assert rows["answer.llm_key"]["value"] == "***"
    assert rows["answer.llm_key"]["source"] == "env PEERQA_LLM_KEY"


def test_peerqa_config_prints_value_source_and_description(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PEERQA_THEMES__MARGIN", "0.08")
    (tmp_path / "peerqa.toml").write_text("[compare]\nper_group = 2\n")
    assert main(["config", "--set", "retrieval.k=6", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["settings"]}
    assert set(rows) == set(field_table())
    assert (rows["compare.per_group"]["value"], rows["compare.per_group"]["source"]) == (
        2, f"file {tmp_path / 'peerqa.toml'}")
    assert rows["themes.margin"]["value"] == 0.08
    assert rows["retrieval.k"]["source"] == "flag"
    assert main(["config"]) == 0
    text = capsys.readouterr().out
    line = next(x for x in text.splitlines() if x.startswith("compare.per_group"))
    assert "2" in line and "file" in line and "passages shown per council and year" in line
    assert main(["config", "--set", "retrieval.k=x"]) == 2
    assert "retrieval.k must be an integer" in capsys.readouterr().err


def test_register_and_theme_numbers_come_from_settings():
    sims = np.array([[0.70, 0.45, 0.30]])
    assert match_statements(sims)[0][0][1] == "linked"
    strict = dataclasses.replace(RegisterSettings(), linked=0.75, max_possible=1)
    assert [s for _, s, _ in match_statements(sims, tuning=strict)[0]] == ["possibly related"]
    heading = ("4.4 Financial planning and viability",)
    base = rule_scores("The budget", heading)
    doubled = rule_scores("The budget", heading,
                          dataclasses.replace(ThemeSettings(), heading_weight=0.2))
    assert doubled.max() == pytest.approx(base.max() + 0.1)
    scores = np.array([0.06, 0.01, 0.03, -0.02, 0.0, 0.0, 0.02])
    assert len(choose(scores, np.zeros(6), margin=0.01)) == 1 < len(choose(scores, np.zeros(6)))


def test_the_store_carries_its_settings(index):
    settings, store = index
    assert store.settings is settings
