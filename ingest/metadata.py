"""What an uncatalogued document is: its subject council, date, type and title, from its text.

General rules, not lists: the opening of a document (cover, letter head, headline) says what it
is and whom it is about, so evidence there weighs most; a council named on a peer's line is the
peer's own council; a document is never dated after the day it is ingested, and a year that a
plan runs "to" or "by" is a horizon, not a date.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path

from assistant.councils import council_names_in, name_finder, parse_council_name, plural_name
from assistant.dates import DAY_DATE, MONTH_DATE, MONTH_NAMES, month_number
from assistant.domain import load_domain
from assistant.types import UNKNOWN_COUNCIL

# Bump when what is inferred from a document's text changes (council, date, type, title), or
# how its text is cleaned: a re-ingest then reads every document again instead of keeping the
# old guesses and text. (A change to assistant/domain.yaml does the same on its own.)
INFERENCE_VERSION = 16
HEAD = 600  # characters of the opening that decide most
HEAD_WEIGHT = 8  # evidence in the opening counts this many times
ABOUT_WEIGHT = 2 * HEAD_WEIGHT  # a web page's own title, site name and description
_YEAR = re.compile(r"\b((?:19|20)\d\d)\b(?!\s*/\s*\d)")
# "by 2030", "Vision 2040", "to 2035", "2023-2028": the year a plan looks towards
_HORIZON = re.compile(r"(?i)\b(?:by|until|till|to|through|vision|beyond|towards)\s+(?:(?:19|20)\d\d)\b"
                      r"|\b(?:19|20)\d\d\s*(?:-|–|to)\s*((?:19|20)\d\d)\b")
# a label stating the document's own date: "Published: 3 April 2024", "Last updated: 20 June 2024"
# a date something is due by, not the document's own: "will publish this by 17 December 2024",
# "no later than May 2025", "currently set for 8 January 2024"
_DEADLINE = re.compile(r"(?i)\b(?:by|until|till|before|no later than|not later than|"
                       r"(?:set|planned|scheduled|due) for)\s+(?:the\s+)?$")
_DATE_LABEL = re.compile(r"(?i)\b(?:published|last updated|updated|posted|date)(?:\s+on)?\s*:?\s*"
                         r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s*)?$")
# "peer" naming a person ("Member Peer: ...", "Officer peers: ..."), not the process ("Corporate
# Peer Challenge | Northby District Council") nor the team ("the peer team visited Northby
# District Council", "the peers met staff of Northby District Council" name the subject)
_PEER_LINE = re.compile(r"(?i)(?:\bpeer\b(?!\s+(?:challenges?|reviews?|team)\b)|\bpeers\s*:)[^\n]{0,80}$")
# ... or after the council, set off as the peer's role: "Cllr Jo Bloggs - Northby Borough
# Council (Labour member peer)", "Northby District Council – chief executive peer"; not a
# later sentence's ("… at Northby City Council. But despite these changes, it is clear to the
# peer team …")
_PEER_AFTER = re.compile(r"(?i)(?:(?![.!?]\s)[^\n]){0,60}?[(–—,-]\s*(?:(?![.!?]\s)[^\n(]){0,40}?\bpeer\b"
                         r"(?!\s+(?:challenges?|reviews?)\b)")
# ... or on a line saying who led the team or the review ("The team was led by Jo Bloggs,
# Managing Director of Northby District Council"; "This review involved senior officers from
# councils across the country, led by Jo Bloggs, Chief Executive at Northby Council"), or in a
# list under a line about the team ("The full team was:")
_TEAM_LED = re.compile(r"(?i)\b(?:team|review|challenge|panel)\b[^\n]{0,80}\bled by\b[^\n]{0,80}$")
_LIST_ITEM = re.compile(r"^\s*(?:[•·▪*–-]|\d{1,2}[.)])\s")
_TEAM_HEAD = re.compile(r"(?i)\b(?:team|peers?)\b")


def infer_date(text: str, today: date | None = None, published: str = "") -> str:
    """The document's own date, ISO (partial when only a month or a year is given), or "".

    ``published`` is a date the document declares outside its text (a web page's
    ``article:published_time``); it wins when it is a real date, not in the future."""
    today = today or date.today()
    declared = _declared_date(published)
    if declared and declared <= today:
        return declared.isoformat()
    for match in DAY_DATE.finditer(text[:20000]):
        found = _day_date(match)
        if found and found <= today and _DATE_LABEL.search(text[max(0, match.start() - 40):match.start()]):
            return found.isoformat()
    # a date on the cover ("LGA Corporate Peer Challenge (June 2022)", "27/10/2023 - Decision"),
    # else the first day of the opening, else its first month; never a deadline ("publish this
    # by 17 December 2024") nor a date in the future
    cover = "\n".join(_cover_lines(text))
    for found in (_first_date(cover, today, days=True, months=True),
                  _first_date(text[:HEAD * 3], today, days=True),
                  _first_date(text[:HEAD * 3], today, months=True)):
        if found:
            return found
    horizon = {int(y) for m in _HORIZON.finditer(text) for y in re.findall(r"(?:19|20)\d\d", m.group(0))}
    years = Counter(int(y) for y in _YEAR.findall(text[:20000]))
    years = Counter({y: n for y, n in years.items() if y <= today.year and y not in horizon} or
                    {y: n for y, n in years.items() if y <= today.year})
    return str(max(years, key=lambda y: (years[y], y))) if years else ""


def year_in_file_name(path: Path, today: date | None = None) -> str:
    """The year a file name gives ("southampton-press-2025.txt", "CPC report 2019.pdf") for a
    text that dates itself nowhere: one year, not in the future; "" otherwise.

    >>> year_in_file_name(Path("southampton-press-2025.txt"), date(2026, 1, 1))
    '2025'
    >>> year_in_file_name(Path("vision-2030-and-2040.txt"), date(2026, 1, 1))
    ''
    """
    today = today or date.today()
    years = {int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d\d)(?!\d)", path.stem)}
    return str(years.pop()) if len(years) == 1 and min(years) <= today.year else ""


def _first_date(text: str, today: date, days: bool = False, months: bool = False) -> str:
    """The first day (``days``) or month (``months``) date in ``text`` that is not a deadline
    and not after ``today``, ISO; "" when there is none."""
    spans = [(m.start(), m.end(), _day_date(m)) for m in DAY_DATE.finditer(text)]
    found = [(start, day.isoformat()) for start, _, day in spans if days and day and day <= today
             and not _DEADLINE.search(text[max(0, start - 30):start])]
    for match in MONTH_DATE.finditer(text) if months else ():
        year, month = int(match["y"]), month_number(match["m"])
        inside = any(start <= match.start() < end for start, end, _ in spans)
        if not inside and (year, month) <= (today.year, today.month) \
                and not _DEADLINE.search(text[max(0, match.start() - 30):match.start()]):
            found.append((match.start(), f"{year}-{month:02d}"))
    return min(found)[1] if found else ""


def _declared_date(value: str) -> date | None:
    """"2024-08-02T09:30:00+01:00", "2024-08-02" or "2 August 2024" → the date; else None."""
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        match = DAY_DATE.search(value)
        return _day_date(match) if match else None


def _day_date(match: re.Match[str]) -> date | None:
    try:
        if match["iy"]:
            return date(int(match["iy"]), int(match["im"]), int(match["id"]))
        if match["ny"]:
            return date(int(match["ny"]), int(match["nm"]), int(match["nd"]))
        if match["d"]:
            return date(int(match["y"]), month_number(match["m"]), int(match["d"]))
        return date(int(match["y2"]), month_number(match["m2"]), int(match["d2"]))
    except ValueError:
        return None


def infer_council(path: Path, text: str, about: str = "", furniture: str = "") -> str:
    """The council the document is about: named most in its opening, in its file name and in
    its body, not counting the councils of peers named on a peer's line. Forms of one council
    ("Hartsmere Council", "London Borough of Hartsmere") count together, under the most
    specific canonical name.

    A saved web page also says whose it is outside its text: ``about`` (its title, site name,
    headline and description) counts as its opening, ``furniture`` (header, navigation and
    footer: "© 2024 London Borough of ...") as its body, so a page that only says "we" still
    has its council."""
    scores: Counter[tuple[str, str]] = Counter()  # (kind, place) → weight
    _score_names(_title_case_capitals(text[:20000]), scores, head=HEAD)
    # the page's own title and site name say whose it is; an opening may name a partner
    _score_names(_title_case_capitals(about[:2000]), scores, head=len(about) + 1,
                 head_weight=ABOUT_WEIGHT)
    _score_names(_title_case_capitals(furniture[:20000]), scores, head=0)
    slug = " " + re.sub(r"[^a-z0-9]+", " ", path.stem.lower()) + " "
    for kind, place in list(scores):
        if f" {re.sub(r'[^a-z0-9]+', ' ', place.lower()).strip()} " in slug:
            scores[(kind, place)] += HEAD_WEIGHT
    by_place: Counter[str] = Counter()
    for (_, place), weight in scores.items():
        by_place[place] += weight
    if not by_place:
        return _council_in_file_name(path, text)
    place = by_place.most_common(1)[0][0]
    kinds = [k for k, p in scores if p == place]
    kind = next((k for k in kinds if k != "unitary"), kinds[0])  # the most specific form named
    return load_domain().kind(kind).forms[0].replace("{place}", place)


def _council_in_file_name(path: Path, text: str) -> str:
    """The council a file name names, for a text that names none ("the Council", "we"): the
    first run of file-name words that are neither words of a document, a visit or a post
    (domain.yaml) nor words the text uses in lower case ("final", "housing"), in the form of
    the kind of council named after it ("…-district-council-…"), else "<Place> Council"; one
    word the text writes in capitals is the body's initials, kept as they are ("GMCA")."""
    domain = load_domain()
    kinds = {k.kind for k in domain.council_kinds if " " not in k.kind}  # "district", "county"
    known = domain.not_place_words | domain.leading_words | domain.document_words | kinds \
        | {w for e in domain.dated_events for w in e.split()} | {"council"}
    # an address is no prose: "sadie.east@brent.gov.uk" does not use "brent" as a word
    lower = set(re.findall(r"\b[a-z]+\b", re.sub(r"\S+@\S+|\b(?:https?://|www\.)\S+|\S+\.(?:gov|org|co)\.uk\S*", " ", text)))
    words = [*re.findall(r"[a-z]+|\d+", path.stem.lower()), ""]

    def place_word(word: str) -> bool:
        return word.isalpha() and len(word) >= 3 and word not in known and word not in lower

    run: list[str] = []
    for i, word in enumerate(words):
        if place_word(word) or (word == "and" and run and place_word(words[i + 1])) \
                or (word in ("st", "saint") and not run and place_word(words[i + 1])):
            run.append(word)  # "bath-and-north-east-somerset": one place joined by "and"; "st-albans"
        elif run:
            if len(run) == 1 and re.search(rf"\b{run[0].upper()}\b", text):
                return run[0].upper()  # "gmca-news.txt" of a text saying "GMCA": a body's initials
            if word not in kinds and (named := _named_as_in_file(words[i - len(run):], text, domain.body_nouns)):
                return named  # "broads-authority-…" of a text saying "The Broads Authority"
            form = domain.kind(word if word in kinds else "unitary").forms[0]
            return form.replace("{place}", _place_as_written(run, text) or " ".join(
                w if w == "and" else "St" if w == "st" else w.capitalize() for w in _written_prefix(run, text)))
    return UNKNOWN_COUNCIL


