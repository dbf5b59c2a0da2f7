"""Question analysis: the only place a question's text is parsed.

``analyse(question, facts, history)`` completes a follow-up from the conversation, then reads
the question once into a frozen ``Query``: the councils it names and their role (subject or
partner), the years, the kinds of document it asks about, names the corpus never uses, the kind
of answer it expects and the route it takes (answer, comparison, listing or register). Every
later stage (retrieval, answering, comparison, listing, rendering) takes the ``Query``.

    >>> facts = CorpusFacts.build({"Wigan Metropolitan Borough Council": ("peer challenge report",)},
    ...                           texts=["The peers met the leader in 2019."])
    >>> q = analyse("What did the peers say about Wigan Council's finances?", facts)
    >>> q.councils, q.route, q.topic
    (('Wigan Metropolitan Borough Council',), 'answer', 'finances?')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache

from assistant.abbreviations import definitions, gloss, glossary
from assistant.answer_type import (AUXILIARY_WORDS, ORDINAL_ITEM, YEAR_BOUND, Expected, expected_answer, measured_stems,
                                   name_pairs, person_names, titled_names, without_title)
from assistant.councils import CouncilMention, CouncilRegistry, council_names_in
from assistant.domain import DOMAIN_FILE, Domain, load_domain
from assistant.errors import UsageError
from assistant.followup import rewrite_followup
from assistant.lexical import stems
from assistant.store import IndexStore
from assistant.types import UNKNOWN_COUNCIL

ROUTES = ("answer", "comparison", "listing", "register")
_YEAR_DIGITS = r"19[89]\d|20[0-4]\d"
_YEAR = re.compile(rf"\b({_YEAR_DIGITS})\b")
_NAME = re.compile(r"\b(?:[A-Z][a-z]+(?:'s)?|[A-Z]{2,}s?)\b")
# Words between two council names that make both of them subjects ("X and Y", "X versus Y").
_COORDINATION = re.compile(r"^(?:['’]s)?\s*(?:,|and|or|&|vs\.?|versus|compared? (?:with|to)|compares (?:with|to)|as well as)?\s*"
                           r"(?:,|and|or)?\s*(?:with\s+|to\s+)?(?:the\s+|at\s+(?:the\s+)?)?$", re.I)
_EACH_COUNCIL = re.compile(
    r"\b(?:(?:at|for|in|across|by|of|from)\s+(?:each|every|both|all)(?:\s+of)?(?:\s+the)?"
    r"(?:\s+(?:two|different|held))?\s+(?:councils?|authorities|authority)"
    r"|(?:at|for|in|across|by|of|from)\s+the\s+(?:two\s+|different\s+)?councils"
    r"|each\s+council|both\s+councils|the\s+two\s+councils|council\s+by\s+council"
    r"|between\s+(?:the\s+)?councils)\b", re.IGNORECASE)
# "in each of the reports", "across all the county's documents": one comparison group per document
# year (of the councils named, else of every council).
_EACH_DOCUMENT = re.compile(
    r"\b(?:each|every|all)\s+(?:of\s+)?(?:the\s+|its\s+|their\s+)?(?:[\w'’]+\s+){0,2}?"
    r"(?:reports|documents|reviews|visits|peer\s+challenges)\b", re.IGNORECASE)
# "which councils were advised to …": the question asks for councils, and what follows the frame
# is what each council's documents must say.
_WHICH_COUNCILS = re.compile(
    r"^\s*(?:(?:which|what)(?:\s+of\s+the)?|(?:list|name|show)(?:\s+me)?(?:\s+all)?(?:\s+the)?)"
    r"\s+(?:councils?|authorities|authority)\b(?!['’])"
    r"(?:\s+(?:that|which|where|whose))?"
    r"(?:\s+(?:were|was|are|is|have|has|had|did|do|does)(?:\s+(?:been|not))?)?"
    r"(?:\s+(?P<advice>advised|told|asked|recommended|urged|encouraged)(?:\s+(?:to|that))?(?:\s+they)?)?\s*",
    re.IGNORECASE)
_COMPARE_VERB = re.compile(r"^\s*(?:please\s+)?(?:compare|contrast)\b|\bcomparison\s+of\b", re.I)
_BETWEEN = re.compile(r"\b(?:differ(?:ence|ences|ent)?|compare[sd]?|changed?|between)\b", re.I)
_REGISTER = re.compile(
    r"^\s*(?:what|which|list|show|give)\b.{0,40}?\b(?:were|are|was|is|of|all|the)\b.{0,20}?"
    r"\b(?:key\s+|main\s+|peer\s+|peers['’]?\s+)?recommendations\b(?!\s+(?:about|on|regarding)\b)"
    r"|^\W*(?:the\s+)?(?:key\s+|main\s+)?recommendations\b"  # terse: "recommendations for the city?"
    r"|\b(?:acted|act|implemented|implement|finished|completed|delivered)\s+(?:on\s+)?"
    r"(?:[\w'’]+\s+){0,4}recommendations?\b"
    r"|\bstatus\s+of\b.{0,60}\b(?:recommendations?|actions?)\b"
    r"|\bprogress\b.{0,30}\b(?:on|against|with)\s+(?:the|its|their)\s+(?:peers['’]?\s+)?"
    r"(?:key\s+)?recommendations\b"
    r"|\bwhich\s+(?:of\s+[\w'’ ]{1,40}?\s+)?(?:actions|recommendations)\b.{0,30}"
    r"\b(?:are|were|have|remain)\b"
    r"|\bwhich\s+(?:of\s+them|recommendation)\b"
    r"|\bwhat\s+actions\s+did\b"
    r"|\bhow\s+far\b.{0,40}\b(?:action\s+plan|recommendations)\b"
    r"|^\s*what\s+did\s+(?:the\s+)?(?:peers?|(?:peer\s+|review\s+)?team|reviewers?)\s+recommend"
    r"(?:\s+(?:to|for)\s+[^?]{1,60})?\s*\??\s*$"
    # "what three / key recommendations did the peers give X?" (not "… about housing")
    r"|^\s*(?:what|which)\s+(?:[\w'’-]+\s+){0,2}?recommendations\s+(?:did|were|have|had)\b"
    r"(?![^?]*\b(?:about|regarding|concerning)\b)"
    # one recommendation by its number: "what was recommendation 3?", "status of rec 2"
    r"|\b(?:recommendation|rec)\s*(?:no\.?\s*|number\s*)?\d{1,2}\b(?![.\d])"
    # …or by its place: "what was the fifth recommendation?"
    rf"|{ORDINAL_ITEM.pattern}", re.I)
_DOCS = r"(?:reports?|documents?|docs|papers?|letters?|files?|sources?)"
_MENTION = (r"(?:mention(?:s|ed)?|discuss(?:es)?|refer(?:s)?\s+to|talk(?:s)?\s+about|cover(?:s)?"
            r"|reference(?:s)?|contain(?:s)?|say\s+anything\s+about|(?:are|is)\s+about|deal(?:s)?\s+with)")
_LISTING = [
    re.compile(p, re.IGNORECASE)
    for p in (
        # "which (of the county's | peer challenge | Northbridge City Council | councils') reports
        # mention X", "list every document that mentions X", "do any of the documents mention X"
        rf"^(?:which|what|list|show|find|do|does|are\s+there)\b(?P<scope>[^?]{{0,60}}?)\b{_DOCS}\s+"
        rf"(?:that\s+|which\s+)?{_MENTION}\s+(?P<term>.+)$",
        rf"^(?:in\s+)?which\s+{_DOCS}\s+(?:is|are|was|were)\s+(?P<term>.+?)\s+"
        r"(?:mentioned|discussed|referred\s+to|referenced)$",
        r"^where\s+(?:is|are|was|were)\s+(?P<term>.+?)\s+(?:mentioned|discussed|referred\s+to|referenced)"
        r"(?:\s+in\s+the\s+(?:corpus|documents|reports))?$",
        r"^where\s+(?:does|do|did)\s+(?P<term>.+?)\s+(?:come\s+up|appear|feature|get\s+mentioned)"
        r"(?:\s+in\s+the\s+(?:corpus|documents|reports))?$",
        rf"^(?:list|show|find)\s+(?:me\s+)?(?:all\s+)?(?:the\s+)?(?:{_DOCS}|mentions?|references?)\s+"
        r"(?:about|on|of|to|that\s+mention|mentioning|discussing|referring\s+to|which\s+mention)\s+(?P<term>.+)$",
        r"^(?:find\s+)?(?:all\s+)?mentions?\s+of\s+(?P<term>.+)$",
    )
]


@dataclass(frozen=True)
class CorpusFacts:
    """What question analysis needs to know about the corpus; built once per loaded index."""

    registry: CouncilRegistry
    held_types: Mapping[str, frozenset[str]]  # council → document types the corpus holds
    known_years: frozenset[int]  # years a document is dated or speaks of
    vocabulary: frozenset[str]  # lower-case words of every document
    domain: Domain = field(default_factory=load_domain)
    # council → years its documents are dated or report a visit in; empty: not known, no check
    doc_years: Mapping[str, frozenset[int]] = field(default_factory=dict)
    # (short form, long form) of each abbreviation the documents define
    abbreviations: tuple[tuple[str, str], ...] = ()
    # lower-case pairs of neighbouring capitalised words ("daniel ferrers"): the names written
    name_pairs: frozenset[str] = frozenset()

    @cached_property
    def glossary(self) -> Mapping[str, str]:
        """Short form → long form of the abbreviations the documents define, but not councils'
        names: a council's abbreviation ("CCC") is the registry's to read. Worked out on first
        use, as it needs the registry's name patterns (a second at 1,000 documents), which an
        ingest has no other use for."""
        return {short: long for short, long in glossary(self.abbreviations).items()
                if not self.registry.find(long.title())}

    def with_documents(self, metas: Iterable) -> CorpusFacts:
        """These facts with ``doc_years`` read from the documents' metadata."""
        years: dict[str, set[int]] = {}
        for meta in metas:
            years.setdefault(meta.council, set()).update(meta.years)
        return replace(self, doc_years={c: frozenset(y) for c, y in years.items()})

    @classmethod
    def build(cls, held_types: Mapping[str, Iterable[str]], texts: Iterable[str] = (),
              doc_years: Iterable[int] = (), domain: Domain | None = None) -> CorpusFacts:
        domain = domain or load_domain()
        parts = merge_text_facts(text_facts(t, domain) for t in dict.fromkeys(texts))
        return cls.from_parts(held_types, parts, doc_years, domain)

    @classmethod
    def from_parts(cls, held_types: Mapping[str, Iterable[str]], parts: Mapping[str, list],
                   doc_years: Iterable[int] = (), domain: Domain | None = None) -> CorpusFacts:
        """The facts from ``merge_text_facts`` of the documents' ``text_facts``."""
        domain = domain or load_domain()
        abbreviations = tuple(tuple(p) for p in parts.get("abbreviations", ()))
        registry = CouncilRegistry(held_types, parts["names"], domain, frozenset(parts["common"]),
                                   defined=abbreviations)
        return cls(registry, {c: frozenset(t) for c, t in held_types.items()},
                   frozenset(parts["years"]) | frozenset(doc_years), frozenset(parts["vocabulary"]),
                   domain, abbreviations=abbreviations,
                   name_pairs=frozenset(parts.get("pairs", ())))


