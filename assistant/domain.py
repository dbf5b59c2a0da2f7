"""Domain knowledge (council kinds and name forms, document types, posts, examples) from
``domain.yaml``, loaded and validated once.

Code asks this module what a council name can look like or which words ask for a progress
review; it never spells out a council, a place or a document shape itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from assistant.errors import PeerqaError
from assistant.lexical import stems

# a year or a month's name, as written ("in December"; "may" is a doubt, "May" a month)
_DATED = re.compile(r"\b(?:19|20)\d\d\b|\b(?:January|February|March|April|May|June|July|August|September|"
                    r"October|November|December)\b")

# …or told as done, in the perfect or the past passive: "A corporate peer challenge progress
# review has now been produced", "the progress review was held onsite"
_DONE = re.compile(r"\b(?:has|have|had)\s+(?:now\s+|recently\s+|since\s+)?been\s+(?:\w+ed|held|undertaken|done|"
                   r"carried\s+out|made|written|given|taken)\b|\b(?:was|were)\s+(?:\w+ed|held|undertaken|done|"
                   r"carried\s+out|made|written|given|taken)\b", re.I)

DOMAIN_FILE = Path(__file__).with_name("domain.yaml")


class DomainError(PeerqaError):
    exit_code = 1


@dataclass(frozen=True)
class CouncilKind:
    kind: str
    forms: tuple[str, ...]  # "{place} City Council", …; the first is the canonical long form
    words: tuple[str, ...]  # "city": refers to the one council of this kind, if only one
    authority: bool = False  # a single-purpose body (fire and rescue, combined authority)
    # a town or parish council: below the principal councils a peer challenge reviews, so a
    # council known only by its place is never read as one ("CPC" is no "Cornwall Parish Council")
    minor: bool = False

    def patterns(self) -> tuple[re.Pattern[str], ...]:
        """Each form as a full-match pattern capturing the place."""
        return tuple(re.compile(re.escape(f).replace(r"\{place\}", r"(?P<place>.+?)") + r"\Z", re.I)
                     for f in self.forms)


@dataclass(frozen=True)
class DocumentType:
    type: str
    cues: tuple[re.Pattern[str], ...]  # words in a question that ask about this kind of document
    evidence: tuple[tuple[str, float], ...] = ()  # (lower-case phrase, weight per occurrence)
    suffixes: tuple[str, ...] = ()  # file formats that hint at this type (".html")
    suffix_weight: float = 0.0
    min_words: int = 0  # a shorter text is a page about such a document, not one (a report runs to pages)


@dataclass(frozen=True)
class ThemeSpec:
    id: str
    label: str
    description: str  # a few sentences; each is embedded separately
    headings: str  # pattern: a section heading naming this theme
    keywords: str  # pattern: words that point to this theme anywhere in the text


@dataclass(frozen=True)
class PeerService:
    """When a question asks where a person served as a peer, and which council it names as
    that person's own (``domain.yaml``, ``peer_service``)."""

    peer: re.Pattern[str]
    asks: tuple[re.Pattern[str], ...]
    before: re.Pattern[str]  # ends where a council named as a person's own begins
    after: re.Pattern[str]  # starts where it ends
    posts: re.Pattern[str]  # a post or role (``posts``, ``roles``), not just a person ("anyone")

    def asked(self, text: str) -> bool:
        return bool(self.peer.search(text)) and any(a.search(text) for a in self.asks)

    def holder(self, text: str, start: int, end: int) -> str | None:
        """For a council named at ``text[start:end]``: the post of the person it is named as
        the own council of ("" for a person with no post or role named: "anyone from X"), or
        None when it is not named so."""
        found = self.before.search(text[:start]) or self.after.match(text, end)
        if found is None:
            return None
        return found.group("holder").lower() if self.posts.fullmatch(found.group("holder")) else ""