def _written_prefix(words: list[str], text: str) -> list[str]:
    """A file name's run of place words up to the first the text uses elsewhere but never
    after the word before it: "redbridge-scrutiny-summary" of a text saying "Redbridge is
    ambitious" and "Overview and Scrutiny Committee" is Redbridge's; "fenby-north-marsh" of a
    text that never writes "north" or "marsh" keeps them (a slug of a longer name)."""
    for i in range(1, len(words)):
        if words[i] == "and":  # "fenby-and-north-marsh": judged by the word after it
            continue
        before = words[i - 2] if words[i - 1] == "and" else words[i - 1]
        used = re.search(rf"\b{re.escape(words[i])}\b", text, re.I)
        after = re.search(rf"\b{re.escape(before)}\s+(?:and\s+|&\s+)?{re.escape(words[i])}\b", text, re.I)
        if used and not after:
            return words[:i - 1] if words[i - 1] == "and" else words[:i]
    return words


def _place_as_written(words: list[str], text: str) -> str:
    """The place a file name's words spell as the text writes it, "and" put back where a slug
    drops it: "basingstoke-deane-…" of a text saying "Basingstoke and Deane"; "" when the text
    writes no such run of capitalised words."""
    if len(words) < 2 or "and" in words:
        return ""
    pattern = r"(?:\s+(?:and|&)\s+|\s+)".join(re.escape(w.capitalize()) for w in words)
    match = re.search(rf"\b{pattern}\b", text)
    return re.sub(r"\s+&\s+", " and ", " ".join(match.group(0).split())) if match else ""