def text_facts(text: str, domain: Domain) -> dict[str, list]:
    """What corpus facts take from one document's text (JSON-ready: ingest stores it per
    document, so a re-ingest reads only the documents that changed)."""
    return {
        "names": council_names_in([text], domain),
        "vocabulary": sorted(words_of(text)),
        "common": sorted(set(re.findall(r"(?<=[a-z,;] )[a-z]+", text))),
        "years": sorted({int(y) for y in _YEAR.findall(text)}),
        "abbreviations": [list(pair) for pair in definitions(text)],
        "pairs": sorted(name_pairs(text)),
    }


def words_of(text: str) -> set[str]:
    """The lower-case words of ``text`` (the ``vocabulary`` of its text facts)."""
    return set(re.findall(r"[a-z]+", text.lower()))


def council_vocabulary(store: IndexStore) -> Mapping[str, frozenset[str]]:
    """Council → the lower-case words of its documents ("" for documents of no known council),
    from the per-document text facts ingest stored, else read from the texts; once per index."""
    def build() -> dict[str, frozenset[str]]:
        stored = store.persisted(TEXT_FACTS)
        per_doc = stored.get("documents", {}) if isinstance(stored, dict) else {}
        words: dict[str, set[str]] = {}
        for doc_id, document in store.documents.items():
            meta = store.metas.get(doc_id)
            found = (per_doc.get(doc_id) or {}).get("vocabulary")
            words.setdefault(meta.council if meta else "", set()).update(
                found if isinstance(found, list) else words_of(document.text))
        return {council: frozenset(found) for council, found in words.items()}
    return store.derived("council_vocabulary", build)


