"""One council registry: every name form of every council the corpus holds or mentions.

Built from the councils the documents are about (``held``) and the council names their text
mentions (a partner, a peer's own council), using the name forms of ``domain.yaml``. Every part
of peerqa that needs to know which council a phrase means asks ``CouncilRegistry.find``.

    >>> reg = CouncilRegistry(["Wigan Metropolitan Borough Council", "Northshire County Council"])
    >>> [m.councils for m in reg.find("Did Wigan Council act? And the county?")]
    [('Wigan Metropolitan Borough Council',), ('Northshire County Council',)]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

from assistant.domain import CouncilKind, Domain, load_domain
from assistant.errors import UsageError

_PLACE_WORD = r"(?!(?:Council|Authority)\b)[A-Z][\w'’-]*"
# a place does not open with "The": "the Borough Council of X" is not a borough council of "The"
_PLACE = rf"(?!The\b){_PLACE_WORD}(?:[ -](?:(?:and|&|upon|on|under|in|le|by|the|with)[ -])?{_PLACE_WORD})*"


def _place(domain: Domain) -> str:
    """``_PLACE``, or a place named "<word> of <name>" ("Isle of Wight": ``place_of_words``),
    never running on into a building an address names after it ("… Maidenhead Town Hall":
    ``building_names``)."""
    place = _PLACE
    if domain.building_names:
        building = "|".join(r"\s+".join(w.capitalize() for w in name.split()) for name in domain.building_names)
        word = rf"(?!(?:{building})\b){_PLACE_WORD}"
        place = rf"(?!The\b){word}(?:[ -](?:(?:and|&|upon|on|under|in|le|by|the|with)[ -])?{word})*"
    if not domain.place_of_words:
        return place
    opener = "|".join(re.escape(w.capitalize()) for w in sorted(domain.place_of_words))
    return rf"(?:(?:{opener})\s+of\s+(?:the\s+)?)?{place}"
_POSSESSIVE = r"(?:['’]s|['’])?"
# an abbreviation made of word beginnings: "BrNES", "B&NES", "O&EM" (two capitals or more)
_ABBREVIATION = re.compile(rf"(?<![\w&])(?P<abbr>[A-Z][a-z]{{0,3}}(?:&?[A-Z][a-z]{{0,3}})+){_POSSESSIVE}(?![\w&])")
# two to six capitalised words in a row or in a list ("Bournemouth, Christchurch and Poole"):
# their initials may be a place the documents write only as initials
_SPELLED_OUT = re.compile(r"\b[A-Z][a-z][\w'’-]*(?:(?:,\s+|\s+(?:and|&)\s+|\s+)[A-Z][a-z][\w'’-]*){1,5}")
# words an abbreviation of a name may leave out
_SKIPPABLE = frozenset(("and", "&", "of", "the", "upon", "on", "in", "by", "le", "under", "with"))


@dataclass(frozen=True)
class Council:
    name: str  # canonical long form, as the catalogue or the documents write it
    kind: str  # a kind from domain.yaml ("city", "london borough", …)
    place: str  # "Wigan", "Great Yarmouth"
    held: bool  # the corpus has documents about this council


@dataclass(frozen=True)
class CouncilMention:
    """A phrase naming a council: ``councils`` holds one canonical name, or several when the
    phrase is ambiguous ("Northbridge" for a county and a city), or none when the phrase is a
    council name the registry does not know ("Oxford City Council")."""

    start: int
    end: int
    text: str
    councils: tuple[str, ...]
    held: bool
    area: bool = False  # a joint area ("A and B"): it hides the places inside it, names no council
    by_kind: bool = False  # "the county", "the fire service": the held councils of that kind

    @property
    def known(self) -> bool:
        return bool(self.councils)

    @property
    def ambiguous(self) -> bool:
        return len(self.councils) > 1


def parse_council_name(name: str, domain: Domain | None = None) -> tuple[str, str] | None:
    """(kind, place) of a council name, or None when no name form fits.

    >>> parse_council_name("Royal Borough of Kingsmead")
    ('royal borough', 'Kingsmead')
    """
    domain = domain or load_domain()
    name = " ".join(name.split())
    # the most specific form first ("City of {place} Council" before "{place} Council"); on a
    # tie a kind's canonical form wins: "Great Yarmouth Borough Council" is a borough, though a
    # metropolitan borough may be written that way too
    for _, _, kind, pattern in _name_patterns(domain):
        match = pattern.match(name)
        if match and match.group("place").strip():
            return kind, match.group("place").strip()
    return None


def same_councils(names: Iterable[str], domain: Domain | None = None) -> dict[str, str]:
    """The other name each of ``names`` stands for, when it is known only as "<Place> Council"
    (its kind unknown: filed by its file name, or from a page that never says more) and exactly
    one other name is of that place, or of a place it is short for ("Southend" for
    "Southend-on-Sea", "Newcastle" for "Newcastle upon Tyne"): one council, not two.

    >>> same_councils(["Wirral Council", "Wirral Metropolitan Borough Council", "Northby Council"])
    {'Wirral Council': 'Wirral Metropolitan Borough Council'}
    >>> same_councils(["Southend Council", "Southend-on-Sea City Council"])
    {'Southend Council': 'Southend-on-Sea City Council'}
    """
    domain = domain or load_domain()
    names = list(dict.fromkeys(names))
    places = {n: parsed[1] for n in names if (parsed := parse_council_name(n, domain))}
    found = {}
    for name in names:
        place = name.removesuffix(" Council")
        if name != f"{place} Council" or not place:
            continue
        others = [n for n, p in places.items() if n != name and (
            _fold(p) == _fold(place) or [_fold(t) for t in _town_of(p)] == [_fold(place)])]
        if len(others) == 1:
            found[name] = others[0]
    return found


def renamed_councils(named: Iterable[tuple[str, str]], domain: Domain | None = None) -> dict[str, str]:
    """The later name of each council of ``named`` ((name, date) pairs) that its documents
    call by two kinds a council moves between as its status changes (``status_kinds``:
    "Colchester Borough Council" in 2022 news, "Colchester City Council" once it was made a
    city): one council, under the name of its latest document.

    >>> renamed_councils([("Northby Borough Council", "2022-11"), ("Northby City Council", "2023-09"),
    ...                   ("Southby Town Council", "2024"), ("Southby Borough Council", "2023")])
    {'Northby Borough Council': 'Northby City Council'}
    """
    domain = domain or load_domain()
    latest: dict[str, tuple[str, str]] = {}  # folded place → (date, name) of its latest document
    names: dict[str, set[str]] = {}
    for name, date in named:
        parsed = parse_council_name(name, domain)
        if not parsed or parsed[0] not in domain.status_kinds:
            continue
        place = _fold(parsed[1])
        names.setdefault(place, set()).add(name)
        latest[place] = max(latest.get(place, ("", "")), (date, name))
    return {name: latest[place][1] for place, group in names.items() if len(group) > 1
            for name in group if name != latest[place][1]}


@lru_cache(maxsize=4096)
def _spells(pieces: tuple[str, ...], words: tuple[str, ...]) -> bool:
    """Do ``pieces`` begin ``words`` one by one, in order, leaving out only ``_SKIPPABLE`` words?

    >>> _spells(("br", "n", "e", "s"), ("bramley", "and", "north", "east", "somerby"))
    True
    >>> _spells(("b", "&", "n", "e", "s"), ("bramley", "and", "north", "east", "somerby"))
    True
    >>> _spells(("n", "h", "s"), ("north", "east", "somerby"))
    False
    >>> _spells(("bw", "d"), ("blackburn", "with", "darwen"))  # "BwD": a small letter for "with"
    True
    """
    if not pieces:
        return all(w in _SKIPPABLE for w in words)
    if not words:
        return False
    piece, word = pieces[0], words[0]
    matched = word in ("and", "&") if piece == "&" else word.startswith(piece)
    joined = (len(piece) == 2 and len(words) > 1 and words[1] in _SKIPPABLE
              and word.startswith(piece[0]) and words[1].startswith(piece[1]))
    return ((matched and _spells(pieces[1:], words[1:])) or (joined and _spells(pieces[1:], words[2:]))
            or (word in _SKIPPABLE and _spells(pieces, words[1:])))


def _name_shapes(council: Council) -> tuple[tuple[str, ...], ...]:
    """The word sequences an abbreviation of ``council`` may spell: its place, its place and
    "council", its full name (lower case, "&" a word of its own)."""
    place = tuple(re.findall(r"[a-z]+|&", council.place.lower()))
    return place, (*place, "council"), tuple(re.findall(r"[a-z]+|&", council.name.lower()))


@lru_cache(maxsize=4)
def _name_patterns(domain: Domain) -> list[tuple[int, int, str, re.Pattern[str]]]:
    found = []
    for order, kind in enumerate(domain.council_kinds):
        for i, (form, pattern) in enumerate(zip(kind.forms, kind.patterns())):
            found.append((len(form.replace("{place}", "")), int(i == 0), -order, kind.kind, pattern))
    found.sort(key=lambda f: f[:3], reverse=True)
    return [(f[0], f[1], f[3], f[4]) for f in found]


class CouncilRegistry:
    """Councils by every name form; ``find`` locates them in a question or a passage."""

    def __init__(self, held: Iterable[str], mentioned: Iterable[str] = (),
                 domain: Domain | None = None, common_words: Iterable[str] = (),
                 aliases: Mapping[str, Sequence[str]] | None = None,
                 defined: Iterable[tuple[str, str]] = ()):
        self.domain = domain or load_domain()
        self._common = frozenset(common_words)
        # (short form, long form) of each abbreviation the documents define ("Corporate Peer
        # Challenge (CPC)"): initials a council's name would have are not that council when the
        # documents use them for something else
        self._defined: dict[str, set[str]] = {}
        for short, long in defined:
            self._defined.setdefault(short, set()).add(" ".join(long.lower().split()))
        self._extra = {name: tuple(forms) for name, forms in (aliases or {}).items()}
        councils: dict[str, Council] = {}
        for name, is_held in [(n, True) for n in held] + [(n, False) for n in mentioned]:
            name = " ".join(str(name).split())
            parsed = parse_council_name(name, self.domain)
            if name in councils or (parsed is None and not is_held):
                continue
            kind, place = parsed or ("unitary", name)
            councils[name] = Council(name, kind, place, is_held)
        self.councils = councils
        self._spelled_cache: dict[str, tuple[str, ...]] = {}

    # ------------------------------------------------------------ derived tables

    @cached_property
    def held(self) -> tuple[str, ...]:
        return tuple(sorted(n for n, c in self.councils.items() if c.held))

    @cached_property
    def _aliases(self) -> dict[str, tuple[str, ...]]:
        """Lower-case name form → canonical names in registry order. On a clash councils win
        over single-purpose authorities, then councils the corpus is about."""
        owners: dict[str, list[str]] = {}
        for council in self.councils.values():
            for form in self.forms(council.name):
                owners.setdefault(_fold(form), []).append(council.name)
        resolved = {}
        for alias, names in owners.items():
            names = list(dict.fromkeys(names))
            councils = [n for n in names if not self._is_authority(n)] or names
            held = [n for n in councils if self.councils[n].held]
            resolved[alias] = tuple(held or councils)
        return resolved

    def _is_authority(self, name: str) -> bool:
        kind = self._kinds.get(self.councils[name].kind)
        return bool(kind and kind.authority)

    @cached_property
    def _kinds(self) -> dict[str, CouncilKind]:
        return {k.kind: k for k in self.domain.council_kinds}

    @cached_property
    def _initialisms(self) -> dict[str, tuple[str, ...]]:
        """"CCC" → every council whose name has those initials (upper case only); the councils
        the corpus holds, when some of them do: "TDC" in a question is the held Thanet District
        Council, not a Tollbridge District Council its documents mention."""
        found: dict[str, list[str]] = {}
        for name, council in self.councils.items():
            # each full form of its kind has its initials: "CYC" and "YCC" (City of York Council,
            # York City Council), "SFRS" (Suffolk Fire and Rescue Service)
            kind = self._kinds.get(council.kind)
            full = [f.replace("{place}", council.place) for f in (kind.forms if kind else ())
                    if re.search(r"\b(?:Council|Authority|Service)$", f)]
            for form in dict.fromkeys([name, *full]):
                letters = "".join(w[0] for w in re.findall(r"[A-Za-z][\w'’-]*", form) if w[0].isupper())
                if len(letters) >= 3 and name not in found.get(letters, ()) and not self._defined_otherwise(letters, council):
                    found.setdefault(letters, []).append(name)
        return {k: tuple([n for n in v if self.councils[n].held] or v) for k, v in found.items()}

    def _defined_otherwise(self, letters: str, council: Council) -> bool:
        """Do the documents define ``letters`` as short for something not naming ``council``'s
        place? "CPC" is the corporate peer challenge wherever the documents say so, not a
        "City of Preston Council" the council's kind would spell."""
        longs = self._defined.get(letters, ())
        return bool(longs) and not any(council.place.lower() in long for long in longs)

    @cached_property
    def _acronym_places(self) -> dict[str, tuple[str, ...]]:
        """"BCP" → the councils whose place is written only as those initials ("BCP Council"):
        a question may spell the place out ("Bournemouth, Christchurch and Poole")."""
        found: dict[str, list[str]] = {}
        for name, council in self.councils.items():
            if re.fullmatch(r"[A-Z]{2,6}", council.place):
                found.setdefault(council.place, []).append(name)
        return {k: tuple([n for n in v if self.councils[n].held] or v) for k, v in found.items()}

    def _spelled(self, abbreviation: str) -> tuple[str, ...]:
        """The councils whose place or name an abbreviation spells out, each of its pieces
        beginning one word in turn ("Br|N|E|S": Bramley and North East Somerby, "and" left out;
        "&" for "and"), an abbreviation of the place perhaps ending in C for Council. At least
        three letters: "NHS" or "CEO" spell no council ("BwD" may: Blackburn with Darwen)."""
        if abbreviation not in self._spelled_cache:
            pieces = tuple(p.lower() for p in re.findall(r"&|[A-Z][a-z]*", abbreviation))
            letters = sum(len(p) for p in pieces)  # "&" one: "E&E" is Epsom and Ewell
            owners = [c.name for c in self.councils.values() if letters >= 3 and any(
                _spells(pieces, words) for words in (*_name_shapes(c), *self._kind_shapes(c)))
                and not self._defined_otherwise(abbreviation, c)]
            councils = [n for n in owners if not self._is_authority(n)] or owners
            self._spelled_cache[abbreviation] = tuple([n for n in councils if self.councils[n].held] or councils)
        return self._spelled_cache[abbreviation]

    def _kind_shapes(self, council: Council) -> tuple[tuple[str, ...], ...]:
        """A council known only as "<Place> Council" (its kind unknown) may be abbreviated with
        its real kind's letters: each kind's long form of its place ("NWLDC": North West
        Leicestershire District Council)."""
        if council.name != f"{council.place} Council":
            return ()
        return tuple(tuple(re.findall(r"[a-z]+|&", k.forms[0].replace("{place}", council.place).lower()))
                     for k in self.domain.council_kinds if k.forms and not k.authority and not k.minor)

    def forms(self, name: str) -> tuple[str, ...]:
        """Every written form of a council's name: long and short forms, abbreviations
        ("Wigan MBC"), "Wigan's borough", and its place alone."""
        council = self.councils[name]
        kind = self._kinds.get(council.kind)
        forms = [council.name, f"{council.place} Council", council.place, *self._extra.get(name, ())]
        # a place of three names or more goes by its initials: "AMP Council" (Ashby, Marlow
        # and Penford)
        letters = "".join(w[0] for w in re.findall(r"[A-Za-z][\w'’-]*", council.place) if w[0].isupper())
        if len(letters) >= 3:
            forms.append(f"{letters} Council")
        # a council's place joining names that are no other council's ("Orley and East Marsh")
        # also goes by each of them ("East Marsh Council"); a single-purpose authority's joined
        # area ("Northshire and Southby", two councils' places) does not
        parts = [p.strip() for p in re.split(r",\s*|\s+(?:and|&)\s+", council.place) if p.strip()]
        if len(parts) > 1 and not (kind is not None and kind.authority):
            forms += [form for part in parts if part[:1].isupper() and _fold(part) not in self._places
                      for form in (part, f"{part} Council")]
        # a "-shire" place is written short: "North Brackenshire" as "North Bracks" (its first
        # letters and s)
        short = [*_shire_shortenings(council.place), *_customary_short_forms(council.place, self.domain),
                 *_town_of(council.place)]
        forms += [form for place in short for form in (place, f"{place} Council")]
        if kind is not None:
            for place in (council.place, *short):
                forms += [f.replace("{place}", place) for f in kind.forms]
                forms += [f"{place}{s} {w}" for w in kind.words for s in ("'s", "")]
        if council.held and council.name == f"{council.place} Council":
            # known only as "<Place> Council", its kind unknown: any principal kind's abbreviated
            # form of its place is it ("Trafford MBC", "Rossendale BC"), as any full name is
            forms += [f.replace("{place}", council.place) for k in self.domain.council_kinds
                      if not (k.authority or k.minor) for f in k.forms if _ABBREVIATED_FORM.search(f)]
        return tuple(dict.fromkeys(forms))

    @cached_property
    def _places(self) -> frozenset[str]:
        return frozenset(_fold(c.place) for c in self.councils.values())

    @cached_property
    def _full_name(self) -> re.Pattern[str]:
        """Council-like phrases, known or not: a capitalised place and a full name form around it
        ("… City Council", "London Borough of …"; not the short "… City", which is only an alias)."""
        forms = sorted({f for k in self.domain.council_kinds for f in k.forms if _is_full_form(f)},
                       key=len, reverse=True)
        body = "|".join(re.escape(f).replace(r"\{place\}", _place(self.domain)) for f in forms)
        # …and two councils sharing one name: "Chiltern and South Bucks District Councils"
        return re.compile(rf"\b(?:{body})(?:(?<=Council)s)?{_POSSESSIVE}(?!\w)")

    @cached_property
    def _alias_pattern(self) -> re.Pattern[str] | None:
        aliases = sorted(self._aliases, key=len, reverse=True)
        if not aliases:
            return None
        body = "|".join(_loose(a) for a in aliases)
        initials = "|".join(map(re.escape, sorted(self._initialisms, key=len, reverse=True)))
        loose = rf"(?i:(?<![\w-])(?:{body})(?:{_POSSESSIVE}|(?<=[Cc]ouncil)s)(?![\w-]))"
        return re.compile(loose + (rf"|\b(?:{initials})\b{_POSSESSIVE}" if initials else ""))

    @cached_property
    def _kind_owners(self) -> dict[str, tuple[str, ...]]:
        """Kind word ("city", "fire authority") → the held councils of kinds using that word."""
        owners: dict[str, list[str]] = {}
        for kind in self.domain.council_kinds:
            for word in kind.words:
                owners.setdefault(word, []).extend(
                    n for n, c in self.councils.items() if c.held and c.kind == kind.kind)
        return {w: tuple(dict.fromkeys(n)) for w, n in owners.items() if n}

    @cached_property
    def _kind_pattern(self) -> re.Pattern[str] | None:
        words = sorted(self._kind_owners, key=len, reverse=True)
        if not words:
            return None
        body = "|".join(re.escape(w) for w in words)
        return re.compile(
            rf"\b(?:the\s+)?(?P<p1>{body})\s+(?:and|or|&|vs\.?|versus)\s+(?:the\s+)?(?P<p2>{body})"
            rf"(?:\s+councils?)?{_POSSESSIVE}(?!\w)"
            rf"|\bthe\s+(?P<a>{body})(?:\s+councils?)?{_POSSESSIVE}(?!\w)"
            rf"|\b(?P<b>{body})\s+councils?{_POSSESSIVE}(?!\w)", re.I)

    @cached_property
    def name_words(self) -> frozenset[str]:
        """Lower-case words of every council name and place (never a person's name)."""
        return frozenset(w.lower() for c in self.councils.values()
                         for w in re.findall(r"[\w'’-]+", f"{c.name} {c.place}"))

    @property
    def common_words(self) -> frozenset[str]:
        """Lower-case words the documents write in lower case within a sentence ("needs",
        "grant"): two of them capitalised make a term ("High Needs"), not a person's name."""
        return self._common

    # ------------------------------------------------------------ lookups

    def _mention(self, match: re.Match[str]) -> CouncilMention | None:
        """The mention a matched phrase makes; None when it names no place ("The Council")."""
        words = match.group(0).split(" ")
        start = match.start()
        # "Has Wigan Council …", "Leader of Otherton on Northby City Council": the
        # longest known name the phrase ends with, else the phrase without its lead-in words
        while len(words) > 1 and _fold(_unpossessive(" ".join(words))) not in self._aliases and (
                words[0].lower() in self.domain.leading_words
                or any(_fold(_unpossessive(" ".join(words[i:]))) in self._aliases for i in range(1, len(words)))):
            start += len(words.pop(0)) + 1
        phrase = _unpossessive(" ".join(words))
        owners = self._aliases.get(_fold(phrase)) or self._initialisms.get(phrase, ()) \
            or self._generic_owners(phrase)
        if owners and not any(self.councils[n].held for n in owners):
            # a name or initials the documents use only for a council they mention may be the
            # held council known only as "<Place> Council": "Cheltenham Borough Council", "CBC"
            # in a question are the held "Cheltenham Council" when a page names the borough
            # council in passing
            held = [n for n in (*self._generic_owners(phrase), *(self._spelled(phrase) if phrase.isupper() else ()))
                    if self.councils[n].held]
            owners = tuple(dict.fromkeys(held)) or owners
        if not owners and not self.names_a_place(phrase):
            return None
        end = start + len(phrase)
        area = bool(owners) and _fold(phrase) in {_fold(self.councils[n].place) for n in owners} \
            and self._joins_places(phrase)
        held = any(self.councils[n].held for n in owners)
        return CouncilMention(start, end, match.string[start:end], () if area else owners, held, area)

    def _generic_owners(self, phrase: str) -> tuple[str, ...]:
        """A council known only as "<Place> Council" (its kind unknown: filed by its file name
        or a page that never says more) is the one meant by any full name of its place:
        "Gloucester City Council" is the held "Gloucester Council"."""
        parsed = parse_council_name(phrase, self.domain) if self._generic else None
        return self._generic.get(_fold(parsed[1]), ()) if parsed else ()

    @cached_property
    def _generic(self) -> dict[str, tuple[str, ...]]:
        """Folded place → the held councils known only as "<Place> Council"."""
        found: dict[str, list[str]] = {}
        for c in self.councils.values():
            if c.held and c.name == f"{c.place} Council":
                found.setdefault(_fold(c.place), []).append(c.name)
        return {place: tuple(names) for place, names in found.items()}

    def _joins_places(self, phrase: str) -> bool:
        """Does ``phrase`` join places that are each a council's ("Northshire and Southby": an
        area, the combined authority's when named with its function)? "Orley and East Marsh" is
        one place, its council's.
        """
        parts = _fold(phrase).split(" and ")
        return len(parts) > 1 and all(part in self._places for part in parts)

    def _longer_name(self, mention: CouncilMention, text: str) -> str:
        """A place in another proper name is not a council: "heads" when the place opens the
        name ("Northshire Public Service Board", "Northshire Forward"), "inside" when a name runs
        on before it ("Greater Northby Partnership"), else ""."""
        before = re.search(r"([A-Z][\w'’-]*)\s+$", text[:mention.start])
        # "Northby's Cabinet" names the council's cabinet: only a name run on without a
        # possessive is a longer name
        after = re.match(r"\s+([A-Z][\w'’-]*)", text[mention.end:])
        lead_in = before and (before.group(1).lower() in self.domain.leading_words
                              or not text[:before.start()].strip()
                              or text[:before.start()].rstrip()[-1:] in ".?!:;\"'(")
        if before and not lead_in:
            return "inside"
        if after and after.group(1) not in self._initialisms and not after.group(1).isupper() \
                and after.group(1).lower() not in self._own_words:
            return "heads"
        return ""

    @cached_property
    def _own_words(self) -> frozenset[str]:
        """Capitalised words that, after a place, name something of its council, not a longer
        name: a post ("the Northby Leader"), a document or the body that receives one ("the
        Northby Cabinet", "the Northby Peer Challenge")."""
        return frozenset({p.split()[0] for p in self.domain.posts} | self.domain.document_words)

    def names_a_place(self, name: str) -> bool:
        """Is ``name`` a council name with a real place ("Wigan Council", not "City Council",
        nor "Full Council", the meeting of all its members)?"""
        parsed = parse_council_name(name, self.domain)
        place = parsed[1].lower() if parsed else ""
        generic = self.domain.leading_words | self.domain.not_place_words | self._name_kind_words
        # no place ends with a word that leads into a name: "Content That Council" is a heading
        # run into "That Council: (i) accepts …" when wrapped lines are joined
        return bool(place) and not set(place.split()) <= generic \
            and place.split()[-1] not in self.domain.leading_words

    @cached_property
    def _kind_words(self) -> frozenset[str]:
        return frozenset(w for k in self.domain.council_kinds for w in (*k.words, *k.kind.split()))

    @cached_property
    def _name_kind_words(self) -> frozenset[str]:
        """The kinds' words and "council": what a name's place is not ("City Council")."""
        return self._kind_words | {"council", "councils"}

    def find(self, text: str) -> list[CouncilMention]:
        """Every council reference in ``text``, in order; overlapping references keep the longest."""
        found: list[CouncilMention] = []
        for match in self._full_name.finditer(text):
            # a plural ("Northby and Southby District Councils") names councils each found by
            # its place below
            if not plural_name(match.group(0)):
                found.append(self._mention(match))
        if self._alias_pattern is not None:
            for match in self._alias_pattern.finditer(text):
                mention = self._mention(match)
                if mention and self._bare_place_ok(mention, mention.text) \
                        and not self._longer_name(mention, text):
                    found.append(mention)
        for match in _ABBREVIATION.finditer(text):
            owners = self._spelled(match.group("abbr"))
            if owners:
                found.append(CouncilMention(match.start(), match.end("abbr"), match.group("abbr"), owners,
                                            any(self.councils[n].held for n in owners)))
        for match in _SPELLED_OUT.finditer(text) if self._acronym_places else ():
            words = re.findall(r"\b[A-Z][\w'’-]*", match.group(0))
            while words and words[-1].lower() in self._name_kind_words:  # "… and Poole Council"
                words.pop()
            owners = self._acronym_places.get("".join(w[0] for w in words), ())
            if owners:  # "Bournemouth, Christchurch and Poole" for the held "BCP Council"
                found.append(CouncilMention(match.start(), match.end(), match.group(0), owners,
                                            any(self.councils[n].held for n in owners)))
        if self._kind_pattern is not None:
            for match in self._kind_pattern.finditer(text):
                # "which district council chief executive …?" asks which council: it names none
                asks_which = _ASKS_WHICH.search(text, 0, match.start())
                if not asks_which and not self._kind_opens_a_name(text, match):
                    found.extend(self._kind_mentions(match))
        return _placed([m for m in _longest_first([m for m in found if m is not None]) if not m.area], text)

    def in_longer_names(self, text: str) -> list[tuple[CouncilMention, str]]:
        """Places in another proper name, each with where it stands ("heads": "Northshire
        Forward"; "inside": "Greater Northby Partnership"). No council is named, but a name a
        place opens is most likely its council's programme or body."""
        if self._alias_pattern is None:
            return []
        found = (self._mention(m) for m in self._alias_pattern.finditer(text))
        return [(m, where) for m in found if m and not m.area and self._bare_place_ok(m, m.text)
                and (where := self._longer_name(m, text))]

    def _kind_opens_a_name(self, text: str, match: re.Match[str]) -> bool:
        """"the City of London", "the City Corporation", "the County Hall": a capitalised kind
        word in a proper name is not "the city" or "the county" the corpus holds ("the County
        Leader", "the City Council" and "the county Labour group" are)."""
        if not re.sub(r"(?i)^the\s+", "", match.group(0))[:1].isupper():
            return False
        after = re.match(r"\s+(of\s+)?([A-Z][\w'’-]*)", text[match.end():])
        return bool(after) and (bool(after.group(1)) or (
            after.group(2).lower() not in self._own_words | {"council", "councils"}
            and after.group(2) not in self._initialisms))

    def _kind_mentions(self, match: re.Match[str]) -> list[CouncilMention]:
        """"the county" → the one held county; "city and county councils" → two mentions."""
        groups = ("p1", "p2") if match.group("p1") else ("a",) if match.group("a") else ("b",)
        mentions = []
        for i, group in enumerate(groups):
            owners = self._kind_owners[" ".join(match.group(group).lower().split())]
            start = match.start() if i == 0 else match.start(group)
            end = match.end() if i == len(groups) - 1 else match.end(group)
            end -= len(match.string[start:end]) - len(re.sub(rf"{_POSSESSIVE}$", "", match.string[start:end]))
            mentions.append(CouncilMention(start, end, match.string[start:end], owners, True, by_kind=True))
        return mentions

    def _bare_place_ok(self, mention: CouncilMention, written: str) -> bool:
        """A bare place that is also an ordinary word ("Reading") must be capitalised."""
        bare = re.sub(rf"{_POSSESSIVE}$", "", written.strip().lower())
        places = {self.councils[n].place.lower() for n in mention.councils}
        if bare in places and bare in self._common:
            return written[:1].isupper()
        return True

    def resolve(self, value: str) -> str:
        """The one held council ``value`` names (a filter value); UsageError otherwise."""
        value = " ".join((value or "").split())
        exact = [n for n in self.held if n.lower() == value.lower()]
        mentions = self.find(value) or self.find(f"the {value}")
        owners = exact or sorted({n for m in mentions for n in m.councils if self.councils[n].held})
        if len(owners) == 1:
            return owners[0]
        held = ", ".join(self.held) or "no councils"
        if owners:
            raise UsageError(f"{value!r} could mean {' or '.join(owners)}; name one of them.")
        raise UsageError(f"Unknown council {value!r}; the corpus holds: {held}.")

    def strip(self, text: str, keep: Sequence[CouncilMention] = ()) -> str:
        """``text`` without its council references ("… for the city council's finances")."""
        out, last = [], 0
        for mention in self.find(text):
            if mention in keep:
                continue
            head = text[last:mention.start]
            head = re.sub(r"(?i)\b(?:(?:at|for|of|by|from|in) )?(?:the )?$", "", head)
            out.append(head)
            last = mention.end
            possessive = re.match(_POSSESSIVE, text[last:])
            last += possessive.end() if possessive else 0
        out.append(text[last:])
        stripped = re.sub(r"\s+", " ", " ".join(out)).strip()
        return stripped if len(stripped) >= 8 else text


