"""Peer challenge themes: the LGA core components plus partnerships and shared services.

A text is tagged with zero or more themes by adding three kinds of evidence per theme:

* zero-shot similarity: the cosine between the text's vector and the theme's written
  description (each description sentence is embedded on its own; the best one counts);
* the section path: a heading that names a theme ("4.4 Financial planning and viability",
  "Finance and Budget Strategy") is strong evidence for the whole section;
* keywords: a few theme words ("MTFS", "shared services", "scrutiny") add a little.

The theme with the highest score is the primary one; others whose score is within
``MARGIN`` of it are kept too. Texts about the peer challenge itself (who the peers were,
the timetable, contact details) are closest to ``PROCESS`` and get no theme.

Worked example (real model)::

    >>> tag_text("The current MTFS is a five year projection and the Budget Setting Report "
    ...          "could be strengthened", section=("4. Feedback", "4.4 Financial planning and viability"))
    ('finance',)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.errors import UsageError
from assistant.store import IndexStore


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    description: str  # a few sentences; each is embedded separately
    headings: str  # regex: a section heading naming this theme
    keywords: str  # regex: words that point to this theme anywhere in the text


THEMES: dict[str, Theme] = {t.id: t for t in (
    Theme(
        "place-priorities", "Local priorities and outcomes",
        "Understanding of the local place and priority setting. The council understands its local "
        "context, its residents' needs and the challenges the area faces. It has a clear vision, "
        "narrative and set of priorities for the city or county, and targets its resources at its "
        "priorities, aims and objectives. It engages and consults residents and stakeholders about "
        "its priorities and the outcomes it wants, such as tackling poverty and inequality.",
        r"understanding of the local place|priority setting|priorities|local priorities and outcomes",
        r"\bpriorit(?:y|ies|ise|ising)\b|\bvision\b|\bnarrative\b|aims and objectives|anti-poverty"
        r"|\bconsultation|\boutcomes\b",
    ),
    Theme(
        "leadership-of-place", "Leadership of place",
        "Leadership of place: the council leads and shapes its wider area with residents, "
        "communities, businesses, universities and the voluntary sector. It is the voice of the "
        "place and influences the area's future, growth and development. It manages residents' "
        "expectations and builds community resilience. Place shaping with local stakeholders.",
        r"leadership of place|place[- ]shaping",
        r"place[- ]shaping|leadership of place|\bcommunit(?:y|ies)\b|\bvoluntary\b|\bresidents\b"
        r"|\bstakeholders\b|\bdecentrali[sz]ation\b",
    ),
    Theme(
        "governance", "Organisational and political leadership and governance",
        "Organisational and political leadership and governance: the leader, the chief executive and "
        "senior managers lead the organisation. Councillors and officers work together with clear "
        "roles. Decision-making, committees, scrutiny and member briefings are effective, "
        "transparent and quick enough. Governance arrangements are robust.",
        r"governance|political leadership|organisational leadership|decision[- ]making",
        r"\bgovernance\b|decision[- ]making|\bscrutiny\b|\bcommittees?\b|\bcouncillors\b"
        r"|member\s*/\s*officer|officer\s*/\s*member|\bbriefings?\b|\bopposition\b|\bconstitution\b",
    ),
    Theme(
        "finance", "Financial planning and management",
        "Financial planning and management: the council has a financial plan and a medium-term "
        "financial strategy (MTFS) to ensure long-term financial viability. Budget setting, "
        "savings, reserves, funding, income, spending and financial pressures.",
        r"financ|budget",
        r"\bbudget|\bMTFS\b|medium[- ]term financial|\bfinancial\b|\bfinances\b|\bsavings\b"
        r"|\breserves?\b|\bfunding\b|\boverspends?\b|\bunderspends?\b|\bincome\b",
    ),
    Theme(
        "capacity", "Capacity for improvement",
        "Capacity to deliver and capacity for improvement: the organisation has the staff, skills, "
        "systems and resources to deliver its priorities. Workforce, organisational development "
        "and people strategy, recruitment, culture and innovation. Transformation programme, "
        "modernising ICT and systems.",
        r"capacity|workforce|people strategy|organisational development",
        r"\bworkforce\b|\bstaff\b|\bOD strategy\b|organisational development|\bskills\b|\bICT\b"
        r"|\bIT\b|\btransformation\b|\binnovation\b|\bcapacity\b|\bsecondments?\b|\bemployees\b",
    ),
    Theme(
        "partnerships", "Partnerships and shared services",
        "Partnerships and shared services: the council works in partnership with other councils, "
        "public bodies and agencies. Shared services arrangements with neighbouring councils. "
        "The combined authority, joint working and the value of partnerships.",
        r"partnership|shared services?|partners\b",
        r"\bpartnerships?\b|shared services?|combined authority|joint working|\bLGSS\b"
        r"|integrated care system|public service board",
    ),
)}

# Texts about the peer challenge itself rather than about the council: they get no theme.
PROCESS = ("The peer challenge process: the peer team members, their visit, interviews and meetings, "
           "the scope and focus, the report, next steps, follow up visit and contact details. "
           "Publication of the report, the date and who the letter is addressed to.")

HEADING_WEIGHT = 0.15  # a heading naming the theme
KEYWORD_WEIGHT = 0.02  # per distinct keyword found, up to three
MARGIN = 0.04  # secondary themes must score within this of the primary one


def resolve_theme(value: str) -> str:
    """A theme id from an id or a label, case-insensitively; UsageError otherwise.

    >>> resolve_theme("Financial planning and management"), resolve_theme("FINANCE")
    ('finance', 'finance')
    """
    wanted = " ".join((value or "").lower().replace("_", "-").split())
    for theme in THEMES.values():
        if wanted in (theme.id, theme.label.lower()):
            return theme.id
    choices = "; ".join(f"{t.id} ({t.label})" for t in THEMES.values())
    raise UsageError(f"Unknown theme {value!r}; use one of: {choices}.")


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.:])\s+", text) if s]


class _Prototypes:
    """The description-sentence vectors of every theme (and of PROCESS), for one encoder."""

    def __init__(self, encoder) -> None:
        self.names = [*THEMES, "process"]
        texts = [THEMES[t].description for t in THEMES] + [PROCESS]
        self.vectors = [np.stack([encoder.embed_query(s) for s in _sentences(t)]) for t in texts]

    def similarities(self, vectors: np.ndarray) -> np.ndarray:
        """(n texts, themes + 1) best cosine per theme."""
        return np.stack([(vectors @ p.T).max(axis=1) for p in self.vectors], axis=1)


_PROTOTYPES: dict[int, tuple[object, _Prototypes]] = {}


def _prototypes(encoder) -> _Prototypes:
    cached = _PROTOTYPES.get(id(encoder))
    if cached is None or cached[0] is not encoder:  # id() may be reused by a new encoder
        cached = (encoder, _Prototypes(encoder))
        _PROTOTYPES[id(encoder)] = cached
    return cached[1]


def rule_scores(text: str, section: Sequence[str] = ()) -> np.ndarray:
    """Heading and keyword evidence per theme, in THEMES order."""
    heading = " / ".join(section)
    scores = np.zeros(len(THEMES), dtype=np.float32)
    for i, theme in enumerate(THEMES.values()):
        if heading and re.search(theme.headings, heading, re.IGNORECASE):
            scores[i] += HEADING_WEIGHT
        found = {m.group(0).lower() for m in re.finditer(theme.keywords, text, re.IGNORECASE)}
        scores[i] += KEYWORD_WEIGHT * min(len(found), 3)
    return scores


def choose(similarity: np.ndarray, rules: np.ndarray) -> tuple[str, ...]:
    """Themes from one row of similarities (themes + process) and rule scores.

    >>> choose(np.array([0.30, 0.20, 0.28, 0.10, 0.10, 0.10, 0.25]), np.zeros(6))
    ('place-priorities', 'governance')
    """
    scores = similarity[:-1] + rules
    if similarity[-1] >= scores.max() and not rules.any():
        return ()  # about the peer challenge process, not the council
    order = np.argsort(-scores, kind="stable")
    names = list(THEMES)
    best = scores[order[0]]
    return tuple(names[i] for i in order if scores[i] >= best - MARGIN)


def _default_encoder(store: IndexStore | None = None):
    from assistant.embedding import QueryEncoder
    from assistant.settings import Settings

    model = (store.manifest.get("model_id") if store is not None else None) or Settings().model
    return QueryEncoder(model)


def tag_text(text: str, section: Sequence[str] = (), vector: np.ndarray | None = None,
             encoder=None) -> tuple[str, ...]:
    """Themes of one text; ``vector`` (unit, same space as the encoder) saves an encoding."""
    encoder = encoder or _default_encoder()
    if vector is None:
        vector = encoder.embed_query(text)
    similarity = _prototypes(encoder).similarities(np.asarray(vector, np.float32).reshape(1, -1))[0]
    return choose(similarity, rule_scores(text, section))


def chunk_themes(store: IndexStore, encoder=None) -> list[tuple[str, ...]]:
    """One tuple of theme ids per chunk of ``store``, in chunk order; computed once per store."""
    cached = getattr(store, "_theme_tags", None)
    if cached is not None:
        return cached
    encoder = encoder or _default_encoder(store)
    if not store.chunks:
        tags: list[tuple[str, ...]] = []
    else:
        sims = _prototypes(encoder).similarities(np.asarray(store.vectors, np.float32))
        tags = [choose(sims[i], rule_scores(c.text, c.section)) for i, c in enumerate(store.chunks)]
    store._theme_tags = tags  # type: ignore[attr-defined]
    return tags