def merge_text_facts(parts: Iterable[Mapping[str, list]]) -> dict[str, list]:
    """The ``text_facts`` of several documents as one, names in order of first appearance."""
    names: dict[str, None] = {}  # ordered: the first document's spelling of a name comes first
    pooled: dict[str, set] = {key: set() for key in ("vocabulary", "common", "years", "pairs")}
    abbreviations: set[tuple[str, ...]] = set()  # a [short, long] pair: a tuple, to be a key
    for part in parts:
        names.update(dict.fromkeys(part.get("names", ())))
        for key, values in pooled.items():
            values.update(part.get(key, ()))
        abbreviations.update(map(tuple, part.get("abbreviations", ())))
    return {"names": list(names), "abbreviations": [list(pair) for pair in sorted(abbreviations)],
            **{k: sorted(v) for k, v in pooled.items()}}


@dataclass(frozen=True)
class Query:
    """A question, analysed once. ``text`` is standalone (follow-ups completed)."""

    text: str
    asked: str = ""  # as typed, before follow-up completion
    topic: str = ""  # the text without the names of the councils it is about
    councils: tuple[str, ...] = ()  # held councils the question is about (subjects)
    # held councils named only as partners ("if the county …") or by a place inside another
    # name ("the Northby Forward programme"): a ranking hint, not a scope
    partners: tuple[str, ...] = ()
    ambiguous: tuple[str, ...] = ()  # phrases that name more than one council ("Northbridge")
    mentioned_only: tuple[str, ...] = ()  # councils the documents mention but do not cover
    # councils named as the own council of a person asked about as a peer ("which peer team
    # included the chief executive of X?"): not the subject; a peer never reviews their own
    peer_homes: tuple[str, ...] = ()
    peer_posts: tuple[str, ...] = ()  # …and the posts that person is named by ("chief executive")
    unknown_councils: tuple[str, ...] = ()  # council names the corpus never uses
    years: tuple[int, ...] = ()
    unknown_years: tuple[int, ...] = ()
    # years dating a document or visit asked about ("Wexcombe's 2019 peer challenge") from which
    # the subject councils (any council, when none is named) have no document
    undated_years: tuple[int, ...] = ()
    doc_types: tuple[str, ...] = ()  # kinds of document asked about ("came back" → progress review)
    missing_doc_types: tuple[str, ...] = ()  # …of which the subject councils have none
    unknown_names: tuple[str, ...] = ()  # capitalised words and acronyms no document uses
    unknown_people: tuple[str, ...] = ()  # people named with a title ("Councillor Jo Bloggs") no document names
    # people and bodies the question names by words that stand together in a document ("Stephen
    # Moir", "Planning Advisory Service"), not councils or places
    proper_names: tuple[str, ...] = ()
    # council services and subjects the question names, each (its words as written, the words
    # of its family; service_topics in domain.yaml): "libraries" → ("libraries", ("library", …))
    topics: tuple[tuple[str, tuple[str, ...]], ...] = ()
    expected: Expected | None = None
    route: str = "answer"
    compared: tuple[str, ...] = ()  # comparison only: the councils compared, in order
    listing_term: str = ""
    advice: bool = False  # "which councils were advised / told to …?": what peers recommended
    inherited_from: str = ""  # the previous question a follow-up was completed from
    # what retrieval embeds and matches: ``text`` and ``topic`` with the other form of each
    # abbreviation they use beside it ("LGA" → "LGA (local government association)")
    search_text: str = ""
    search_topic: str = ""
    # what BM25 matches: ``text``, with the nouns counting the same things as the one a "how
    # many …?" asks about ("employees": staff, workforce; ``count_families`` in domain.yaml)
    lexical_text: str = ""
    # (stem, stem of the question it stands for): the nouns counting the same things as the one
    # a "how many …?" asks about match it wherever a sentence's words are compared with the topic
    aliases: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.route not in ROUTES:
            raise ValueError(f"unknown route {self.route!r}")
        if not self.topic:
            object.__setattr__(self, "topic", self.text)
        if not self.asked:
            object.__setattr__(self, "asked", self.text)
        if not self.search_text:
            object.__setattr__(self, "search_text", self.text)
        if not self.search_topic:
            object.__setattr__(self, "search_topic", self.topic)
        if not self.lexical_text:
            object.__setattr__(self, "lexical_text", self.text)


