"""Peer challenge themes: the LGA core components plus partnerships and shared services.

A text is tagged with zero or more themes by adding three kinds of evidence per theme:

* zero-shot similarity: the cosine between the text's vector and the theme's written
  description (each description sentence is embedded on its own; the best one counts),
  minus the corpus's mean cosine for that theme (calibration: raw cosines favour the
  broadest descriptions). A chunk counts its own vector and its sentences' mean equally;
* the section path: a heading that names a theme ("4.4 Financial planning and viability",
  "Finance and Budget Strategy") is strong evidence for the whole section;
* keywords: a few theme words ("MTFS", "shared services", "scrutiny") add a little.

The theme with the highest score is the primary one; others whose score is within
``margin`` (Settings.themes) of it are kept too. Texts about the peer challenge itself (who the peers were,
the timetable, contact details) are closest to ``PROCESS``, or below the corpus average for
every theme, and get no theme.

Accuracy on the hand-labelled sample (tests/fixtures/theme_labels.yaml) is measured by
tests/test_themes.py. Worked example (real model)::

    >>> tag_text("The current MTFS is a five year projection and the Budget Setting Report "
    ...          "could be strengthened",
    ...          section=("4. Feedback", "4.4 Financial planning and viability"))
    ('finance',)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.domain import ThemeSpec, load_domain
from assistant.errors import UsageError
from assistant.settings import ThemeSettings
from assistant.store import IndexStore


Theme = ThemeSpec  # id, label, description, headings pattern, keywords pattern (domain.yaml)
THEMES: dict[str, Theme] = {t.id: t for t in load_domain().themes}
# Texts about the peer challenge itself rather than about the council: they get no theme.
PROCESS = load_domain().process_description

DEFAULTS = ThemeSettings()  # weights and margin: Settings.themes

def resolve_theme(value: str) -> str:
    """A theme id from an id or a label, case-insensitively; UsageError otherwise.

    >>> resolve_theme("Financial planning and management"), resolve_theme(" FINANCE ")
    ('finance', 'finance')
    """
    wanted = " ".join((value or "").lower().replace("_", "-").split())
    for theme in THEMES.values():
        if wanted in (theme.id, theme.label.lower()):
            return theme.id
    choices = "; ".join(f"{t.id} ({t.label})" for t in THEMES.values())
    raise UsageError(f"Unknown theme {value!r}; use one of: {choices}.")


def theme_label(theme_id: str) -> str:
    return THEMES[theme_id].label


# ---------------------------------------------------------------- scoring


def _description_sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=\.)\s+", text.strip()) if s]


class _Prototypes:
    """Unit vectors of every description sentence of every theme, then of PROCESS."""

    def __init__(self, encoder) -> None:
        texts = [t.description for t in THEMES.values()] + [PROCESS]
        self.blocks = [
            np.stack([encoder.embed_query(s) for s in _description_sentences(t)]) for t in texts
        ]

    def similarities(self, vectors: np.ndarray, rows: int = 1 << 16) -> np.ndarray:
        """(n, len(THEMES) + 1): for each vector, its best cosine with each theme's sentences.
        In blocks of ``rows`` vectors (~100 MB each in float32): the stored sentence vectors are
        float16, so the whole array in float32 would be a copy of ~1.2 GB at 100k chunks."""
        vectors = np.asarray(vectors).reshape(-1, self.blocks[0].shape[1])
        out = np.zeros((len(vectors), len(self.blocks)), np.float32)
        for start in range(0, len(vectors), rows):
            part = np.asarray(vectors[start:start + rows], np.float32)
            out[start:start + rows] = np.stack([(part @ block.T).max(axis=1) for block in self.blocks], axis=1)
        return out


_PROTOTYPES: dict[str, _Prototypes] = {}  # model id → description vectors (small)


def _prototypes(encoder) -> _Prototypes:
    key = str(getattr(encoder, "model_id", "") or id(encoder))
    if key not in _PROTOTYPES:
        _PROTOTYPES[key] = _Prototypes(encoder)
    return _PROTOTYPES[key]


def rule_scores(
    text: str, section: Sequence[str] = (), weights: ThemeSettings = DEFAULTS
) -> np.ndarray:
    """Heading and keyword evidence per theme, in THEMES order.

    >>> rule_scores("The MTFS and the budget", ("4.4 Financial planning and viability",)).round(2)
    array([0.  , 0.  , 0.  , 0.12, 0.  , 0.  ], dtype=float32)
    """
    heading = " / ".join(section)
    scores = np.zeros(len(THEMES), dtype=np.float32)
    for i, theme in enumerate(THEMES.values()):
        if heading and re.search(theme.headings, heading, re.IGNORECASE):
            scores[i] += weights.heading_weight
        found = {m.group(0).lower() for m in re.finditer(theme.keywords, text, re.IGNORECASE)}
        scores[i] += weights.keyword_weight * min(len(found), weights.max_keywords)
    return scores


def choose(
    similarity: np.ndarray, rules: np.ndarray, margin: float = DEFAULTS.margin
) -> tuple[str, ...]:
    """Themes from calibrated similarities (themes, then PROCESS) and rule scores, best first.

    No theme when PROCESS fits best and no rule fired, or when the text is less similar to
    every theme than the corpus average is.

    >>> choose(np.array([0.06, 0.01, 0.03, -0.02, 0.0, 0.0, 0.02]), np.zeros(6))
    ('place-priorities', 'governance', 'leadership-of-place')
    >>> choose(np.array([0.06, 0.01, 0.03, -0.02, 0.0, 0.0, 0.08]), np.zeros(6))
    ()
    """
    scores = similarity[:-1] + rules
    best = float(scores.max())
    if best <= 0 or (similarity[-1] >= best and not rules.any()):
        return ()
    names = list(THEMES)
    order = np.argsort(-scores, kind="stable")
    return tuple(names[i] for i in order if scores[i] >= best - margin)


@dataclass(frozen=True)
class Calibration:
    """Mean similarity of a store's chunk and sentence vectors to each prototype.

    Zero-shot similarities are biased: every chunk of a council report is fairly close to a
    description that mentions "the council" and "partners". Subtracting the corpus mean per
    theme ("contextual calibration") makes the themes comparable.
    """

    chunk: np.ndarray
    sentence: np.ndarray

    @classmethod
    def none(cls) -> Calibration:
        zero = np.zeros(len(THEMES) + 1, np.float32)
        return cls(zero, zero)


@dataclass(frozen=True)
class _StoreThemes:
    encoder: object
    calibration: Calibration
    tags: list[tuple[str, ...]]


def index_encoder(store: IndexStore | None = None):
    """A query encoder for the model the index was built with (default model without index)."""
    from assistant.embedding import QueryEncoder
    from assistant.settings import Settings

    model = (store.manifest.get("model_id") if store is not None else None) or Settings().model
    return QueryEncoder(model, store.settings.onnx_dir if store is not None else "")


def _store_themes(store: IndexStore, encoder=None) -> _StoreThemes:
    return store.derived("themes", lambda: _compute_store_themes(store, encoder))


def _compute_store_themes(store: IndexStore, encoder=None) -> _StoreThemes:
    encoder = encoder or index_encoder(store)
    prototypes, tuning = _prototypes(encoder), store.settings.themes
    n = len(store.chunks)
    chunk_sims = prototypes.similarities(store.vectors) if n else np.zeros((0, len(THEMES) + 1))
    sentence_sims = (
        prototypes.similarities(store.sentence_vectors)
        if len(store.sentence_vectors)
        else np.zeros((0, len(THEMES) + 1))
    )
    calibration = Calibration(
        chunk=chunk_sims.mean(axis=0) if n > 1 else Calibration.none().chunk,
        sentence=sentence_sims.mean(axis=0)
        if len(sentence_sims) > 1
        else Calibration.none().sentence,
    )
    tags = []
    for row, chunk in enumerate(store.chunks):
        score = chunk_sims[row] - calibration.chunk
        first = int(store.sentence_offsets[row])
        sentences = sentence_sims[first : first + len(chunk.sentences)]
        if len(sentences):  # the chunk as a whole and its sentences on average count equally
            score = (score + (sentences - calibration.sentence).mean(axis=0)) / 2
        rules = rule_scores(chunk.text, chunk.section, tuning)
        tags.append(choose(score, rules, tuning.margin))
    return _StoreThemes(encoder, calibration, tags)


def chunk_themes(store: IndexStore, encoder=None) -> list[tuple[str, ...]]:
    """One tuple of theme ids per chunk of ``store`` (chunk order, best first); cached per store.

    ``encoder`` must embed into the space of the store's vectors (default: the index's model).
    """
    return _store_themes(store, encoder).tags


def tag_text(
    text: str,
    section: Sequence[str] = (),
    vector: np.ndarray | None = None,
    encoder=None,
    store: IndexStore | None = None,
) -> tuple[str, ...]:
    """Themes of one text, best first.

    ``vector`` (unit, the encoder's space) saves an encoding. With ``store`` the similarities
    are calibrated against that corpus's sentences (recommended); without, raw similarities
    are used, which favour the broader descriptions.
    """
    tuning = store.settings.themes if store is not None else DEFAULTS
    if store is not None:
        known = _store_themes(store, encoder)
        encoder, calibration = encoder or known.encoder, known.calibration
    else:
        encoder, calibration = encoder or index_encoder(), Calibration.none()
    if vector is None:
        vector = encoder.embed_query(text)
    similarity = _prototypes(encoder).similarities(vector)[0] - calibration.sentence
    return choose(similarity, rule_scores(text, section, tuning), tuning.margin)


def tag_batch(
    texts: Sequence[str],
    sections: Sequence[Sequence[str]],
    vectors: np.ndarray,
    encoder,
    tuning: ThemeSettings = DEFAULTS,
) -> list[tuple[str, ...]]:
    """Themes of many texts of one kind (e.g. register records), calibrated on the batch itself.

    Short texts embedded on their own sit differently from chunk vectors, so their own mean
    similarity per theme is the fairer baseline (falls back to none for fewer than two texts).
    """
    if not len(texts):
        return []
    sims = _prototypes(encoder).similarities(vectors)
    baseline = sims.mean(axis=0) if len(texts) > 1 else Calibration.none().sentence
    return [
        choose(row - baseline, rule_scores(text, section, tuning), tuning.margin)
        for row, text, section in zip(sims, texts, sections)
    ]
