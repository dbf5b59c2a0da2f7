"""Theme tagging: the theme table, rules, caching, and accuracy against hand labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from assistant.errors import UsageError
from assistant.themes import (
    THEMES,
    choose,
    chunk_themes,
    resolve_theme,
    rule_scores,
    tag_batch,
    tag_text,
)
from tests.fakes import FakeEmbedder

LABELS = Path(__file__).parent / "fixtures" / "theme_labels.yaml"
IDS = (
    "place-priorities",
    "leadership-of-place",
    "governance",
    "finance",
    "capacity",
    "partnerships",
)


def test_the_six_themes_have_ids_labels_and_descriptions():
    assert tuple(THEMES) == IDS
    for theme_id, theme in THEMES.items():
        assert theme.id == theme_id
        assert theme.label and len(theme.description.split()) >= 20


@pytest.mark.parametrize(
    "value, expected",
    [
        ("finance", "finance"),
        ("Financial planning and management", "finance"),
        ("  leadership OF place ", "leadership-of-place"),
        ("Partnerships and shared services", "partnerships"),
        ("place_priorities", "place-priorities"),
    ],
)
def test_resolve_theme_accepts_ids_and_labels(value, expected):
    assert resolve_theme(value) == expected


def test_resolve_theme_rejects_unknown_and_lists_the_valid_ones():
    with pytest.raises(UsageError) as err:
        resolve_theme("housing")
    message = str(err.value)
    assert "housing" in message and "\n" not in message
    assert all(theme_id in message for theme_id in IDS)


def test_a_heading_naming_a_theme_counts_for_the_whole_section():
    finance = list(THEMES).index("finance")
    scores = rule_scores(
        "Cambridge City Council is in a strong position.",
        ("4. Feedback", "4.4 Financial planning and viability"),
    )
    assert scores.argmax() == finance and scores[finance] > 0
    assert rule_scores("A plain sentence.", ("Finance and Budget Strategy",))[finance] > 0
    assert not rule_scores("A plain sentence.", ("2. Key recommendations",)).any()


def test_choose_orders_by_score_and_keeps_close_seconds():
    sims = np.array([0.01, 0.0, 0.09, 0.02, 0.07, -0.01, 0.0])  # six themes, then PROCESS
    assert choose(sims, np.zeros(6)) == ("governance", "capacity")


def test_choose_gives_no_theme_to_process_text_or_below_average_text():
    process_best = np.array([0.02, 0.01, 0.0, 0.0, 0.0, 0.0, 0.05])
    assert choose(process_best, np.zeros(6)) == ()
    below_average = np.array([-0.02, -0.03, -0.01, -0.05, -0.02, -0.04, -0.06])
    assert choose(below_average, np.zeros(6)) == ()
    rules = np.zeros(6, np.float32)
    rules[3] = 0.1  # a finance heading overrides PROCESS
    assert choose(process_best, rules)[0] == "finance"


def test_chunk_themes_tags_every_chunk_once_per_store(fake_index):
    _, store = fake_index
    encoder = FakeEmbedder()
    tags = chunk_themes(store, encoder)
    assert len(tags) == len(store.chunks)
    assert all(isinstance(t, tuple) and set(t) <= set(IDS) for t in tags)
    assert chunk_themes(store, encoder) is tags  # cached on the store
    headed = [(t, c) for t, c in zip(tags, store.chunks) if "Financial planning" in " ".join(c.section)]
    # the heading is strong evidence, though the fake embedder's random similarities can outweigh
    # it for a chunk; the heading rule itself must put finance first for every one of them
    assert headed and sum("finance" in t for t, _ in headed) >= 0.75 * len(headed)
    finance = list(THEMES).index("finance")
    assert all(int(np.argmax(rule_scores(c.text, c.section))) == finance for _, c in headed)


def test_tag_batch_calibrates_on_the_batch(fake_index):
    encoder = FakeEmbedder()
    texts = ["The MTFS and the budget need savings", "Shared services with South Cambridgeshire"]
    vectors = np.stack([encoder.embed_query(t) for t in texts])
    tags = tag_batch(
        texts, [("Finance and Budget Strategy",), ("Shared Services",)], vectors, encoder
    )
    assert tags[0][0] == "finance" and tags[1][0] == "partnerships"
    assert tag_batch([], [], np.zeros((0, 32)), encoder) == []


# ---------------------------------------------------------------- real model


def _labelled_chunks(store) -> dict[int, set[str]]:
    """Chunk row → hand labels. Entries whose snippets land in the same chunk are merged."""
    items = yaml.safe_load(LABELS.read_text(encoding="utf-8"))
    gold: dict[int, set[str]] = {}
    for item in items:
        rows = [
            i
            for i, c in enumerate(store.chunks)
            if c.doc_id == item["doc"] and item["snippet"] in c.text
        ]
        assert rows, f"snippet not found in any chunk of {item['doc']}: {item['snippet']!r}"
        assert set(item["themes"]) <= set(IDS), item
        gold.setdefault(rows[0], set()).update(item["themes"])
    return gold


# Per-theme (precision, recall) floors, about one chunk under the values measured on 2026-11-25
# (place-priorities 0.59/0.71, leadership-of-place 0.59/0.67, governance 0.53/0.53, finance
# 0.67/0.80, capacity 0.76/0.68, partnerships 0.81/0.61; 14–28 labelled chunks each). Raise them
# when tagging improves; never lower them to make a change pass.
THEME_FLOORS = {
    "place-priorities": (0.54, 0.64), "leadership-of-place": (0.54, 0.60),
    "governance": (0.48, 0.47), "finance": (0.61, 0.73), "capacity": (0.71, 0.63),
    "partnerships": (0.77, 0.57),
}


@pytest.mark.slow
def test_theme_accuracy_against_hand_labels(real_index):
    """Tagger vs the hand-labelled sample in fixtures/theme_labels.yaml.

    Overall accuracy = share of labelled chunks where the tagger's *primary* (highest-scoring)
    theme is one of the hand labels, or where both agree the chunk has no theme (it is about
    the peer challenge process). Per theme, precision and recall compare the full predicted set
    with the full hand-labelled set (multi-label). When two snippets fall in one chunk (after
    re-chunking) their labels are merged.
    """
    _, store = real_index
    gold = _labelled_chunks(store)
    tags = chunk_themes(store)
    assert len(gold) >= 60
    correct = 0
    tp = dict.fromkeys(IDS, 0)
    fp, fn = dict(tp), dict(tp)
    for row, labels in gold.items():
        predicted = tags[row]
        correct += (
            (predicted[0] in labels) if labels and predicted else (not labels and not predicted)
        )
        for theme in IDS:
            tp[theme] += theme in predicted and theme in labels
            fp[theme] += theme in predicted and theme not in labels
            fn[theme] += theme in labels and theme not in predicted
    lines = [f"{'theme':20} {'precision':>9} {'recall':>7} {'labelled':>8}"]
    for theme in IDS:
        precision = tp[theme] / max(1, tp[theme] + fp[theme])
        recall = tp[theme] / max(1, tp[theme] + fn[theme])
        lines.append(f"{theme:20} {precision:9.2f} {recall:7.2f} {tp[theme] + fn[theme]:8d}")
    accuracy = correct / len(gold)
    lines.append(
        f"overall accuracy (primary theme in labels) {accuracy:.3f} over {len(gold)} chunks"
    )
    table = "\n".join(lines)
    print("\n" + table)
    assert accuracy >= 0.80, table
    for theme, (p_min, r_min) in THEME_FLOORS.items():
        precision = tp[theme] / max(1, tp[theme] + fp[theme])
        recall = tp[theme] / max(1, tp[theme] + fn[theme])
        assert precision >= p_min and recall >= r_min, (
            f"{theme}: P {precision:.2f} R {recall:.2f}\n{table}")


@pytest.mark.slow
def test_tag_text_with_the_real_model(real_index):
    _, store = real_index
    finance = tag_text(
        "The medium-term financial strategy must close the budget gap with savings.", store=store
    )
    assert finance and finance[0] == "finance"
    shared = tag_text(
        "Shared services with neighbouring district councils need renewed commitment.", store=store
    )
    assert shared and shared[0] == "partnerships"