CORPUS_FACTS = "corpus_facts"  # name of the merged text facts ingest stores with an index
TEXT_FACTS = "text_facts"  # doc_id → text_facts of that document, for the next re-ingest


TEXT_FACTS_FORMAT = 3  # what ``text_facts`` reads from a text; 2: abbreviations; 3: name pairs


def domain_fingerprint() -> str:
    """Identifies the domain file and what is read from each text: stored facts found with
    another one are computed afresh."""
    import hashlib

    digest = hashlib.sha256(DOMAIN_FILE.read_bytes())
    digest.update(f"text facts {TEXT_FACTS_FORMAT}".encode())
    return digest.hexdigest()[:16]


def facts_of(metas: Iterable, parts: Mapping[str, list]) -> CorpusFacts:
    """The corpus facts of the documents with these metadata and merged text facts (``parts``,
    from ``merge_text_facts``): what the corpus holds per council, and the documents' years."""
    metas = list(metas)
    held: dict[str, set[str]] = {}
    for meta in metas:
        if meta.council != UNKNOWN_COUNCIL:  # "What unknown risks …?" names no council
            held.setdefault(meta.council, set()).add(meta.doc_type)
    years = [y for m in metas for y in m.years]
    return CorpusFacts.from_parts(held, parts, years).with_documents(metas)


def corpus_facts(store: IndexStore) -> CorpusFacts:
    """The facts of a loaded index, computed once per store."""
    def build() -> CorpusFacts:
        parts = store.persisted(CORPUS_FACTS)  # stored by ingest: no pass over every text
        if not (isinstance(parts, dict) and parts.get("domain") == domain_fingerprint()):
            domain = load_domain()
            texts = dict.fromkeys(d.text for d in store.documents.values())  # identical texts once
            parts = merge_text_facts(text_facts(t, domain) for t in texts)
        return facts_of(store.metas.values(), parts)

    return store.derived("corpus_facts", build)


def validate_question(question: str, max_chars: int) -> str:
    """The question stripped; UsageError when empty or longer than ``max_chars``."""
    question = (question or "").strip()
    if not question:
        raise UsageError("The question is empty; type a question about the peer challenge documents.")
    if len(question) > max_chars:
        raise UsageError(f"The question is {len(question)} characters long; the limit is {max_chars}. "
                         "Shorten it.")
    return question