def _named_as_in_file(words: list[str], text: str, body_nouns: frozenset[str]) -> str:
    """The longest name of two to four file-name words from the start of ``words`` that the
    text writes in capitals, word for word ("broads-authority": "Broads Authority";
    "london-fire-brigade": "London Fire Brigade"), ending in a noun of a body (``body_nouns``)."""
    for n in range(min(4, len(words)), 1, -1):
        name = " ".join(w.capitalize() for w in words[:n])
        if words[n - 1] in body_nouns and re.search(rf"\b{re.escape(name)}\b", text):
            return name
    return ""


def _score_names(text: str, scores: Counter[tuple[str, str]], head: int,
                 head_weight: int = HEAD_WEIGHT) -> None:
    """Add to ``scores`` each council named in ``text``: ``head_weight`` before ``head``, 1 after;
    a council on a peer's line is the peer's own and does not count."""
    registry = name_finder(load_domain())
    for match in registry._full_name.finditer(text):
        names = council_names_in([match.group(0)])
        before = text[max(0, match.start() - 200):match.start()].split("\n")[-1]
        if not names or _PEER_LINE.search(before[-100:]) or _PEER_AFTER.match(text, match.end()) \
                or _TEAM_LED.search(before) or _in_team_list(text, match.start()):
            continue  # "Member Peer: Cllr Jo Bloggs, Leader, Another Council"
        # each council a name gives: "Bromsgrove District and Redditch Borough Councils" two
        for parsed in filter(None, map(parse_council_name, names if plural_name(match.group(0)) else names[-1:])):
            kind, place = parsed  # "Orley & East Marsh" and "Orley and East Marsh" are one place
            scores[(kind, place.replace(" & ", " and "))] += head_weight if match.start() < head else 1