def _fold(text: str) -> str:
    """Lower case, one space for hyphens and runs of space, no apostrophes, "and" for "&": the
    form aliases are compared in ("Bishop’s Hatley" = "bishops hatley", "Denholm on Sea" =
    "denholm-on-sea", "Brayford & Hove" = "brayford and hove")."""
    return " ".join(re.sub(r"['’]", "", text.lower()).replace("-", " ").replace("&", " and ").split())


def _loose(alias: str) -> str:
    """A folded alias as a pattern that also matches hyphens, spaces and apostrophes."""
    return r"[-\s]+".join("(?:and|&)" if word == "and" else "['’]?".join(re.escape(part) for part in word)
                          for word in alias.split(" "))


_PLURAL = re.compile(rf"Councils{_POSSESSIVE}$")


def plural_name(phrase: str) -> bool:
    """Is ``phrase`` a council name in the plural ("… District Councils", "… Councils'")?"""
    return bool(_PLURAL.search(phrase))


def _shared_name(phrase: str, domain: Domain) -> list[str]:
    """The councils a plural name gives: two councils of one kind sharing a place's name and an
    officer team ("Chiltern and South Bucks District Councils", one peer challenge of both) are
    filed as one, "Chiltern and South Bucks District Council", which goes by each place too;
    "Bromsgrove District and Redditch Borough Councils" names two, each with its kind; a plural
    of one place ("the Surrey District Councils", a group) names none.

    >>> _shared_name("Bromsgrove District and Redditch Borough Councils", load_domain())
    ['Bromsgrove District Council', 'Redditch Borough Council']
    >>> _shared_name("Chiltern and South Bucks District Councils", load_domain())
    ['Chiltern and South Bucks District Council']
    >>> _shared_name("Surrey District Councils", load_domain())
    []
    """
    phrase = re.sub(rf"{_POSSESSIVE}$", "", phrase)
    head, _, tail = re.sub(r"\s&\s", " and ", phrase).partition(" and ")
    if not tail:
        return []
    kind_words = {w for k in domain.council_kinds for w in k.kind.split()} - {"and"}
    if head.split()[-1].lower() in kind_words:
        return [f"{head} Council", tail[:-1]]
    return [phrase[:-1]]