def analyse(question: str, facts: CorpusFacts, history: Sequence[str] = (),
            max_chars: int = 1000) -> Query:
    """Read ``question`` (a follow-up of ``history``, the standalone questions asked before)."""
    asked = " ".join(validate_question(question, max_chars).split())
    text = rewrite_followup(asked, history, facts.registry) if history else asked
    inherited = next((q for q in reversed(history) if q.strip()), "") if text != asked else ""
    mentions = facts.registry.find(text)
    homes = _peer_homes(text, mentions, facts.domain)  # mention → the post it is named with
    mentions = [m for m in mentions if m not in homes]
    held, partners = _roles(text, [m for m in mentions if m.held])
    councils = tuple(dict.fromkeys(n for m in held for n in m.councils if facts.registry.councils[n].held))
    # a year that only bounds the answer ("before 2021") is not one the question is about
    years = tuple(sorted({int(y) for y in _YEAR.findall(YEAR_BOUND.sub(" ", text))}))
    asked_types = tuple(t.type for t in facts.domain.document_types if any(c.search(text) for c in t.cues))
    named = {n for m in mentions if m.held for n in m.councils}
    held_types = {t for c in named for t in facts.held_types.get(c, ())}
    term = listing_term(text)
    if term:  # a listing is filtered by the council of its scope ("the county's documents") or of
        # a term ending "… for the county council"; a council in the term is what is looked for
        term, held = _split_listing_council(term, facts.registry)
        held = held or [m for m in facts.registry.find(listing_scope(text)) if m.held]
        councils = tuple(n for m in held for n in m.councils)
    # "Who chairs the Northshire Forward board?": a name a held council's place opens is most
    # likely that council's programme or body; the question is about it, a place inside a name
    # ("Greater Northby Partnership") only hints at one
    in_names = [(m, where) for m, where in facts.registry.in_longer_names(text) if m.held]
    opened = {n for m, where in in_names if where == "heads"
              for n in m.councils if facts.registry.councils[n].held}
    if not mentions and not term and len(opened) == 1:
        councils = tuple(opened)
    subjects = _subjects(text, mentions)
    expected = expected_answer(text)
    route = _route(text, term, councils, held, years, subjects,
                   asks_a_council=bool(expected) and expected.kind == "council")
    # a kind that yielded the subject to a named council describes something ("the fire service
    # officer on the Northby peer team"): its words stay in the topic
    kinds = [m for m in mentions if m.by_kind and held and m.end <= held[0].start]
    topic = facts.registry.strip(text, keep=[*(m for m in mentions if not m.held), *homes, *kinds]) if held else text
    # a comparison's groups abstain on their evidence for the whole topic ("relations between
    # and , from each side?" is too thin once its councils and its frame are gone)
    topic = without_frame(topic, facts.domain.speakers) if route == "answer" else topic
    topic = _without_scope(topic) if route in ("comparison", "listing") and not term else topic
    if expected and (expected.quantity or expected.share_of):
        # "what Northby budget gap …?", "what share of Northby's staff …?": the council's name
        # is neither the quantity nor what it is of
        in_topic = set(stems(topic))
        expected = replace(expected, quantity=tuple(w for w in expected.quantity if w in in_topic),
                           share_of=tuple(w for w in expected.share_of if w in in_topic))
    if expected and expected.kind in ("number", "money") and not (expected.counted or expected.quantity):
        expected = replace(expected, measured=measured_stems(topic, facts.registry.name_words))
    blanked = _blanked(text, mentions)  # a council's name is neither an unknown name nor a service
    return Query(
        text=text, asked=asked, inherited_from=inherited, topic=topic,
        search_text=gloss(text, facts.glossary), search_topic=gloss(topic, facts.glossary),
        # BM25 without the reporting frame too, as the topic: "peers" and "say" match every
        # account of how a peer challenge works; the councils named stay (they pick the
        # council's documents). A comparison's groups keep it, as their topic does
        lexical_text=" ".join([without_frame(text, facts.domain.speakers) if route == "answer" else text,
                               *(facts.domain.count_family(expected.counted) if expected else ())]),
        aliases=facts.domain.count_aliases(expected.counted) if expected else (),
        councils=councils,
        partners=tuple(dict.fromkeys(n for m in [*partners, *(m for m, _ in in_names)]
                                     if m.held for n in m.councils
                                     if n not in councils and facts.registry.councils[n].held)),
        peer_homes=tuple(dict.fromkeys(n for m in homes for n in m.councils if n not in councils)),
        peer_posts=tuple(dict.fromkeys(post for post in homes.values() if post)),
        ambiguous=tuple(m.text for m in held if m.ambiguous),
        mentioned_only=tuple(dict.fromkeys(n for m in mentions if m.known and not m.held for n in m.councils)),
        unknown_councils=tuple(dict.fromkeys([*(m.text for m in mentions if not m.known),
                                              *(() if mentions else unknown_places(text, facts.vocabulary, facts.domain.owned_phrases))])),
        years=years, unknown_years=tuple(y for y in years if y not in facts.known_years),
        # a comparison may date each council's document in turn: judged against every council
        undated_years=_undated_years(text, councils if route != "comparison" else (), facts),
        doc_types=asked_types,
        missing_doc_types=tuple(t for t in asked_types if councils and t not in held_types),
        # a council's abbreviation is one name ("B&NES"), not an unknown "NES"
        unknown_names=unknown_names(blanked, facts.vocabulary),
        unknown_people=unknown_people(text, facts),
        proper_names=known_names(blanked, facts),
        topics=facts.domain.topics_named(blanked),
        expected=expected,
        route=route,
        compared=_compared(text, councils, held, subjects, facts.registry.held)
        if route == "comparison" or (route == "listing" and not term) else (),
        listing_term=term or "",
        advice=route == "listing" and not term and _asks_advice(text),
    )