def _in_team_list(text: str, position: int) -> bool:
    """Is ``position`` on an item of a list introduced by a line about the team or the peers
    ("The full team was:", "Peers:")? Its councils are the peers' own."""
    lines = text[:position].split("\n")
    if not _LIST_ITEM.match(lines[-1]):
        return False
    for line in reversed(lines[:-1][-40:]):  # back over the list's other items to its heading
        if line.strip() and not _LIST_ITEM.match(line):
            return bool(_TEAM_HEAD.search(line))
    return False


def _title_case_capitals(text: str) -> str:
    """"WEXCOMBE CITY COUNCIL" → "Wexcombe City Council": names in capitals are still names."""
    return re.sub(r"\b[A-Z][A-Z'’-]+(?:\s+[A-Z][A-Z'’-]+)+\b", lambda m: m.group(0).title(), text)


def infer_doc_type(text: str, suffix: str = "", furniture: str = "") -> str:
    """The document type whose evidence phrases (domain.yaml) the text uses most, a phrase of
    two words or more in the opening counting ``HEAD_WEIGHT`` times; a phrase that is a peer's
    title ("Lead Officer Peer") is not evidence. A web page's ``furniture`` (header, navigation,
    footer: "Related pages", "Contact us") counts like its body. The first type when nothing is
    found. A text shorter than the chosen type's ``min_words`` is a page about such a document:
    the domain's short type.

    A text shorter than a report (the longest ``min_words``) names its own type on its cover
    (``_cover_parts``); elsewhere in it a document's name ("read our action plan") or a single
    word ("Cabinet") is a mention of another document, and only furniture ("lead officer",
    "key decision", "said Councillor") is evidence."""
    lower = text[:30000].lower() + "\n" + furniture[:20000].lower()
    head = lower[:HEAD]
    domain = load_domain()
    types = domain.document_types
    words = len(text.split())
    short = words < max(t.min_words for t in types)
    cover = " \n ".join(_cover_parts(text)).lower() if short else ""
    names = set(domain.document_phrases)
    scores = {}
    for doc_type in types:
        score = 0.0
        for phrase, weight in doc_type.evidence:
            # a phrase's own punctuation at either end is its boundary (", said:")
            before = r"(?<!\w)" if phrase[:1].isalnum() else ""
            after = r"(?!\w)" if phrase[-1:].isalnum() else ""
            pattern = re.compile(rf"{before}{re.escape(phrase)}{after}(?! peer)")
            several = " " in phrase or phrase.endswith(":")  # a label ("published:") is furniture
            if short and (phrase in names or not several):
                score += weight * len(pattern.findall(cover)) * (HEAD_WEIGHT if several else 1)
                continue
            # a phrase in the opening is the document naming itself ("Feedback report", "Report
            # to: Cabinet"); one word there is not ("members of our Cabinet" on a web page)
            opening = (HEAD_WEIGHT - 1) * len(pattern.findall(head)) if several else 0
            score += weight * (len(pattern.findall(lower)) + opening)
        if suffix and suffix.lower() in doc_type.suffixes:
            score += doc_type.suffix_weight
        scores[doc_type] = score
    best = max(types, key=scores.__getitem__)  # the first of the highest, as before
    chosen = best if scores[best] > 0 else types[0]
    if domain.short_type and words < chosen.min_words:
        # too short for what its words point to, it is a page about such a document, unless its
        # cover names another type it can be ("Progress Review … Feedback report", 800 words)
        on_cover = set(_type_phrases(cover))
        other = [t for t in sorted(types, key=lambda t: -scores[t]) if scores[t] > 0 and words >= t.min_words
                 and on_cover & {phrase for phrase, _ in t.evidence}]
        return other[0].type if other else domain.short_type
    return chosen.type