def _unpossessive(phrase: str) -> str:
    """"Wigan's" → "Wigan"; "District Councils" → "District Council"."""
    return re.sub(rf"(?:{_POSSESSIVE}|(?<=[Cc]ouncil)s)$", "", phrase)


# a kind's abbreviated form: "{place} MBC", "LB {place}"
_ABBREVIATED_FORM = re.compile(r"\b[A-Z]{2,}\b")


def _is_full_form(form: str) -> bool:
    return bool(re.search(r"\b(?:Council|Authority|Service)\b|\bof \{place\}$", form))


_PLACED_BY = re.compile(r"\s+(?:in|of|for|at|covering)\s+(?:the\s+)?")


def _placed(mentions: list[CouncilMention], text: str) -> list[CouncilMention]:
    """"the county council in East Sussex": a kind ("the county council", any held county)
    placed by the council named right after it is that one council, named once."""
    out: list[CouncilMention] = []
    for m in mentions:
        kind = out[-1] if out else None
        if kind and kind.by_kind and len(m.councils) == 1 and m.councils[0] in kind.councils \
                and _PLACED_BY.fullmatch(text, kind.end, m.start):
            out[-1] = replace(m, start=kind.start, text=text[kind.start:m.end])
        else:
            out.append(m)
    return out


def _longest_first(mentions: list[CouncilMention]) -> list[CouncilMention]:
    chosen: list[CouncilMention] = []
    # of two readings of one phrase, a council the registry knows beats an unknown one
    for m in sorted(mentions, key=lambda m: (-(m.end - m.start), not m.known, m.start)):
        if all(m.end <= c.start or m.start >= c.end for c in chosen):
            chosen.append(m)
    return sorted(chosen, key=lambda m: m.start)