# What the speaker did with the topic, when it says nothing about the topic itself: "say",
# "find" and "think" frame it; "recommend" or "praise" ask something of their own and stay.
_REPORTING = (r"say|said|think|thought|find|found|note|noted|make|made|conclude|concluded|"
              r"comment|commented|feel|felt|observe|observed|report|reported|write|wrote|"
              r"have to say|tell us|learn|learned|learnt|see|saw|hear|heard")


@lru_cache(maxsize=8)
def _frame_pattern(speakers: tuple[str, ...]) -> re.Pattern[str] | None:
    if not speakers:
        return None
    who = "|".join(sorted((re.escape(s) for s in speakers), key=len, reverse=True))
    return re.compile(rf"^\s*(?:so\s+|and\s+)?(?:what|how)\s+(?:did|do|does|have|has|had|was|were)\s+"
                      rf"(?:{who})\s+(?:{_REPORTING})\s+(?:of|about|on|regarding|around|in relation to)\b\s*",
                      re.IGNORECASE)


def without_frame(topic: str, speakers: tuple[str, ...]) -> str:
    """The topic without a reporting frame: "What did peers say about decision-making pace?" is
    about decision-making pace; the frame's words would make sentences about the peers look
    relevant. Unchanged when nothing would be left.

    >>> without_frame("What did the peer team find about staff morale?", ("the peer team",))
    'staff morale?'
    """
    pattern = _frame_pattern(speakers)
    rest = pattern.sub("", topic, count=1) if pattern else topic
    return rest if re.search(r"\w", rest) else topic


def _asks_advice(text: str) -> bool:
    """"Which councils were advised / told / urged to …?" asks what the peers recommended."""
    frame = _WHICH_COUNCILS.match(text)
    return bool(frame and frame.group("advice"))


def _undated_years(text: str, councils: Sequence[str], facts: CorpusFacts) -> tuple[int, ...]:
    """Years that date a document or visit the question asks about and that no document of the
    subject councils (of any council, when none is named) is within a year of: a visit late in
    one year is often reported early in the next."""
    if not facts.doc_years:
        return ()
    dated = event_years(text, facts.domain)
    scope = councils or tuple(facts.doc_years)
    have = {y for c in scope for y in facts.doc_years.get(c, ())}
    return tuple(sorted(y for y in dated if not have & {y - 1, y, y + 1}))


def event_years(text: str, domain: Domain) -> set[int]:
    """The years ``text`` dates a document or visit by ("the 2020 peer review", "the visit in
    2022"; ``dated_events`` of domain.yaml).

    >>> sorted(event_years("The 2020 peer review took place in January.", load_domain()))
    [2020]
    """
    pattern = _dating_pattern(domain.dated_events)
    return {int(m["y1"] or m["y2"]) for m in pattern.finditer(text)} if pattern else set()


@lru_cache(maxsize=8)
def _dating_pattern(events: tuple[str, ...]) -> re.Pattern[str] | None:
    """A year just before an event word ("2019 corporate peer challenge", two words between at
    most) or just after one ("the visit in 2022")."""
    if not events:
        return None
    words = "|".join(re.escape(e).replace(r"\ ", r"\s+") for e in sorted(events, key=len, reverse=True))
    return re.compile(rf"\b(?P<y1>{_YEAR_DIGITS})(?!\s*/)(?:\s+[a-z][\w-]*){{0,2}}?\s+(?:{words})s?\b"
                      rf"|\b(?:{words})s?\s+(?:held\s+)?(?:in|of|from|during)\s+(?P<y2>{_YEAR_DIGITS})\b", re.I)


def _split_listing_council(term: str, registry: CouncilRegistry) -> tuple[str, list[CouncilMention]]:
    """("Combined Authority for the county council", …) → ("Combined Authority", [county])."""
    mentions = [m for m in registry.find(term) if m.held and m.end >= len(term.rstrip(" ?.!'’s"))]
    if mentions:
        head = re.match(r"(?is)(.+?)\s+(?:for|at|in|by|from|of)\s+(?:the\s+)?$", term[:mentions[-1].start])
        if head:
            return head.group(1).strip(), mentions[-1:]
    return term, []


def _roles(text: str, mentions: Sequence[CouncilMention]) -> tuple[list[CouncilMention], list[CouncilMention]]:
    """Subjects: the first council named and those coordinated with it ("X and Y", "X versus Y");
    the others are partners ("what risk did X face if Y cut its services?").

    A council met only by its kind ("the fire service") yields the subject to a held council the
    question names, when that one is not of the kind and the two are not coordinated: "the fire service
    officer on the Northby peer team" asks about Northby's peer team, not the fire authority."""
    held = list(mentions)
    if not held:
        return [], []
    subjects, partners = [held[0]], []
    for previous, mention in zip(held, held[1:]):
        linked = _COORDINATION.match(text[previous.end:mention.start]) and previous in subjects
        (subjects if linked else partners).append(mention)
    named = next((m for m in partners if m.held and not m.by_kind
                  and not set(m.councils) & set(held[0].councils)), None)
    if held[0].by_kind and subjects == held[:1] and named is not None:
        return [named], [m for m in held if m is not named]
    return subjects, partners


