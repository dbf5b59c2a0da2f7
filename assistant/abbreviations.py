"""Abbreviations the documents define, read from their text, and a question glossed with them.

Councils' papers define their abbreviations once ("the Medium Term Financial Strategy (MTFS)")
and then use the short form; members ask either way ("when will the county agree its MTFS?",
"what did the Local Government Association team find?"). The small sentence model does not
know that "LGA" is the Local Government Association, and BM25 sees different words, so a
question and the sentence that answers it can share nothing. Each definition the corpus makes
is found at ingest (a long form whose words' initials spell the short form, in the way of
Schwartz and Hearst's algorithm), and the text a question is searched with gets the other form
beside the one it uses. Nothing here knows any abbreviation: a corpus that defines none glosses
nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# "Long Form Words (LFW)": the short form in brackets, 2–8 letters, at least two capitals
_SHORT_IN_BRACKETS = re.compile(r"\(\s*([A-Z][A-Za-z&]{1,7})\s*\)")
# "LFW (Long Form Words)"
_SHORT_BEFORE_BRACKETS = re.compile(r"\b([A-Z][A-Za-z&]{1,7})\s*\(\s*([A-Z][^()]{3,80}?)\s*\)")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
# words a short form skips: "Fire and Rescue Authority (FRA)", "Office for National Statistics"
_SKIPPED = frozenset({"and", "of", "for", "the", "in", "on", "to", "&", "a", "an", "at", "with"})
MAX_EXTRA_WORDS = 2  # function words a long form may hold beyond one word per letter


def _is_short_form(token: str) -> bool:
    capitals = sum(ch.isupper() for ch in token)
    return capitals >= 2 and capitals >= len(token) - 1 and token.upper() != token.lower()


def _spells(words: list[str], short: str) -> bool:
    """Whether the words' initials, function words skipped, spell ``short`` exactly (a plural
    short form, "KPIs", spells its singular)."""
    if not words or words[0].lower() in _SKIPPED:
        return False
    initials = "".join(w[0] for w in words if w.lower() not in _SKIPPED).lower()
    letters = "".join(ch for ch in short if ch.isalpha())
    return initials in {letters.lower(), letters[:-1].lower() if letters.endswith("s") else ""}


def _long_form_before(text: str, end: int, short: str) -> str:
    """The shortest run of words ending at ``end`` whose initials spell ``short``, or ""."""
    letters = sum(ch.isalpha() for ch in short) - short.endswith("s")
    words = [m.group(0) for m in _WORD.finditer(text[max(0, end - 200):end].replace("-", " "))]
    for n in range(letters, min(len(words), letters + MAX_EXTRA_WORDS) + 1):
        if _spells(words[-n:], short):
            return " ".join(words[-n:])
    return ""


def definitions(text: str) -> list[tuple[str, str]]:
    """The (short form, long form) pairs ``text`` defines, in order, each once.

    >>> definitions("the Medium-Term Financial Strategy (MTFS) and the LGA (Local Government "
    ...             "Association); a Fire and Rescue Authority (FRA) (see page 4)")
    ... # doctest: +NORMALIZE_WHITESPACE
    [('MTFS', 'Medium Term Financial Strategy'), ('LGA', 'Local Government Association'),
     ('FRA', 'Fire and Rescue Authority')]
    """
    found: dict[tuple[str, str], int] = {}
    for match in _SHORT_IN_BRACKETS.finditer(text):
        short = match.group(1)
        if _is_short_form(short):
            long = _long_form_before(text, match.start(), short)
            if long:
                found.setdefault((short, long), match.start())
    for match in _SHORT_BEFORE_BRACKETS.finditer(text):
        short, inside = match.group(1), match.group(2)
        words = [m.group(0) for m in _WORD.finditer(inside.replace("-", " "))]
        if _is_short_form(short) and _spells(words, short):
            found.setdefault((short, " ".join(words)), match.start())
    return sorted(found, key=found.get)


def glossary(pairs: Iterable[Iterable[str]]) -> dict[str, str]:
    """Short form → long form, from the definitions of every document. A short form defined
    with two different long forms ("CA": a combined authority, a county area) glosses nothing."""
    forms: dict[str, set[str]] = {}
    for short, long in pairs:
        forms.setdefault(short, set()).add(" ".join(long.lower().split()))
    return {short: next(iter(longs)) for short, longs in forms.items() if len(longs) == 1}


def gloss(text: str, terms: Mapping[str, str]) -> str:
    """``text`` with the other form of each abbreviation it uses beside it: "the LGA team" →
    "the LGA (local government association) team", "the medium term financial strategy" →
    "the medium term financial strategy (MTFS)". Unchanged when it uses none."""
    if not terms:
        return text
    out, added = text, set()
    tokens = set(re.findall(r"[\w&]+", text))  # a cheap test first: a corpus may define hundreds
    words = {t.lower() for t in tokens}
    for short, long in terms.items():
        if short in added or not (short in tokens or long.split()[0] in words):
            continue
        has_short = re.search(rf"(?<![\w-]){re.escape(short)}(?![\w-])", out)
        has_long = re.search(rf"(?<!\w){_phrase(long)}(?!\w)", out, re.IGNORECASE)
        if has_short and not has_long:
            out = f"{out[:has_short.end()]} ({long}){out[has_short.end():]}"
            added.add(short)
        elif has_long and not has_short:
            out = f"{out[:has_long.end()]} ({short}){out[has_long.end():]}"
            added.add(short)
    return out


def _phrase(long: str) -> str:
    """A long form as a pattern: words apart by spaces or hyphens."""
    return r"[\s-]+".join(map(re.escape, long.split()))