def council_names_in(texts: Iterable[str], domain: Domain | None = None, counts: bool = False) -> list[str]:
    """Council names written out in full in ``texts``, each once in order of appearance, or
    every occurrence with ``counts``."""
    registry = name_finder(domain or load_domain())
    names: list[str] = []
    for text in texts:
        for match in registry._full_name.finditer(text):
            phrase = re.sub(rf"{_POSSESSIVE}$", "", match.group(0))
            if plural_name(phrase):  # two councils sharing a name, perhaps of two kinds
                names += [p for p in _shared_name(phrase, registry.domain) if registry.names_a_place(p)]
                continue
            words = phrase.split()
            while len(words) > 2 and words[0].lower() in registry.domain.leading_words:
                words.pop(0)
            words = _after_last(words, registry.domain.not_place_words)
            names += [p for p in _split_joined(" ".join(words), registry) if registry.names_a_place(p)]
    return names if counts else list(dict.fromkeys(names))


_ASKS_WHICH = re.compile(r"(?i)\b(?:which|what)\s+$")


def _shire_shortenings(place: str) -> list[str]:
    """The short ways a place with a county's "-shire" name is written: the first four or more
    letters of the name before "shire", then "s" ("Brackenshire": "Bracs", "Bracks", "Brackes";
    "North Brackenshire": "North Bracks" …).

    >>> _shire_shortenings("North Brackenshire")
    ['North Bracs', 'North Bracks', 'North Brackes']
    """
    words = place.split(" ")
    found = []
    for i, word in enumerate(words):
        stem = word[:-5] if word.lower().endswith("shire") and word[:1].isupper() else ""
        # the whole name before "shire" and "s" is that place's possessive ("Brackens" is
        # Bracken's, a dropped apostrophe), not a short "Brackenshire"
        found += [" ".join([*words[:i], stem[:n] + "s", *words[i + 1:]]) for n in range(4, len(stem))]
    return found