@dataclass(frozen=True)
class Domain:
    council_kinds: tuple[CouncilKind, ...]
    leading_words: frozenset[str]
    document_types: tuple[DocumentType, ...]
    posts: tuple[str, ...]
    not_names: frozenset[str]
    examples: tuple[str, ...]
    not_place_words: frozenset[str] = frozenset()
    themes: tuple[ThemeSpec, ...] = ()
    process_description: str = ""  # text about the peer challenge itself: no theme
    dated_events: tuple[str, ...] = ()  # "peer challenge", "visit": a year next to them dates them
    speakers: tuple[str, ...] = ()  # who speaks in the documents ("peers", "the report"): a frame
    short_type: str = ""  # the type of a text too short for the type its words point to
    post_verbs: tuple[tuple[str, tuple[str, ...]], ...] = ()  # post → "led by", … naming its holder
    peer_service: PeerService | None = None  # questions about where someone served as a peer
    count_families: tuple[tuple[str, ...], ...] = ()  # nouns counting the same things
    # council services and subjects, each the words naming it ("library", "libraries"): a
    # question naming one that no document of the council asked about uses is refused
    service_topics: tuple[tuple[str, ...], ...] = ()
    # per service topic, the words that mention it in a document without naming it in a
    # question ("climate" beside "the financial climate"); empty for most
    service_mentions: tuple[tuple[str, ...], ...] = ()
    # (a general noun, the nouns of its kinds): "how many people …?" is answered by "160 staff,
    # councillors and partners", "how many staff …?" not by "160 people"
    count_kinds: tuple[tuple[str, ...], ...] = ()
    team_posts: tuple[str, ...] = ()  # posts of the LGA's own organisers, not of the council
    review_words: tuple[str, ...] = ()  # a post "of" a review, its panel or team is the review's
    status_kinds: tuple[str, ...] = ()  # kinds one council moves between (a borough made a city)
    person_nouns: tuple[str, ...] = ()  # "which councillor …?" asks for a name
    organisation_nouns: tuple[str, ...] = ()  # "which consultancy …?" asks for an organisation's name
    future_words: tuple[str, ...] = ()  # "will", "is due": a sentence telling of what is to come
    role_families: tuple[tuple[str, ...], ...] = ()  # words naming the same role ("finance", "treasurer")
    post_question_verbs: tuple[tuple[str, tuple[str, ...]], ...] = ()  # "who leads X?" → leader
    # (a place's word, its customary short forms) that no rule derives ("northamptonshire",
    # "northants")
    place_short_forms: tuple[tuple[str, ...], ...] = ()
    # words opening a place named "<word> of <name>" ("Isle of Wight", "Forest of Dean")
    place_of_words: frozenset[str] = frozenset()
    # a council's buildings an address names after it ("Town Hall"): never part of a place
    building_names: tuple[str, ...] = ()
    # nouns ending the name of a public body not called a council ("The Broads Authority")
    body_nouns: frozenset[str] = frozenset()
    # the kinds of event a "when …?" asks the date of, each by its words ("on site", "decided")
    event_families: tuple[tuple[str, ...], ...] = ()

    def _families_of(self, counted: Sequence[str]) -> Iterator[tuple[tuple[str, ...], list[str]]]:
        """(words, their stems) of each family holding one of the ``counted`` stems."""
        for family in self.count_families:
            members = stems(" ".join(family))
            if set(members) & set(counted):
                yield family, members

    def count_aliases(self, counted: Sequence[str]) -> tuple[tuple[str, str], ...]:
        """(stem, the counted stem it stands for) for every other noun of the families of the
        ``counted`` stems: "workforc" and "staff" stand for "employe" when employees are counted."""
        pairs = []
        for _, members in self._families_of(counted):
            target = next(c for c in counted if c in members)
            pairs += [(m, target) for m in dict.fromkeys(members) if m != target]
        return tuple(pairs)

    def role_words(self, stem: str) -> frozenset[str]:
        """The stems that name the role ``stem`` names (its own and its role family's): a line
        naming the "Treasurer" describes the "finance officer"."""
        return frozenset({stem}).union(*(f for f in self._role_stems if stem in f))

    @cached_property
    def _role_stems(self) -> tuple[frozenset[str], ...]:
        """Each role family as stems, stemmed once (``role_words`` is asked per sentence)."""
        return tuple(frozenset(stems(" ".join(f))) for f in self.role_families)

    @cached_property
    def _topic_patterns(self) -> tuple[re.Pattern[str], ...]:
        """Each service topic family as one pattern of its words, singular or plural."""
        return tuple(re.compile(r"\b(?:" + "|".join(plural_pattern(t) for t in sorted(f, key=len, reverse=True))
                                + r")\b", re.I) for f in self.service_topics)

    def topics_named(self, text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(the words as ``text`` writes them, the words that mention their topic: its family
        and ``service_mentions``) for each service topic it names.

        >>> Domain((), frozenset(), (), (), frozenset(), (), service_topics=(("library", "libraries"),)
        ...        ).topics_named("Did the Libraries close?")
        (('Libraries', ('library', 'libraries')),)
        >>> Domain((), frozenset(), (), (), frozenset(), (), service_topics=(("street",), ("high street",))
        ...        ).topics_named("What about the high street?")
        (('high street', ('high street',)),)
        """
        found = sorted(((m.start(), m.end(), family) for family, pattern in zip(self.service_topics, self._topic_patterns)
                        for m in pattern.finditer(text)), key=lambda f: (f[0] - f[1], f[0]))
        taken: list[tuple[int, int]] = []  # the longest words first: "high street" is no street
        named: dict[tuple[str, ...], str] = {}
        for start, end, family in found:
            if not any(start < e and s < end for s, e in taken):
                taken.append((start, end))
                named.setdefault(family, text[start:end])
        order = {family: i for i, family in enumerate(self.service_topics)}
        also = dict(zip(self.service_topics, self.service_mentions))
        return tuple((words, family + also.get(family, ()))
                     for family, words in sorted(named.items(), key=lambda n: order[n[0]]))

    @staticmethod
    def mentions(family: Sequence[str], vocabulary: frozenset[str] | set[str]) -> bool:
        """Does ``vocabulary`` (lower-case words) hold a word of ``family``, singular or plural
        (a phrase's words all)?"""
        def held(word: str) -> bool:
            forms = {word, word + "s", word + "es", word[:-1] + "ies" if word.endswith("y") else word,
                     word[:-1] if word.endswith("s") else word}
            return bool(forms & vocabulary)
        return any(all(held(w) for w in re.findall(r"[a-z]+", term)) for term in family)

    def count_family(self, counted: Sequence[str]) -> tuple[str, ...]:
        """The words of the families of the nouns whose stems are ``counted`` ("how many
        councillors": member, cllr…)."""
        return tuple(dict.fromkeys(w for family, _ in self._families_of(counted) for w in family))

    def counted_kinds(self, counted: Sequence[str]) -> tuple[str, ...]:
        """The nouns of the kinds of what the ``counted`` stems name, when it is a general noun
        (``count_kinds``: "people" → staff, councillor, resident…)."""
        return tuple(dict.fromkeys(w for general, *kinds in self.count_kinds
                                   if set(stems(general)) & set(counted) for w in kinds))

    def post_forms(self, post: str) -> tuple[str, ...]:
        """The post's noun and the phrases that name its holder without it ("led by")."""
        return (post, *next((forms for p, forms in self.post_verbs if p == post), ()))

    @cached_property
    def _future(self) -> re.Pattern[str] | None:
        words = "|".join(re.escape(w) for w in sorted(self.future_words, key=len, reverse=True))
        # as written, in lower case: "May 2017" is a month, "may" a doubt
        return re.compile(rf"\b(?:{words})\b") if words else None

    @cached_property
    def _events(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(r"(?i)\b(?:" + "|".join(
            re.escape(w).replace(r"\ ", r"\s+") for w in sorted(family, key=len, reverse=True))
            + r")(?:s|d|ed|ing)?\b") for family in self.event_families)

    def events_named(self, text: str) -> frozenset[int]:
        """The kinds of event (``event_families``, by position) ``text`` names.

        >>> sorted(load_domain().events_named("The peer team was on site from 4 to 7 March."))
        [0]
        >>> sorted(load_domain().events_named("Publication date: 09/11/2023"))  # publishing
        [2]
        >>> sorted(load_domain().events_named("Our peer challenge was on 4 March."))
        [0]
        """
        return frozenset(i for i, pattern in enumerate(self._events) if pattern.search(text))

    @cached_property
    def _review(self) -> re.Pattern[str] | None:
        words = "|".join(re.escape(w) for w in sorted(self.review_words, key=len, reverse=True))
        return re.compile(rf"\b(?:{words})\b", re.I) if words else None

    def names_review(self, text: str) -> bool:
        """Does ``text`` name a review, its panel or team (``review_words``: "the Vale's Panel
        Performance Assessment", "the peer team")?"""
        return bool(self._review and self._review.search(text))

    def event_spans(self, text: str) -> list[tuple[int, int, int]]:
        """(kind of event, start, end) of each word naming an event in ``text``."""
        return [(i, m.start(), m.end()) for i, pattern in enumerate(self._events) for m in pattern.finditer(text)]

    def in_future(self, sentence: str) -> bool:
        """Does ``sentence`` put what it tells in the future or in doubt (``future_words``)?"""
        return bool(self._future and self._future.search(sentence))

    def asks_future(self, question: str) -> bool:
        """Does ``question`` ask about what is to come ("When will the progress review be?")?
        A polite opener ("could you tell me …") does not.

        >>> load_domain().asks_future("Will the progress review be in person?")
        True
        >>> load_domain().asks_future("Could you tell me when the progress review was?")
        False
        >>> load_domain().asks_future("When were the peers due to come back?")
        True
        """
        question = re.sub(r"\b(?:could|would|can|may|might)\s+(?:you|i|we)\b", " ", question, flags=re.I)
        # "Will …?" opens with a capital; "when were the peers due to come back?", "the next review"
        return self.in_future(question[:1].lower() + question[1:]) \
            or bool(re.search(r"\b(?:due|next|upcoming)\b", question, re.I))

    def tells_of(self, doc_type: str, sentence: str, planned: bool = False) -> bool:
        """Does ``sentence`` tell of a particular document or visit of ``doc_type`` that has
        happened (or, ``planned``, one to come): named in the words a question asks for one by
        (its ``cues``), dated, and not put in the future? "A follow-up review was undertaken in
        March 2021" does; "There will be a follow-up visit in 2025" tells only of a planned one,
        and "The process includes a follow-up visit" of none.

        >>> load_domain().tells_of("progress review", "A follow-up review was held in May 2021.")
        True
        >>> [load_domain().tells_of("progress review", "There will be a follow-up visit in 2025.", planned)
        ...  for planned in (False, True)]
        [False, True]
        >>> load_domain().tells_of("progress review", "Peers visited on 1 December 2022 to review progress.")
        True
        >>> load_domain().tells_of("progress review", "Two peers returned in October 2025 for a progress check.")
        True
        >>> load_domain().tells_of("progress review", "In February the council invited the team to review progress.")
        True
        >>> load_domain().tells_of("progress review", "The peer team would revisit the council in December.", True)
        True
        >>> [load_domain().tells_of("progress review", s) for s in (
        ...     "A corporate peer challenge progress review has now been produced by the LGA.",
        ...     "The progress review is an integral part of the process.")]
        [True, False]
        """
        cues = next((t.cues for t in self.document_types if t.type == doc_type), ())
        # dated by a year or a month ("The peer team would revisit the council in December"),
        # or told as done ("A progress review has now been produced")
        return (any(c.search(sentence) for c in cues) and bool(_DATED.search(sentence) or _DONE.search(sentence))
                and (planned or not self.in_future(sentence)))

    @cached_property
    def owned_phrases(self) -> tuple[str, ...]:
        """What a council has, written after its place: its documents and visits ("the Oakbury
        peer challenge", ``dated_events``) and its speakers ("the Oakbury peer team")."""
        return tuple(dict.fromkeys([*self.dated_events, *(re.sub(r"^the\s+", "", s) for s in self.speakers)]))

    @cached_property
    def document_phrases(self) -> tuple[str, ...]:
        """Phrases that name a kind of document: type names and their word pairs, and evidence
        phrases of two words or more ending in a type's head noun ("feedback report"); "key
        decision" or "report author" only label a field of one."""
        heads = {t.type.split()[-1] for t in self.document_types}
        phrases: set[str] = set()
        for doc_type in self.document_types:
            words = doc_type.type.split()
            phrases |= {" ".join(words[i:i + 2]) for i in range(len(words) - 1)} | {doc_type.type}
            phrases |= {p for p, _ in doc_type.evidence if p.split()[-1] in heads}
        return tuple(sorted(p for p in phrases if len(p.split()) >= 2))

    @cached_property
    def document_words(self) -> frozenset[str]:
        """The words of ``document_phrases``: "Feedback Report" names a document, not a person."""
        return frozenset(w for p in self.document_phrases for w in p.split())

    @property
    def doc_type_names(self) -> tuple[str, ...]:
        return tuple(t.type for t in self.document_types)

    def kind(self, name: str) -> CouncilKind:
        return next(k for k in self.council_kinds if k.kind == name)


def _strings(data: dict, key: str, where: str) -> tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise DomainError(f"{where}: '{key}' must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _entries(data: dict, key: str, where: str) -> list:
    items = data.get(key)
    if not isinstance(items, list) or not items:
        raise DomainError(f"{where}: '{key}' must be a non-empty list")
    return items


def _council_kinds(items: list, where: str) -> tuple[CouncilKind, ...]:
    kinds = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("kind"), str):
            raise DomainError(f"{where}: each council kind needs a 'kind' name")
        forms = _strings(item, "forms", f"{where} ({item['kind']})")
        if not all("{place}" in f for f in forms):
            raise DomainError(f"{where} ({item['kind']}): every form must contain {{place}}")
        words = tuple(item.get("words") or ())
        kinds.append(CouncilKind(item["kind"], forms, tuple(w.lower() for w in words),
                                 bool(item.get("authority", False)), bool(item.get("minor", False))))
    return tuple(kinds)


def _document_types(items: list, where: str) -> tuple[DocumentType, ...]:
    types = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise DomainError(f"{where}: each document type needs a 'type' name")
        try:
            cues = tuple(re.compile(c, re.I) for c in item.get("cues") or ())
        except re.error as exc:
            raise DomainError(f"{where} ({item['type']}): bad cue pattern ({exc})") from exc
        evidence = item.get("evidence") or {}
        if not isinstance(evidence, dict) or not all(isinstance(v, (int, float)) for v in evidence.values()):
            raise DomainError(f"{where} ({item['type']}): 'evidence' maps phrases to weights")
        types.append(DocumentType(
            item["type"], cues, tuple((str(k).lower(), float(v)) for k, v in evidence.items()),
            tuple(str(x).lower() for x in item.get("suffixes") or ()), float(item.get("suffix_weight") or 0),
            _count(item.get("min_words"), f"{where} ({item['type']}): 'min_words'")))
    return tuple(types)


def _count(value: object, what: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DomainError(f"{what} must be a whole number of words, 0 or more")
    return value


def _themes(items: list, where: str) -> tuple[ThemeSpec, ...]:
    themes = []
    for item in items:
        fields = {k: str((item or {}).get(k) or "").strip() if isinstance(item, dict) else ""
                  for k in ("id", "label", "description", "headings", "keywords")}
        if not all(fields.values()):
            raise DomainError(f"{where}: each theme needs id, label, description, headings, keywords")
        for key in ("headings", "keywords"):
            try:
                re.compile(fields[key])
            except re.error as exc:
                raise DomainError(f"{where} (theme {fields['id']}): bad {key} pattern ({exc})") from exc
        themes.append(ThemeSpec(**fields))
    return tuple(themes)


def parse_domain(data: object, where: str = "domain.yaml") -> Domain:
    """Validate the loaded YAML and build the frozen ``Domain``."""
    if not isinstance(data, dict):
        raise DomainError(f"{where}: expected a mapping at the top level")
    return Domain(
        council_kinds=_council_kinds(_entries(data, "council_kinds", where), where),
        leading_words=frozenset(w.lower() for w in _strings(data, "leading_words", where)),
        document_types=_document_types(_entries(data, "document_types", where), where),
        posts=_strings(data, "posts", where),
        not_names=frozenset(w.lower() for w in _strings(data, "not_names", where)),
        examples=_strings(data, "examples", where),
        not_place_words=frozenset(w.lower() for w in _strings(data, "not_place_words", where)),
        themes=_themes(_entries(data, "themes", where), where),
        process_description=str(data.get("process_description") or "").strip(),
        dated_events=_strings(data, "dated_events", where) if "dated_events" in data else (),
        speakers=_strings(data, "speakers", where) if "speakers" in data else (),
        short_type=_short_type(data, where),
        post_verbs=_post_verbs(data, where),
        post_question_verbs=_post_verbs(data, where, "post_question_verbs"),
        peer_service=_peer_service(data, where),
        count_families=_families(data, where, "count_families"),
        **_service_topics(data, where),
        count_kinds=_families(data, where, "count_kinds"),
        role_families=_families(data, where, "role_families"),
        place_short_forms=_families(data, where, "place_short_forms"),
        place_of_words=frozenset(_optional_words(data, "place_of_words", where)),
        building_names=_optional_words(data, "building_names", where),
        body_nouns=frozenset(_optional_words(data, "body_nouns", where)),
        event_families=_families(data, where, "event_families"),
        team_posts=_optional_words(data, "team_posts", where),
        review_words=_optional_words(data, "review_words", where),
        status_kinds=_optional_words(data, "status_kinds", where),
        person_nouns=_optional_words(data, "person_nouns", where),
        organisation_nouns=_optional_words(data, "organisation_nouns", where),
        future_words=_optional_words(data, "future_words", where),
    )


def _service_topics(data: dict, where: str) -> dict[str, tuple[tuple[str, ...], ...]]:
    """``service_topics`` and ``service_mentions`` from the domain file's ``service_topics``: each
    a list of words, or a mapping of the words that name the topic (``names``) and those that
    only mention it (``mentioned_by``)."""
    value = data.get("service_topics") or []
    if not isinstance(value, list):
        raise DomainError(f"{where}: service_topics is a list of lists of words")
    names, mentions = [], []
    for item in value:
        named, also = (item.get("names"), item.get("mentioned_by") or []) if isinstance(item, dict) else (item, [])
        if not (isinstance(named, list) and named and isinstance(also, list)
                and all(isinstance(w, str) and w.strip() for w in [*named, *also])):
            raise DomainError(f"{where}: each service topic is a list of words, or names: [...] with "
                              "mentioned_by: [...]")
        names.append(tuple(w.strip().lower() for w in named))
        mentions.append(tuple(w.strip().lower() for w in also))
    return {"service_topics": tuple(names), "service_mentions": tuple(mentions)}


def plural_pattern(term: str) -> str:
    """A regex for ``term`` and its plural, its words apart by spaces or hyphens."""
    words = [re.escape(w) for w in re.split(r"[\s-]+", term.strip())]
    last = words[-1]
    words[-1] = f"{last[:-1]}(?:y|ies)" if last.endswith("y") else f"{last}(?:s|es)?"
    return r"[\s-]+".join(words)


def _optional_words(data: dict, key: str, where: str) -> tuple[str, ...]:
    """A list of words the domain file may leave out, lower case."""
    return tuple(w.lower() for w in _strings(data, key, where)) if key in data else ()


def _families(data: dict, where: str, key: str) -> tuple[tuple[str, ...], ...]:
    """Each family of words the domain file lists under ``key`` (lists of words)."""
    value = data.get(key) or []
    if not isinstance(value, list) or not all(
            isinstance(family, list) and family and all(isinstance(w, str) and w.strip() for w in family)
            for family in value):
        raise DomainError(f"{where}: {key} is a list of lists of words")
    return tuple(tuple(w.strip().lower() for w in family) for family in value)


def _peer_service(data: dict, where: str) -> PeerService | None:
    value = data.get("peer_service")
    if value is None:
        return None
    where = f"{where} (peer_service)"
    if not isinstance(value, dict) or not isinstance(value.get("peer"), str):
        raise DomainError(f"{where}: needs 'peer' (a pattern), 'asks', 'roles' and 'people' (lists)")
    named = [*_strings(data, "posts", where), *(re.escape(r) for r in _strings(value, "roles", where))]
    holders = "|".join([*named, *(re.escape(p) for p in _strings(value, "people", where))])
    try:
        return PeerService(
            peer=re.compile(value["peer"], re.I),
            asks=tuple(re.compile(a, re.I) for a in _strings(value, "asks", where)),
            before=re.compile(rf"\b(?P<holder>{holders})\s+(?:of|at|from)\s+(?:the\s+)?\Z", re.I),
            after=re.compile(rf"\s*(?:['’]s?)?\s+(?P<holder>{holders})\b", re.I),
            posts=re.compile("|".join(named), re.I))
    except re.error as exc:
        raise DomainError(f"{where}: bad pattern ({exc})") from exc


def _post_verbs(data: dict, where: str, key: str = "post_verbs") -> tuple[tuple[str, tuple[str, ...]], ...]:
    value = data.get(key) or {}
    if not isinstance(value, dict) or not all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in value.values()):
        raise DomainError(f"{where}: {key} maps a post to a list of phrases")
    return tuple((str(k).lower(), tuple(x.lower() for x in v)) for k, v in value.items())


def _short_type(data: dict, where: str) -> str:
    """The type of a text too short for the type its words point to (``min_words``)."""
    value = data.get("short_document_type") or ""
    names = [t.get("type") for t in data.get("document_types") or () if isinstance(t, dict)]
    if value and value not in names:
        raise DomainError(f"{where}: short_document_type {value!r} is not one of the document types")
    return str(value)


@lru_cache(maxsize=4)
def load_domain(path: Path = DOMAIN_FILE) -> Domain:
    """The domain file, parsed once per process."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DomainError(f"Cannot read the domain file {path} ({exc.__class__.__name__}); "
                          "reinstall peerqa or restore the file.") from exc
    return parse_domain(data, str(path))


def example_questions(councils: Sequence[str], domain: Domain | None = None) -> list[str]:
    """The domain's example questions filled with ``councils`` (most documents first); an
    example needing more councils than the corpus holds is left out."""
    domain = domain or load_domain()
    fill = {"council": councils[0] if councils else "", "council2": councils[1] if len(councils) > 1 else ""}
    out = []
    for example in domain.examples:
        needed = re.findall(r"\{(\w+)\}", example)
        if all(fill.get(n) for n in needed):
            out.append(example.format(**fill))
    return out