def _peer_homes(text: str, mentions: Sequence[CouncilMention], domain) -> dict[CouncilMention, str]:
    """The known councils a question about where someone served as a peer names as that
    person's own ("the chief executive of X", "X's leader"; ``domain.yaml``, ``peer_service``),
    each with the post the person is named by ("" for none: "anyone from X")."""
    service = domain.peer_service
    if service is None or not service.asked(text):
        return {}
    posts = {m: service.holder(text, m.start, m.end) for m in mentions if m.known}
    return {m: post for m, post in posts.items() if post is not None}


def _subjects(text: str, mentions: Sequence[CouncilMention]) -> tuple[str, ...]:
    """Every council the question is about, held or not: the canonical names of known councils
    (each match of an ambiguous name), the words of unknown ones ("Westshire County Council").
    After "compare" every council named is compared ("compare X's budget gap with Y's")."""
    subjects = list(mentions) if _COMPARE_VERB.search(text) else _roles(text, mentions)[0]
    return tuple(dict.fromkeys(n for m in subjects for n in (m.councils or (m.text,))))


def _route(text: str, term: str | None, councils: Sequence[str], held: Sequence[CouncilMention],
           years: Sequence[int], subjects: Sequence[str], asks_a_council: bool = False) -> str:
    """Listing, comparison, register or answer: one decision, on the analysed parts.

    Two or more councils as subjects, whether the corpus holds them or not, make a comparison;
    "X versus Y" between topics names no council and stays an answer. "Which councils …?"
    naming none is a listing over the councils, unless it asks which council a person comes
    from or works for ("which council does the lead peer work for?"): a name in the text."""
    if term or (_WHICH_COUNCILS.match(text) and not subjects and not asks_a_council):
        return "listing"
    spans_councils = len({*councils, *subjects}) >= 2 or any(m.ambiguous for m in held)
    if spans_councils or _EACH_COUNCIL.search(text) or _EACH_DOCUMENT.search(text):
        return "comparison"
    if _COMPARE_VERB.search(text) and (len(subjects) >= 1 or len(years) >= 2):
        return "comparison"
    if len(councils) == 1 and len(years) >= 2 and _BETWEEN.search(text):
        return "comparison"
    if _REGISTER.search(text):
        return "register"
    return "answer"


def _compared(text: str, councils: Sequence[str], held: Sequence[CouncilMention],
              subjects: Sequence[str], corpus: Sequence[str]) -> tuple[str, ...]:
    """The councils a comparison or a council listing covers: those named, in the order named
    (an ambiguous name counts each match; one the corpus does not hold is kept, to be said so),
    one named council across its years, else every council the corpus holds."""
    named = list(dict.fromkeys([*subjects, *councils, *(n for m in held if m.ambiguous for n in m.councils)]))
    if len(named) >= 2:
        return tuple(named)
    if len(named) == 1 and not _EACH_COUNCIL.search(text):
        return tuple(named)
    return tuple(sorted(corpus))


def _without_scope(topic: str) -> str:
    """What a comparison or council listing asks of each council: the topic without "at each
    council", "in each of the reports" or a leading "which councils were advised to"."""
    stripped = _WHICH_COUNCILS.sub("", topic, count=1)
    stripped = _EACH_DOCUMENT.sub("", _EACH_COUNCIL.sub("", stripped))
    stripped = " ".join(stripped.split()).strip(" ,;")
    return stripped if re.search(r"\w", stripped.rstrip("?.! ")) else topic


def listing_scope(question: str) -> str:
    """The words naming which documents a listing searches ("of the county's", "Northbridge
    City Council"), "" when none."""
    text = question.strip().rstrip("?.! ")
    match = _LISTING[0].match(text)
    return match.group("scope").strip() if match else ""


def listing_term(question: str) -> str | None:
    """The term of a list-style question, else None.

    >>> listing_term("Which reports mention the Combined Authority?")
    'Combined Authority'
    >>> listing_term("Where is 'This Land' mentioned?")
    'This Land'
    """
    text = question.strip().rstrip("?.! ")
    for pattern in _LISTING:
        match = pattern.match(text)
        if match:
            term = match.group("term").strip().strip("\"'“”‘’ ")
            term = re.sub(r"^(?:the|a|an)\s+", "", term, flags=re.IGNORECASE)
            term = re.sub(r"\s+(?:at\s+all|in\s+the\s+(?:corpus|documents|reports))$", "", term,
                          flags=re.IGNORECASE).strip("\"'“”‘’ ")
            return term or None
    return None


def unknown_names(question: str, vocabulary: frozenset[str] | set[str]) -> tuple[str, ...]:
    """Capitalised words and acronyms in the question that the corpus never uses.

    Sentence-initial words are skipped (capitalised for grammar, not as names).
    >>> unknown_names("What Ofsted rating did Wigan get? And PFI?", {"wigan", "rating"})
    ('Ofsted', 'PFI')
    """
    found = []
    for match in _NAME.finditer(question):
        before = question[:match.start()].rstrip()
        if not before or before[-1] in ".?!:;\"'(":
            continue
        word = re.sub(r"'s$", "", match.group(0))
        if word.lower() not in vocabulary and word.lower().rstrip("s") not in vocabulary:
            found.append(word)
    return tuple(dict.fromkeys(found))