def _town_of(place: str) -> list[str]:
    """A place named as a town on something ("Southend-on-Sea", "Newcastle upon Tyne",
    "Newcastle-under-Lyme") goes by the town alone.

    >>> _town_of("Southend-on-Sea"), _town_of("Kingston upon Thames"), _town_of("Orley")
    (['Southend'], ['Kingston'], [])
    """
    town = _TOWN_ON.match(place)
    return [town.group(1)] if town else []


_TOWN_ON = re.compile(r"^([A-Z][\w'’]+)(?:-| )(?:on|upon|under|le|in|by|next)(?:-| )[A-Z]")


def _customary_short_forms(place: str, domain: Domain) -> list[str]:
    """``place`` with a word written in its customary short form (``place_short_forms`` of
    domain.yaml): "North Northamptonshire" as "North Northants"."""
    words = place.split(" ")
    return [" ".join([*words[:i], short.capitalize(), *words[i + 1:]])
            for i, word in enumerate(words) for family in domain.place_short_forms
            if word.lower() == family[0] for short in family[1:]]


@lru_cache(maxsize=4)
def name_finder(domain: Domain) -> CouncilRegistry:
    """An empty registry: its patterns find council-like names (compiled once per domain)."""
    return CouncilRegistry((), (), domain)


def _after_last(words: list[str], blockers: frozenset[str]) -> list[str]:
    """The words after the last one that cannot be part of a place ("Dr", "Director", "Peer")."""
    cut = max((i for i, w in enumerate(words[:-2]) if w.lower().strip(",.:;") in blockers), default=-1)
    return words[cut + 1:]


def _split_joined(phrase: str, registry: CouncilRegistry) -> list[str]:
    """"A City Council and B District Council" → both; "A and B Combined Authority" and "London
    Borough of Orley and East Marsh" (the tail is no council name of its own) stay whole.

    >>> _split_joined("London Borough of Orley and East Marsh", name_finder(load_domain()))
    ['London Borough of Orley and East Marsh']
    >>> _split_joined("Ashby City Council and Penford District Council", name_finder(load_domain()))
    ['Ashby City Council', 'Penford District Council']
    """
    head, sep, tail = phrase.partition(" and ")
    if sep and registry._full_name.fullmatch(head) and registry._full_name.match(tail):
        return [head, *_split_joined(tail, registry)]
    return [phrase]