# a cover line cut where a date, or a label and its date, sits: "Visit dates: 20th, 21st and
# 22nd May 2024", "8th - 10th November 2022", "Report published: March 2024"
_DAYS = r"\d{1,2}(?:st|nd|rd|th)?"
_COVER_DATE = re.compile(
    rf"(?:\b[A-Z][\w-]*(?:\s+[a-z][\w-]*){{0,3}}\s*:\s*)?(?:(?:\w+day\s+)?{_DAYS}(?:\s*(?:-|–|—|to|and|,)+\s*"
    rf"{_DAYS})*\s+(?i:{MONTH_NAMES})\b\.?(?:\s+(?:19|20)\d\d)?|\b(?i:{MONTH_NAMES})\s+(?:19|20)\d\d)\b")
# "2. Key recommendations", "SECTION 1:"; a number without its dot is a day or a street number
_SECTION_START = re.compile(r"(?:^|\s)(?:\d+(?:\.\d+)*\.\s+[A-Z]|SECTION\s+\d)")
# UK postcode, or a street number and street: a letter head's address
_ADDRESS = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b|\b\d+[a-z]?\s+[A-Z][a-z]+\s+(?:Street|Road|"
                      r"Square|Lane|Avenue|Place|Way|Row|Hill|Court)\b|,\s*[A-Z][a-z]+\s+(?:Street|Road)\b")
_SALUTATION = re.compile(r"^(?:Dear|To)\s+\w")
TITLE_WORDS = (2, 16)  # a cover line shorter or longer than this is not a title part


def infer_title(path: Path, text: str, headline: str = "", council: str = "",
                doc_type: str = "", year: str = "") -> str:
    """A web page's headline (its <h1>); else the parts of the cover that say what the document
    is (a document-type phrase of domain.yaml) and whom it is about (a council's name), leaving
    out letter heads, addresses, people and their posts, dates and section headings; else, for
    news and web pages, the first headline-like line; else "<council>: <type> (<year>)" from the
    other inferred fields. A file name is the last resort only when nothing else is known."""
    if len(headline) >= 8 and len(headline.split()) >= 2:
        return headline[:120]
    parts = _cover_parts(text)
    if any(_type_phrases(p) for p in parts):
        title = ", ".join(_from_capitals(p) for p in parts)
        if council and council.lower() not in title.lower() and not council_names_in([title]):
            title += f", {council}"
        return title[:120]
    if doc_type in ("news", "web page"):
        line = next((seg for seg in _opening_lines(text)[:12] if _headline_like(seg)), "")
        if line:
            return line[:120]
    if council or doc_type:
        base = ": ".join(v for v in (council, doc_type) if v)
        return f"{base} ({year})" if year else base
    return path.stem.replace("-", " ").replace("_", " ")[:120]