def unknown_places(question: str, vocabulary: frozenset[str] | set[str],
                   events: Iterable[str] = ()) -> tuple[str, ...]:
    """The ``unknown_names`` written where a question puts a place ("Oakbury's finances", "in
    Oakbury", "at Oakbury", "visit Oakbury", or before one of ``events``, the documents and
    visits a council has: "the Oakbury peer challenge"), or as the subject the question asks
    about ("When did Oakbury last have …?", "Has Oakbury published …?"): a council the corpus
    does not hold, named by its place alone ("about Greyminster" is no place position), with
    the capitalised words that run on from it ("Oakbury Wells"). Asked of a question that names
    no council the corpus knows.

    >>> unknown_places("What did peers say about Oakbury's budget, and about Greyminster?", {"budget"})
    ('Oakbury',)
    >>> unknown_places("When was the Greyminster peer challenge?", {"when"}, ["peer challenge"])
    ('Greyminster',)
    >>> unknown_places("When did Oakbury Wells last have a peer challenge?", {"when", "wells"})
    ('Oakbury Wells',)
    >>> unknown_places("What changed in COVID?", {"changed"})
    ()
    """
    found = []
    owned = "|".join(re.escape(e).replace(r"\ ", r"\s+") for e in sorted(events, key=len, reverse=True))
    for word in unknown_names(question, vocabulary):
        if word.isupper():  # an acronym ("in COVID", "at PFI") is no place
            continue
        name = re.escape(word)
        if re.search(rf"\b{name}['’]s\b|\b(?:at|in|visit|visits|visited|visiting)\s+{name}\b", question) \
                or re.search(rf"\b(?:{AUXILIARY_WORDS})\s+{name}\b", question, re.IGNORECASE) \
                or (owned and re.search(rf"\b{name}\s+(?:{owned})\b", question, re.IGNORECASE)):
            # the word is the question's own, so its run is there
            found.append(re.search(rf"\b{name}(?:\s+[A-Z][a-z]+\b)*", question).group(0))
    return tuple(dict.fromkeys(found))



def _blanked(text: str, mentions: Sequence[CouncilMention]) -> str:
    """``text`` with the councils it names blanked out (same length)."""
    for mention in mentions:
        text = text[:mention.start] + " " * (mention.end - mention.start) + text[mention.end:]
    return text


def known_names(question: str, facts: CorpusFacts) -> tuple[str, ...]:
    """The people and bodies the question names by capitalised words ("Stephen Moir", "Councillor
    Jo Bloggs", "the Planning Advisory Service") that stand together in a document; a council's
    or place's words are the registry's ("Northby District Council").

    >>> facts = CorpusFacts.build({}, ["Stephen Moir joined as Chief Executive in January."])
    >>> known_names("When did Stephen Moir start, and did Ann Lee?", facts)
    ('Stephen Moir',)
    >>> known_names("When did Councillor Stephen Moir start?", facts)
    ('Stephen Moir',)
    """
    names = [*titled_names(question),
             *person_names(question, facts.registry.name_words if facts.registry else frozenset())]
    return tuple(dict.fromkeys(
        name for name in map(without_title, names)
        if len(words := name.lower().split()) > 1
        and all(f"{a} {b}" in facts.name_pairs for a, b in zip(words, words[1:]))))


def unknown_people(question: str, facts: CorpusFacts) -> tuple[str, ...]:
    """The people the question names with a title ("Councillor Jo Bloggs", "Dr Ann Lee") whom
    no document names: a one-word name no document uses, or a longer one whose words never
    stand together in a document ("Agnes Whitlow" when only "James Whitlow" does).

    >>> facts = CorpusFacts(None, {}, frozenset(), frozenset({"shah", "whitlow", "james"}),
    ...                     name_pairs=frozenset({"james whitlow"}))
    >>> unknown_people("Did Cllr Shah, Councillor James Whitlow or Councillor Agnes Whitlow speak?", facts)
    ('Agnes Whitlow',)
    >>> facts = CorpusFacts.build({}, ["Councillor Siân Lloyd and Cllr Siân spoke."])
    >>> unknown_people("What did Councillor Siân Lloyd and Cllr Siân say?", facts)
    ()
    """
    unknown = []
    for name in titled_names(question):
        words = [w.lower() for w in re.sub(r"['’]s$", "", name).split()]
        pairs = [f"{a} {b}" for a, b in zip(words, words[1:])]
        # the vocabulary holds a-z runs ("Siân" is "si" and "n" there)
        known = all(p in facts.vocabulary for p in re.findall(r"[a-z]+", words[0])) if len(words) == 1 \
            else all(p in facts.name_pairs for p in pairs)
        if not known:
            unknown.append(name)
    return tuple(dict.fromkeys(unknown))