def _from_capitals(line: str) -> str:
    """"LGA CORPORATE PEER CHALLENGE: FEEDBACK REPORT AND DRAFT ACTION PLAN" → "LGA Corporate
    Peer Challenge: Feedback Report and Draft Action Plan": short capitals stay (acronyms)."""
    def run(match: re.Match[str]) -> str:  # two or more words in capitals: a shouted name
        words = match.group(0).split()
        return " ".join(w.lower() if w.lower() in _SMALL_WORDS and (i or match.start())
                        else w if len(w) <= 3 else w.capitalize() for i, w in enumerate(words))
    return re.sub(r"\b[A-Z][A-Z'’]+(?:\s+[A-Z][A-Z'’]+)+\b", run, line)


_SMALL_WORDS = frozenset(("and", "of", "the", "to", "for", "in", "on", "at", "by", "a", "an", "or"))


def _opening_lines(text: str) -> list[str]:
    """The opening's non-empty lines, markdown marks removed."""
    lines = (re.sub(r"^#+\s*|\*\*|__", "", line).strip() for line in text[:4000].splitlines())
    return [line for line in lines if line]


def _cover_lines(text: str) -> list[str]:
    """The opening's lines up to its first body paragraph (a sentence longer than a title) or
    numbered section, letter heads and lists left out."""
    lines = []
    for line in _opening_lines(text)[:14]:
        if _SALUTATION.match(line) or _ADDRESS.search(line) or line.startswith(("•", "- ", "* ", "|")):
            continue
        cut = _SECTION_START.search(line)
        head = line[:cut.start()] if cut else line
        if len(head.split()) > TITLE_WORDS[1] and re.search(r"[.!?](?:\s|$)", head):
            break
        lines.append(head)
        if cut or len(line.split()) > 3 * TITLE_WORDS[1]:
            break
    return lines


def _cover_parts(text: str) -> list[str]:
    """Cover segments that name the document's type or a council, in order, each adding one
    not yet given; people's lines left out."""
    parts: list[str] = []
    given: set[str] = set()
    for line in _cover_lines(text):
        if _names_a_post(line):
            continue
        # a page title "Peer challenge | Northby District Council" is two parts
        for seg in (part for piece in _COVER_DATE.split(line) for part in piece.split(" | ")):
            seg = seg.strip(" ,.:;|–—-")
            if not TITLE_WORDS[0] <= len(seg.split()) <= TITLE_WORDS[1] or seg.endswith("."):
                continue
            adds = set(_type_phrases(seg)) | {n.lower() for n in council_names_in([seg])}
            if adds - given:
                parts.append(seg)
                given |= adds
    return parts[:3]


def _type_phrases(text: str) -> list[str]:
    """The document-type phrases of domain.yaml (type names, their word pairs and evidence of
    two words or more) that ``text`` uses."""
    lower = text.lower()
    return [p for p in load_domain().document_phrases if re.search(rf"(?<!\w){re.escape(p)}(?!\w)", lower)]


def _names_a_post(line: str) -> bool:
    """A person's line: a post (domain.yaml ``posts``) named on a line with no type phrase."""
    lower = line.lower()
    return not _type_phrases(line) and any(
        re.search(rf"(?<!\w){post}(?!\w)", lower) for post in load_domain().posts)


def _headline_like(line: str) -> bool:
    """A news headline: a few words, not a sentence, a list item, a date line, a label or site
    furniture."""
    words = len(line.split())
    return (4 <= words <= 2 * TITLE_WORDS[1] and not line.endswith((".", ":")) and " | " not in line
            and not _LIST_ITEM.match(line)
            and not _COVER_DATE.fullmatch(line.strip()) and not re.match(r"^[\w ]{1,25}:\s", line))


def inference_stamp() -> str:
    """What infers an uncatalogued document's fields: this module's version and the domain
    file. Part of each document's metadata hash, so a change works the metadata out again."""
    from assistant.query import domain_fingerprint

    return f"{INFERENCE_VERSION}-{domain_fingerprint()}"
