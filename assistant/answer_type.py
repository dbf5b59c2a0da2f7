"""What kind of answer a question asks for, and whether a sentence gives one.

"When …?" wants a date or a time, "how many …?" a figure, "how much did … pay?" an amount of
money, "how long …?" a length of time, and "who is the chief executive of …?" a named person in
that post. The extractive answer prefers sentences that give the expected kind, and `ask`
abstains when none of the retrieved sentences gives it: a passage about the follow-up visit
that states no date does not answer "when did the peers come back?".

Pure functions of text; no model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Sequence

from assistant.councils import council_names_in
from assistant.dates import month_number
from assistant.domain import load_domain, plural_pattern
from assistant.lexical import stems


@dataclass(frozen=True)
class Expected:
    kind: str  # date | number | money | duration | post_holder | name | council | item
    label: str  # for messages: "a date", "the name of the leader", …
    post: str = ""  # post_holder only, lower case: "chief executive"
    counted: tuple[str, ...] = ()  # number only: stems of what is counted ("how many staff" → staff)
    # number and money: the stems naming the quantity asked for, all of which a sentence giving it
    # names ("the recycling rate" → recycl; "what council tax rise did …?" → tax, rise)
    quantity: tuple[str, ...] = ()
    # number and money, neither counted nor named by ``quantity``: the stems of what the figure is of ("how much
    # does the council hold in reserves?" → hold, reserv; ``measured_stems``); a figure in a
    # sentence naming none of them is of something else
    measured: tuple[str, ...] = ()
    # post_holder only: what the post is of when the question says ("who chairs the audit
    # committee?" → "the audit committee"); a sentence naming a chair of something else does
    # not answer it
    of: str = ""
    whole: bool = True  # False: the question asks more ("When …, and what did it focus on?")
    # date only: the years the date must fall in, both ends included, when the question bounds it
    # ("when … before 2021?" → (None, 2020)); a sentence whose years all fall outside gives none
    years: tuple[int | None, int | None] | None = None
    # name and post_holder only: people the answer is not, because the question is bounded by
    # them ("who led the council before Councillor Jo Bloggs?" is not answered by Jo Bloggs)
    besides: tuple[str, ...] = ()
    # name only: the words the question describes the person by ("the name of the finance officer"
    # → "finance"); a line giving a name must use them
    role: str = ""
    # number only: the question asks what share of something ("what percentage / proportion of
    # councillors were new?"): a percentage or a fraction answers it, a count ("eight
    # recommendations") does not
    share: bool = False
    # share only: the stems of what the share is of ("what percentage of staff …?" → staff); a
    # sentence naming none of them, nor a noun of their family or kind (``_counts``), gives the
    # share of something else ("76% of residents" is no share of staff)
    share_of: tuple[str, ...] = ()
    # date only: "month" or "year" when the question asks for one ("what month did the peers
    # visit?"): a sentence naming that unit answers it, "later this year" does not
    unit: str = ""
    # item only: the numbered item asked for, lower case ("recommendation 1"); a line naming it
    # ("Recommendation 1 - You need …", "R1") gives it
    item: str = ""
    # name only: the answer is a person, not a body ("who was on the review team?"): two
    # capitalised words the documents also write in lower case are a term, not a name
    person: bool = False
    # date only, unit "day": the month the question names ("on which dates in April 2025 …?"); a
    # day of another month ("11 March 2026") does not answer it
    month: str = ""
    # name only: the answer is an organisation ("which consultancy …?"): a word only a name can be
    # (``organisation_names``) answers it, two capitalised words need not
    organisation: bool = False
    # date only, unit "month": the year the question names ("in which month of 2022 …?"); a
    # month of another year ("September 5, 2023") does not answer it
    year: int | None = None

    def in_years(self, text: str) -> bool:
        """Does ``text`` name no year, or one within ``years``?

        >>> Expected("date", "a date", years=(None, 2020)).in_years("in October 2013 and July 2021")
        True
        >>> Expected("date", "a date", years=(None, 2020)).in_years("the July 2021 challenge")
        False
        """
        if not self.years:
            return True
        found = [int(y) for y in YEAR.findall(text)]
        if not found:
            return True
        low, high = self.years
        return any((low is None or y >= low) and (high is None or y <= high) for y in found)


YEAR = re.compile(r"\b(?:19|20)\d\d\b")
# "before 2021", "prior to the 2021 challenge", "after 2023", "since 2010": a bound on the years
# the answer may fall in, not a year the question is about
YEAR_BOUND = re.compile(r"\b(?P<word>before|prior to|earlier than|after|later than|since)\s+"
                        r"(?:the\s+|its\s+|their\s+|our\s+)?(?P<year>(?:19|20)\d\d)\b", re.I)
# a phrase opening the question before its question word: a bound ("Before 2024, when were peers
# last onsite?") or where to look ("In X's news release, who is quoted …?", "According to the
# progress review, when …?")
_LEADING_BOUND = re.compile(r"^\s*(?:before|prior to|after|since|in|at|on|for|from|during|within|"
                            r"according to)\s+[^,?]{1,60},\s*(?=(?:who|whom|whose|when|how|what|which|"
                            r"where|by when|since when)\b)"
                            # "Exactly how many …?", "And when did …?" ("Roughly how many …?" stays
                            # untyped: an approximate figure may count what was asked in other words)
                            r"|^\s*(?:exactly|precisely|so|and|but|also|then|ok|okay|please|remind me)[,\s]+"
                            r"(?=(?:who|whom|whose|when|how|what|which|where)\b)",
                            re.I)


def year_bounds(question: str) -> tuple[int | None, int | None] | None:
    """The years (inclusive) a bounded question's answer may fall in, or None.

    >>> year_bounds("When was the earlier review, before the 2021 one?")
    (None, 2020)
    >>> year_bounds("When did the team go back after 2023?"), year_bounds("What was saved since 2010?")
    ((2024, None), (2010, None))
    """
    low = high = None
    for m in YEAR_BOUND.finditer(question):
        year, word = int(m.group("year")), m.group("word").lower()
        if word in ("before", "prior to", "earlier than"):
            high = year - 1 if high is None else min(high, year - 1)
        else:
            bound = year if word == "since" else year + 1
            low = bound if low is None else max(low, bound)
    return None if low is None and high is None else (low, high)


_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
                 r"thirty|forty|fifty|hundred|thousand|million|billion|half|dozen|several|a few")
_MONTHS = (r"january|february|march|april|may|june|july|august|september|october|november|december|"
           r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
# a month names a date when written as a name ("May", "MAY"): "the council may decide" does not
_MONTH_NAMES = "(?-i:" + "|".join(f"{m.capitalize()}|{m.upper()}" for m in _MONTHS.split("|")) + ")"
_UNITS = r"days?|weeks?|months?|years?|hours?|decades?"

_GIVES = {
    "number": re.compile(rf"\d|%|\b(?:{_NUMBER_WORDS})\b", re.I),
    "money": re.compile(r"£\s?\d|\d\s?(?:m|bn|k)\b|\b(?:million|billion|thousand) pounds\b|\bpounds\b|"
                        r"\b\d[\d,.]*\s?(?:million|billion)\b", re.I),
    "date": re.compile(rf"\b(?:19|20)\d\d\b|\b{_MONTH_NAMES}\b|\b\d{{1,2}}(?:st|nd|rd|th)\b|"
                       rf"\b(?:spring|summer|autumn|winter)\b|\b(?:next|last|this|previous|following) "
                       rf"(?:year|month|week|financial year)\b|\b(?:with)?in (?:the )?(?:next )?\S+ (?:{_UNITS})\b|"
                       rf"\b(?:{_UNITS}) (?:ago|later|after)\b", re.I),
    # a share of a whole: "69 per cent", "15%", "half", "two thirds", "12 of the 20 actions"
    "share": re.compile(r"\d\s?%|\bper\s?cent\b|\bpercent\b|\b(?:half|halves|thirds?|quarters?|fifths?|"
                        r"tenths?|majority|minority)\b|\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|"
                        r"eleven|twelve)\s+(?:out\s+)?of\s+(?:the\s+|its\s+|their\s+)?(?:\d+|two|three|four|"
                        r"five|six|seven|eight|nine|ten|eleven|twelve|twenty)\b", re.I),
    "duration": re.compile(rf"\b(?:\d[\d.,]*|{_NUMBER_WORDS}|a|an)[ -](?:{_UNITS})\b|"
                           rf"\b(?:{_UNITS}) long\b", re.I),
}

# a month (by name, or in a date written in figures: "23/07/2024") and a year
_A_MONTH = rf"\b{_MONTH_NAMES}\b|\b\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}}\b"  # "May", "04/04/2025"
_UNIT_GIVEN = {
    "month": re.compile(_A_MONTH, re.I),
    "year": YEAR,
    # a day, month or year of the calendar: "which dates …?" is not answered by "earlier this
    # year", "next month" or "in the summer"
    "date": re.compile(rf"{YEAR.pattern}|{_A_MONTH}", re.I),
    # a day of a month: "4 April", "4th-7th April", "April 4", "04/04/2025" ("April 2025" is none)
    "day": re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?(?:\s*(?:-|–|—|to|and|,)\s*\d{{1,2}}(?:st|nd|rd|th)?)*\s+"
                      rf"{_MONTH_NAMES}\b|\b{_MONTH_NAMES}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?!\d)|"
                      r"\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b"),
}

_NOT_COUNTS = re.compile(r"^[\s•*-]*\d+(?:\.\d+)*\.?\s|\b(?:19|20)\d\d(?:/\d\d)?\b|"
                         # "one of the measures", "a one-off", "no one": no count
                         r"\bone\s+(?:of|another)\b|\bone-off\b|\bno\s+one\b|"
                         rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\b", re.I)
_POSTS = "|".join(load_domain().posts)
# "who is the leader of X?", "what is the name of X's leader?": the post's holder
_POST_QUESTION = re.compile(rf"^\s*(?:who\s+(?:is|was|are|were)|(?:what|which)(?:['’]?s|\s+is|\s+was|\s+are|\s+were)?"
                            rf"\s+(?:the\s+)?names?\s+of)\b(?P<rest>.{{0,60}}?)\b(?P<post>{_POSTS})\b"
                            rf"(?P<peer>\s+peer)?", re.I)
# "who chairs the audit committee?": a post used as a verb asks for its holder like "who is the chair"
_POST_VERB = re.compile(rf"^\s*who\s+(?:(?P<post>{_POSTS})(?:s|ed)|(?:will|would|is\s+to|was\s+to|is\s+going\s+to)\s+"
                        rf"(?P<future>{_POSTS}))\b", re.I)  # "who chairs / will chair the panel?"
# "who replaced Jo Bloggs as chief executive?": the post's holder after her
_SUCCEEDED_AS = re.compile(rf"^\s*who\s+(?:replaced|succeeded|followed|took\s+over\s+from)\s+[^?]{{1,60}}?\s+as\s+"
                           rf"(?:the\s+|its\s+|their\s+)?(?P<post>{_POSTS})\b", re.I)
# "who leads X?": a verb that asks for a post's holder (post_question_verbs in domain.yaml)
_POST_OF_VERB = {verb: post for post, verbs in load_domain().post_question_verbs for verb in verbs}
# …when what follows names a council ("who leads the savings action?" asks for a lead officer)
# words of councils' names ("council", "borough", "dc")
_COUNCIL_FORM_WORDS = frozenset(w for k in load_domain().council_kinds for f in k.forms
                                for w in f.replace("{place}", " ").lower().split())
_COUNCIL_WORDS = "|".join(sorted(w for w in _COUNCIL_FORM_WORDS if len(w) > 3))
_VERB_POST = re.compile(rf"^\s*who\s+(?P<post>{'|'.join(map(re.escape, _POST_OF_VERB)) or '(?!)'})\b"
                        rf"(?=\s+(?:the\s+)?(?:[\w'’-]+\s+){{0,5}}?(?:{_COUNCIL_WORDS})\b)", re.I)
# what a post is of: "who chairs | the audit committee?", "who is the chair | of the audit committee?"
_POST_OF = re.compile(r"\s*(?:of|at|for|on)?\s*(?!(?:now|when|during|before|after|since|today|currently|"
                      r"who|whom|whose|which|that)\b)"
                      # "of" goes on into a name ("the Vale of Glamorgan's panel")
                      r"(?P<of>[^?,;\s][^?,;]{2,79}?)\s*(?:[?,;]|$|\b(?:and|now|in|at|of(?!\s+(?-i:[A-Z]))|on|"
                      r"when|during|before|after|since|today|currently|who|whom|whose|which|that)\b)", re.I)
# "county council leader in 2022?": a search-box question that is only a post and a time
_TERSE_POST = re.compile(rf"^\s*(?!(?:what|how|why|did|does|do|is|was|has|have|which|where)\b)"
                         rf"(?!.*\b(?:and|between|with|versus|vs)\b)"
                         rf"(?:the\s+)?(?:[\w']+\s+){{0,3}}?(?P<post>{_POSTS})"
                         rf"(?:\s+(?:in|of)\s+[\w' ]{{1,40}})?\s*\??\s*$", re.I)
_MONEY_CUES = re.compile(r"\b(?:money|pay|paid|cost|costs|spend|spent|budget(?:s|ed)?|sav(?:e|ed|ing|ings)|fund(?:s|ing|ed)?|"
                         r"invest(?:ed|ment)?|grants?|income|revenues?|profits?|earn(?:s|ed|t|ings)?|(?:make|makes|made)\s+from|overspend|underspend|surplus|shortfall|deficit|gap|lost|lose|charge[ds]?|fee)\b",
                         re.I)

# "Which council does the lead peer work for?", "What authority did the treasurer come from?":
# the answer is a council (or another public body) by name
_BODIES = (r"councils?|authority|authorities|organisations?|bodies|body|boroughs?|"
           r"fire (?:service|authority)")
_COUNCIL_QUESTION = re.compile(
    rf"^\s*(?:from\s+)?(?:which|what)\s+(?:{_BODIES})\b.{{0,80}}?\b(?:come|comes|came|is|was|"
    rf"are|were|work|works|worked|based|serve|serves|served)\s+(?:from|for|at)\b", re.I)
# "Where is the chief executive peer from?": a person's council; not "where does the income come
# from?" (a post or a peer must be asked about)
_WHERE_FROM = re.compile(rf"^\s*where\s+(?:is|was|are|were|does|did|do)\b.{{0,60}}?"
                         rf"\b(?:{_POSTS}|peers?)\b.{{0,60}}?\b(?:from|work|works|based)\b", re.I)

# Peers' councils named by their places alone: "officers and councillors from Brent, Cornwall,
# Greenwich and Warwickshire" (two or more capitalised places after "from" a line about people)
_PLACE = r"(?-i:[A-Z][\w'’-]+)(?:\s+(?:and\s+)?(?-i:[A-Z][\w'’-]+)){0,3}"
_PEERS_FROM_PLACES = re.compile(
    rf"\b(?:peers?|officers?|councillors?|members?|team|chief executives?|leaders?)\b[^.;:]{{0,80}}?\bfrom\s+"
    rf"{_PLACE}(?:\s*,\s*{_PLACE})*\s*,?\s+and\s+{_PLACE}", re.I)
# "What was recommendation 1?", "what does action 4.2 say?": one numbered item of a list
_NUMBERED_ITEM = re.compile(r"\b(?P<noun>recommendation|action|rec)\s*(?:no\.?\s*|number\s*)?"
                            r"(?P<number>\d{1,2}(?:\.\d{1,2})?)\b(?![.\d])", re.I)
# one recommendation by its place: "the fifth recommendation", "the fifth of its six key recommendations"
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
             "eleventh", "twelfth")
ORDINAL_ITEM = re.compile(
    rf"\b(?P<ordinal>{'|'.join(_ORDINALS)}|\d{{1,2}}(?:st|nd|rd|th))\s+"
    r"(?:(?:key|main|peer|peers['’]?|lga)\s+)?recommendation\b"
    rf"|\bthe\s+(?P<of>{'|'.join(_ORDINALS)}|\d{{1,2}}(?:st|nd|rd|th))\s+of\s+(?:[\w'’]+\s+){{0,4}}?recommendations\b",
    re.I)
# "which councillor …?", "which chief executive …?": a person by name; not "which peer team …?"
# (a body)
_WHICH_PERSON = re.compile(rf"(?:which|what)\s+(?:{'|'.join([*load_domain().person_nouns, *load_domain().posts]) or '(?!)'})s?\b"
                           r"(?!\s+(?:teams?|councils?|authorit(?:y|ies)|bod(?:y|ies)|organisations?|reviews?|"
                           r"challenges?)\b)")
# "which consultancy …?", "what IT supplier …?": an organisation by name
_WHICH_ORGANISATION = re.compile(
    r"\s*(?:(?:from|by|with|for|to|at)\s+)?(?:which|what)\s+(?:[\w'’-]+\s+){0,2}?(?P<noun>"
    + ("|".join(map(plural_pattern, load_domain().organisation_nouns)) or "(?!)") + r")\b", re.I)
# "who was the lead officer peer …?": the name must come with the words of its role
_WHO_PEER = re.compile(r"\s*who\s+(?:was|is|were|are)\s+(?:the\s+|their\s+|its\s+)?"
                       r"(?P<role>(?:(?!(?:the|their|its)\b)[\w-]+\s+){1,3}?)peers?\b", re.I)
# "who led the peer team?", "who headed the review?": the name must come with its leading
_LEADING = ("led", "leads", "headed", "heads", "leading", "heading")
# …and "who (from the LGA) managed the review?": the name must come with its managing
_WHO_LED = re.compile(rf"\s*who\s+(?:from\s+(?:the\s+)?[\w'’-]+\s+)?(?:was\s+)?"
                      rf"(?P<verb>{'|'.join(_LEADING)}|managed|manages|managing)\s+"
                      r"(?:the\s+|their\s+|its\s+)?(?:[\w'’-]+\s+){0,3}?(?:team|review|challenge|visit)\b",
                      re.I)
# "who made up the peer team?" asks what it was made of: "three senior fire officers and a
# councillor" answers it as well as their names
_WHO_COMPOSED = re.compile(r"\s*who\s+(?:made|makes|make)\s+up\b|\s*who\s+(?:comprised|formed)\b")
# "who was on the external review team?", "who sat on the panel?": its members, people
_WHO_ON_TEAM = re.compile(r"\s*who\s+(?:was|were|is|are|sat|sits|served|serves)\s+(?:(?:on|in)|(?:the\s+)?members\s+of)\s+"
                          r"(?:the\s+|its\s+|their\s+)?(?:[\w'’-]+\s+){0,4}?(?:team|panel)\b", re.I)
# "what is the name of the finance officer on the team?": a person by name
_NAME_OF_PERSON = re.compile(rf"(?:what|which)(?:['’]s|\s+is|\s+was|\s+were|\s+are)?\s+(?:the\s+)?names?\s+of\s+"
                             rf"(?:the\s+|their\s+|its\s+)?(?P<role>(?:[\w'’-]+\s+){{0,3}}?)"
                             rf"(?P<noun>{'|'.join(load_domain().person_nouns) or '(?!)'})s?\b")
# Capitalised words that are not people's names (posts, organisations, sentence openers); the
# caller adds the corpus's council and place names ("Great Yarmouth" is not a person).
_NOT_NAMES = load_domain().not_names | load_domain().document_words  # "Feedback Report" is no one
ENDS_SENTENCE = re.compile(r"[.!?][\"'’”)\]]*\s*$")  # not a heading, a label or a table row
# honorifics, and a rank written before a name as one ("Chief Fire Officer Paul Fuller")
_TITLES = r"\b(?:Cllr|Councillor|Mr|Mrs|Ms|Dr|Sir|Dame|(?:(?:Deputy|Assistant)\s+)?Chief\s+Fire\s+Officer)\.?\s+"
_TITLE_NAME = re.compile(_TITLES + r"[A-Z][\w'’-]+")
_POST_TITLE = re.compile(r"\bHeads?\s+of\s+(?=[A-Z])|\b[Mm]anaging\s+[Dd]irector")
_CAPITALISED_PAIR = re.compile(r"\b([A-Z][a-z]+)\s+((?:O['’]|Mc|Mac)?[A-Z][a-z'’-]+)\b")


# "what is the household recycling rate in X?": a rate is a figure
_ASKS_A_RATE = re.compile(r"what(?:['’]s|\s+is|\s+was|\s+are|\s+were)\s+(?:the|its|their|our|your)\s+"
                          r"(?:[\w'’-]+\s+){0,3}?(?P<what>[\w'’-]+\s+)?rates?\b")

# the auxiliaries a question puts before its subject ("what surplus did …", "when did Oakbury …")
AUXILIARY_WORDS = "did|does|do|has|have|had|was|were|is|are|will|would|could|should|can"
_AUXILIARY = rf"(?:{AUXILIARY_WORDS})\b"
# "what council tax rise did X set?", "what surplus did it make?": a noun that only ever names a
# quantity, asked for with "what" and answered by a figure ("what cuts / savings did it make?"
# may ask what they were); "what net zero date has X set?" asks for a date
_WHAT_QUANTITY = re.compile(r"what\s+(?P<quantity>(?:[\w'’/-]+\s+){0,3}?(?:rise|increase|surplus|deficit|"
                            r"overspend|underspend|gap|shortfall|total|amount|sum|figure|percentage|proportion|"
                            r"share|rate|number))\s+" + _AUXILIARY)
# "what will the plans cost (the council)?": cost is the verb ("what did peers say about cost?"
# asks what they said)
_WHAT_COSTS = re.compile(r"what\s+(?:will|would|did|does|do|could|might|is\s+it\s+going\s+to)\s+"
                         r"(?:(?!(?:about|regarding|say|said|think|thought|find|found|recommend|suggest|"
                         r"tell|told|conclude|mean|include)\b)[^?\s]+\s+){1,12}?"
                         r"cost\b(?:\s+[\w'’]+){0,4}\s*\??\s*$")
# "what percentage of staff …?", "what share of the actions …?", "what proportion …": a share
_WHAT_SHARE = re.compile(r"what\s+(?P<quantity>(?:[\w'’/-]+\s+){0,2}?)(?:percentage|proportion|share|fraction)\b"
                         r"(?!\s+(?:prices?|capital|holders?|option)\b)"
                         # of what: "of the council's staff" up to a verb or preposition
                         r"(?:\s+of\s+(?:the\s+|its\s+|their\s+|all\s+)?"
                         r"(?P<of>(?:[\w'’-]+\s+){0,4}?[\w'’-]+?)\s+(?:" + AUXILIARY_WORDS +
                         r"|in|on|at|from|for|who|that|which|with|by|to)\b)?")
# "what net zero date has X set?", and "what were the dates of the peer challenge?"
_WHAT_DATE = re.compile(r"what\s+(?:(?:[\w'’/-]+\s+){1,3}?(?:date|deadline)\s+" + _AUXILIARY +
                        r"|(?:is|was|are|were)\s+the\s+(?:[\w'’/-]+\s+){0,2}?(?:dates?|deadlines?)\b)")

# A second question after the first: "…, and what did it focus on?", "… - is it …?"
_SECOND_QUESTION = re.compile(
    r"(?:[,;–—?]|\s-|\band\b|\bor\b)\s+(?:and\s+|but\s+)?(?:what|how|why|where|which|who|when|whose|"
    r"is|was|are|were|did|does|do|has|have|had|can|could|should|would|will)\b", re.I)


def expected_answer(question: str) -> Expected | None:
    """The kind of answer ``question`` asks for (``expected_kind``), marked not ``whole`` when
    the question goes on to ask something else: then a passage without that kind may still
    answer it.

    >>> expected_answer("When was the follow-up visit, and what did it focus on?").whole
    False
    >>> expected_answer("In Northby's news release, who is quoted first?").kind
    'name'
    >>> found = expected_answer("Was the progress review held on site, and when did it happen?")
    >>> found.kind, found.whole
    ('date', False)
    """
    asked = _LEADING_BOUND.sub("", question)
    found = expected_kind(asked)
    second = _SECOND_QUESTION.search(asked)
    if not found and second:  # "Was it held on site, and when did it happen?": the second asks a date
        found = expected_kind(re.sub(r"^\W*(?:(?:and|or|but)\s+)*", "", asked[second.start():]))
    if found and found.kind in ("name", "post_holder") and (people := bounding_people(question)):
        found = replace(found, besides=people)
    if found and found.kind == "date" and (bounds := year_bounds(question)):
        low, high = bounds
        span = " and ".join(([f"from {low}"] if low else []) + ([f"before {high + 1}"] if high else []))
        found = replace(found, years=bounds, label=f"a date {span}")
    return replace(found, whole=False) if found and second else found


def expected_kind(question: str) -> Expected | None:
    """The kind of answer ``question`` asks for, or None when any statement may answer it.

    >>> expected_answer("When did the peers visit?").kind
    'date'
    >>> expected_answer("Who is the county council's chief executive now?").post
    'chief executive'
    >>> expected_answer("Who chairs the audit committee?").post
    'chair'
    >>> expected_answer("What did the peers say about culture?") is None
    True
    """
    q = question.strip().lower()
    if led := _WHO_LED.match(q):  # "who led the peer team?": a name given with leading ("led by …"),
        return Expected("name", "a name", role=led.group("verb"))  # not the council's leader
    post = (_POST_QUESTION.match(question.strip()) or _POST_VERB.match(question)
            or _TERSE_POST.match(question) or _VERB_POST.match(question) or _SUCCEEDED_AS.match(question))
    if post:
        asked = (post.group("post") or post.group("future")).lower()
        name = _POST_OF_VERB.get(asked, asked) + (" peer" if post.groupdict().get("peer") else "")
        of = _POST_OF.match(question, post.end())
        return Expected("post_holder", f"the name of the {name}", name, of=of.group("of") if of else "")
    if _COUNCIL_QUESTION.match(question) or _WHERE_FROM.match(question):
        return Expected("council", "the name of a council")
    if peer := _WHO_PEER.match(q):  # "who was the lead officer peer?": a name given with its role
        return Expected("name", "a name", role=" ".join(peer.group("role").split()))
    if _WHO_COMPOSED.match(q):  # "who made up the team?": its make-up, by name or by post
        return None
    if _WHO_ON_TEAM.match(q):  # a team's members are people, not "the Equality Framework"
        return Expected("name", "a name", person=True)
    if asked := _WHICH_ORGANISATION.match(q):  # "which consultancy …?": an organisation's name
        return Expected("name", f"the name of a {asked.group('noun').lower()}", organisation=True)
    if re.match(r"who(?:m|se)?\b", q) or _WHICH_PERSON.match(q):  # "who managed the review?": a person or
        return Expected("name", "a name")  # a body, by name; "which officer leads …?"
    if named := _NAME_OF_PERSON.match(q):  # "the name of the finance officer": a name given with "finance"
        role = " ".join(named.group("role").split())
        return Expected("name", f"the name of the {role} {named.group('noun')}" if role else "a name", role=role)
    if asked := re.match(r"(?:when|by when|since when|from when|until when|"
                         r"(?:(?:on|in|from|by) )?(?:which|what) (?P<unit>dates?|days?|months?|years?))\b", q):
        unit = (asked.group("unit") or "").rstrip("s")
        if unit in ("month", "year"):  # "what month …?": a month answers it, "later this year" does not
            of = re.search(r"\bmonths?\s+(?:of|in)\s+((?:19|20)\d\d)\b", q) if unit == "month" else None
            return Expected("date", f"a {unit}" + (f" of {of.group(1)}" if of else ""), unit=unit,
                            year=int(of.group(1)) if of else None)  # "which month of 2022 …?": of that year
        # "on which dates in April …?": its days; not "… before the October 2023 one?", where the
        # month dates another event the date asked is set against
        month = re.search(rf"\b{_MONTH_NAMES}\b", question)
        if month and not re.search(r"\b(?:before|after|since|until|following|prior to)\s+(?:the\s+|its\s+)?$",
                                   question[:month.start()]):
            return Expected("date", f"the day in {month.group(0).capitalize()}", unit="day",
                            month=month.group(0).lower())
        # "which dates / what day …?": a date of the calendar; "when …?" may be told "this year"
        return Expected("date", "a date", unit="date" if unit in ("date", "day") else "")
    if re.match(r"how long\b", q) or re.match(r"how much time\b", q):
        return Expected("duration", "a length of time")
    # "how big a budget gap …?", "how high is the recycling rate?": a size, so a figure ("how
    # far has it got …?" asks about progress, not a size)
    if re.match(r"(?:by\s+)?how much\b|how (?:big|large|high|small|low)\s+(?:an?|is|are|was|were|will)\b", q):
        if _MONEY_CUES.search(q):
            return Expected("money", "an amount of money")
        return Expected("number", "a figure")
    many = re.match(r"how many\s+((?:[\w'-]+,?\s+){0,5}?[\w'-]+?)\s+(?:did|does|do|were|was|are|is|has|have|had|"
                    r"will|would|should|can|could|in|on|at|from|for|sit|work)\b", q)
    if many:
        return Expected("number", "a figure", counted=counted_nouns(many.group(1)))
    if rate := _ASKS_A_RATE.match(q):  # "the recycling rate": a figure given with "recycling"
        return Expected("number", "a figure", quantity=tuple(stems(rate.group("what") or "")))
    if share := _WHAT_SHARE.match(q):  # "what percentage of …": a share, not any figure
        return Expected("number", "a share", share=True, quantity=tuple(stems(share.group("quantity") or "")),
                        share_of=tuple(w for w in counted_nouns(re.sub(r"['’]s\b", "", share.group("of") or ""))
                                       if w not in NOT_BODY))
    if re.match(r"(?:how many|what number of)\b", q):
        return Expected("number", "a figure")
    if asked := _WHAT_QUANTITY.match(q):
        quantity = tuple(w for w in stems(asked.group("quantity")) if w not in _FIGURE_FRAME)
        return Expected(*(("money", "an amount of money") if _MONEY_CUES.search(q) else ("number", "a figure")),
                        quantity=quantity)
    if _WHAT_DATE.match(q):
        return Expected("date", "a date", unit="date")
    if _WHAT_COSTS.match(q):  # "what will the decentralisation plans cost?": an amount
        return Expected("money", "an amount of money")
    if item := _NUMBERED_ITEM.search(question):  # "what was recommendation 1?": the item of that number
        return Expected("item", f"{item.group('noun').lower()} {item.group('number')}",
                        item=f"{item.group('noun').lower()} {item.group('number')}")
    if place := ORDINAL_ITEM.search(question):  # "the fifth recommendation": recommendation 5
        ordinal = (place.group("ordinal") or place.group("of")).lower()
        number = _ORDINALS.index(ordinal) + 1 if ordinal in _ORDINALS else int(ordinal[:-2])
        return Expected("item", f"recommendation {number}", item=f"recommendation {number}")
    return None


@lru_cache(maxsize=1)
def _post_described() -> re.Pattern[str]:
    """A person named by their post alone, "a serving Chief Executive", "an elected mayor", or
    by their post at a body named, "led by the shared Chief Executive of Bromsgrove and Redditch
    Councils" (not a plan's "… community Leader of the Council" row): the answer a document
    gives to "who led the team?" when it names nobody.

    >>> bool(_post_described().search("The team was led by the shared Chief Executive of Farby Council."))
    True
    >>> bool(_post_described().search("The team was led by the Chief Executive."))  # whose?
    False
    >>> bool(_post_described().search("Share it with the wider community Leader of the Council"))
    False
    """
    posts = "|".join(sorted(load_domain().posts, key=len, reverse=True))
    return re.compile(rf"\b(?:a|an)\s+(?:[\w-]+\s+){{0,2}}?(?:{posts})\b"
                      rf"|\bby\s+the\s+(?:[\w-]+\s+){{0,2}}?(?:{posts})\s+(?:of|at)\s+(?:the\s+)?(?-i:[A-Z])", re.I)


def heading_names_item(section: Sequence[str], expected: Expected | None) -> bool:
    """Is a passage's own heading (the last of its ``section`` path) the label of the numbered
    item asked for ("Recommendation 1", "Recommendation 1: Finances")? The text under it is that
    item, though no sentence of it names the number."""
    return bool(expected and expected.kind == "item" and section
                and _item_pattern(expected.item).match(section[-1].strip(" #*")))


@lru_cache(maxsize=64)
def _item_pattern(item: str) -> re.Pattern[str]:
    """A line naming ``item`` ("recommendation 1"): "Recommendation 1 -", "Recommendation no. 1",
    "R1"; not "recommendation 10" or "1.2"."""
    noun, number = item.rsplit(" ", 1)
    return re.compile(rf"\b{noun}s?\s*(?:no\.?\s*|number\s*)?{re.escape(number)}(?![.\d])|"
                      rf"\b(?-i:{noun[0].upper()}){re.escape(number)}\b(?![.\d])", re.I)


def counted_nouns(phrase: str) -> tuple[str, ...]:
    """The stems of what a "how many …?" counts: of each thing it names, the plural noun ending
    it ("fire stations" counts stations, not fire: "three senior fire officers" is no answer),
    else every word of it ("councillors sat", "years ahead").

    >>> counted_nouns("fire stations"), counted_nouns("councillors sat"), counted_nouns("staff")
    (('station',), ('councillor', 'sat'), ('staff',))
    >>> counted_nouns("fire stations and firefighters")
    ('station', 'firefight')
    """
    found: list[str] = []
    for part in re.split(r"\s+(?:and|or|&)\s+|,\s*", phrase):
        words = part.split()
        last = words[-1].lower() if words else ""
        plural = len(words) > 1 and len(last) > 3 and last.endswith("s") and not last.endswith("ss")
        found += stems(last if plural else part)
    return tuple(dict.fromkeys(found))


def person_names(text: str, not_names: frozenset[str] = frozenset(), besides: Sequence[str] = (),
                 common: frozenset[str] = frozenset()) -> list[str]:
    """People's names in ``text`` ("Councillor Jo Bloggs", "Daniel Ferrers"): a title and a
    name, or two capitalised words neither of which is in ``not_names`` (council and place
    words), the domain's words that are never names or a word naming a kind of document;
    none sharing a word with a name in ``besides``.

    >>> person_names("Councillor Jo Bloggs thanked Ann Lee.", besides=["Jo Bloggs"])
    ['Ann Lee']
    >>> person_names("Read the Feedback Report and our Action Plan.")  # documents, not people
    []
    >>> person_names("The High Needs deficit, said Mark Lloyd.", common=frozenset({"high", "needs", "mark"}))
    ['Mark Lloyd']
    """
    found = [m.group(0) for m in _TITLE_NAME.finditer(text)]
    for m in _CAPITALISED_PAIR.finditer(text):
        first, second = m.group(1).lower(), m.group(2).lower()
        # "High Needs", "Schools Grant": words the documents also write in lower case within a
        # sentence (``common``) make a term, not a person; one such word is a name's ("Mark Lloyd")
        if not ({first, second} & (_NOT_NAMES | not_names)) and not {first, second} <= common:
            found.append(m.group(0))
    if besides:
        left_out = {w.lower() for name in besides for w in name.split()}
        found = [n for n in found if not {w.lower() for w in _TITLE.sub("", n).split()} & left_out]
    return found


# An organisation named as the one doing or giving something: after "from", "by", "with" or a
# verb of engaging ("a senior manager from BT", "commissioned Farby Consulting"), not a plan's or
# a programme's capitalised title at a sentence's start ("The Spaces and Movement Document …")
_INTRODUCED = re.compile(r"\b(?:from|by|with|via|through|appointed|commissioned|engaged|hired|procured|"
                         r"contracted|selected|chose|chosen)\s+(?:the\s+|a\s+|an\s+)?"
                         r"((?:[A-Z][\w&'’-]*)(?:\s+(?:[A-Z][\w&'’-]*|&))*)")


def organisation_names(text: str, not_names: frozenset[str] = frozenset(),
                       common: frozenset[str] = frozenset()) -> list[str]:
    """The organisations ``text`` names as doing or giving something (``_INTRODUCED``): names
    with a word that is neither one the domain never takes for a name, a word of councils' names
    nor one of ``not_names`` (the corpus's council and place words); a name of one word, not one
    the documents also write in lower case (``common``).

    >>> organisation_names("The team included a senior manager from BT and an adviser from the LGA.")
    ['BT']
    >>> organisation_names("Agree with Farby DC whether to share more services.", frozenset({"farby"}))
    []
    >>> organisation_names("Advice came from Finance and then from Local Partnerships.", common=frozenset({"finance", "partnerships"}))
    ['Local Partnerships']
    """
    found = []
    for m in _INTRODUCED.finditer(text):
        words = [re.sub(r"['’]s?$", "", w).lower() for w in m.group(1).split()]
        # one word the documents also write in lower case is a term ("from Finance"); a run
        # of capitalised words is a name whatever its words ("support from Local Partnerships")
        lower = common if len(words) == 1 else frozenset()
        if any(w and w.isalpha() and w not in _NOT_NAMES and w not in _COUNCIL_FORM_WORDS and w not in not_names
               and w not in lower for w in words):
            found.append(m.group(1))
    return found


_NAME_WORD = r"[A-Z][\w'’-]+"
_TITLED = re.compile(_TITLES + rf"({_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}})")
_NAME_PAIR = re.compile(rf"(?=\b({_NAME_WORD})[ \t]+({_NAME_WORD}))")  # overlapping: "Jo Ann Bloggs"

# "who led the council before Councillor Jo Bloggs?": the people a who-question is bounded by
_PERSON_BOUND = re.compile(rf"\b(?:before|after|succeeded|replaced|preceded|followed)\s+(?:by\s+)?"
                           rf"(?P<who>(?:{_TITLES})?{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}})")
_TITLE = re.compile(rf"^{_TITLES}")


def bounding_people(question: str) -> tuple[str, ...]:
    """The people after "before", "after", "replaced" … in ``question``, without their titles.

    >>> bounding_people("Who led Northby before Councillor Jo Bloggs took over?")
    ('Jo Bloggs',)
    >>> bounding_people("Who chaired the board before Northby Council took it over?")
    ()
    """
    return tuple(_TITLE.sub("", m.group("who")) for m in _PERSON_BOUND.finditer(question)
                 if person_names(m.group("who")))


def without_title(name: str) -> str:
    """``name`` without the honorific or rank before it ("Councillor Jo Bloggs" → "Jo Bloggs")."""
    return _TITLE.sub("", name).strip()


def titled_names(text: str) -> list[str]:
    """The names after a title ("Councillor Jo Bloggs" → "Jo Bloggs"), up to three words.

    >>> titled_names("What did Councillor Jo Bloggs and Dr Ann Lee say? Did Cllr Shah agree?")
    ['Jo Bloggs', 'Ann Lee', 'Shah']
    """
    return [m.group(1) for m in _TITLED.finditer(text)]


def name_pairs(text: str) -> set[str]:
    """Lower-case pairs of neighbouring words written as ``titled_names`` reads a name's words:
    the form a titled name of two or more words is looked up in.

    >>> sorted(name_pairs("Councillor Jo Ann Bloggs met the Chief Executive."))
    ['ann bloggs', 'chief executive', 'councillor jo', 'jo ann']
    """
    return {f"{a} {b}".lower() for a, b in _NAME_PAIR.findall(text)}


def _post_is_elsewhere(after: str, councils: Sequence[str]) -> bool:
    """Does the text right after a post name another body ("Leader, Northby Vale"), not the
    post's holder by title ("The Leader, Councillor Jo Bloggs, …")? A name without a title
    cannot be told from a place here ("Leader, Northby Vale" in a peer list).

    >>> _post_is_elsewhere(", Northby Vale", ["ashworth city council"])
    True
    >>> _post_is_elsewhere(", Councillor Jo Bloggs, and …", ["ashworth city council"])
    False
    """
    m = re.match(r"\s*(?:,|–|-|of|at|for)\s+(?:the\s+)?([A-Z][\w'’]+(?:\s+[A-Z][\w'’]+)*)", after)
    if not m or _TITLE_NAME.match(m.group(1)):
        return False
    body = m.group(1).lower()
    if body in {"council", "authority", "county council", "city council"}:
        return False
    return not any(body in c or c in body or body.split()[0] in c for c in councils)


@lru_cache(maxsize=64)
def _post_pattern(post: str) -> re.Pattern[str]:
    """The post's noun or a phrase naming its holder ("led by"), compiled once per post."""
    forms = "|".join(re.escape(f) for f in load_domain().post_forms(post))
    return re.compile(rf"\b(?:{forms})\b", re.I)


_NOUN_OF = re.compile(r"\b([a-z]+)\s+of\s+(?:about|around|approximately|some|over|nearly|almost|"
                      r"more\s+than|fewer\s+than|less\s+than|roughly|just\s+over|just\s+under)?\s*$", re.I)


def _counts(words: Sequence[str], counted: Sequence[str]) -> bool:
    """Do the words after a figure name what is counted? Stems of one word count too
    ("employees" → employe, "employs" → employ), when the shorter is at least five letters,
    and so do the nouns of one family in ``domain.yaml`` (``count_families``: "two elected
    members" counts councillors).

    >>> _counts(["employ"], ["employe"]), _counts(["council"], ["councillor"])
    (True, False)
    >>> _counts(["elect", "member"], ["councillor"])
    True
    """
    asked = _counted_stems(tuple(counted))
    return any(w == c or (min(len(w), len(c)) >= 5 and (w.startswith(c) or c.startswith(w))
                          and abs(len(w) - len(c)) <= 2) for w in words for c in asked)


@lru_cache(maxsize=256)
def _counted_stems(counted: tuple[str, ...]) -> frozenset[str]:
    """The counted stems, their families' and, for a general noun, its kinds' (read once per
    question, not per figure)."""
    domain = load_domain()
    return frozenset({*counted, *stems(" ".join([*domain.count_family(counted), *domain.counted_kinds(counted)]))})


def gives(sentences: Sequence[str], index: int, expected: Expected, councils: Sequence[str] = (),
          not_names: frozenset[str] = frozenset(), common: frozenset[str] = frozenset()) -> bool:
    """Does sentence ``index`` of a passage give the expected kind of answer?

    For a post holder the post must be named in the sentence with a person's name in it or in a
    neighbouring sentence (a table row "Name: Mark Lloyd" above "Post: Chief Executive"), and,
    when the question names councils (lower-case, ``councils``), the post must not belong to
    another body ("Cllr Jo Bloggs Leader, Northby Vale" does not say who leads Ashworth).
    """
    text = sentences[index]
    if expected.kind == "number":
        # a year, a financial year or a paragraph number ("2.5 The experience …") is not a count
        text = _NOT_COUNTS.sub(" ", text)
    if expected.share and not _GIVES["share"].search(text):
        return False  # "what percentage …?": "the eight recommendations" is no share
    if expected.share_of and not _counts(stems(" ".join(with_antecedent(sentences, index))), expected.share_of):
        return False  # "what share of staff …?": "76% of residents were satisfied" is another whole's
    if expected.quantity and not set(expected.quantity) <= set(stems(text)):
        return False  # "the recycling rate": a figure in a sentence that does not name recycling
    if expected.measured and not _names_measured(sentences, index, expected.measured):
        return False  # "how large is the debt?": "a budget of 312 million pounds" is not the debt
    if expected.kind == "number" and expected.counted:
        # "how many staff": a figure counting staff ("more than 95 people" does not count staff)
        for m in _GIVES["number"].finditer(text):
            # the counted noun follows the figure within its phrase: "five peers, led by
            # Councillor X" does not count councillors
            phrase = re.split(r"[,;:.()]", text[m.end():], maxsplit=1)[0]
            following = " ".join(re.split(r"[\s-]+", phrase.lstrip(" -"))[:4])
            # …or it is the figure "of" a noun before it: "a population of 34,590", "a
            # workforce of around 1,450"
            of = _NOUN_OF.search(text[:m.start()])
            if _counts(stems(following), expected.counted) or (of and _counts(stems(of.group(1)), expected.counted)):
                return True
        return False
    if expected.kind == "name" and expected.organisation:
        return bool(organisation_names(text, not_names, common))
    if expected.kind == "name":
        # "Jo Bloggs, Head of Communications" or "… managing director of Farby Services" holds
        # a post at her own body: it names no one's leading or managing of the review asked about
        words = set(stems(_POST_TITLE.sub(" ", text))) if expected.role else set()
        described = all(load_domain().role_words(w) & words for w in stems(expected.role))
        # "who keeps track of the plan?" may be answered by a body ("the Strategic Management
        # Team"); "who led the team?", "who was the lead member peer?" and "who was on the
        # team?" by a person
        return described and (bool(person_names(text, not_names, expected.besides,
                                                common if expected.role or expected.person else frozenset()))
                              # "who led the team?" also by their post alone: "led by a serving
                              # Chief Executive" (not "what is the name of the BT manager?")
                              or (expected.role in _LEADING and bool(_post_described().search(text))))
    if expected.kind == "item":
        return bool(_item_pattern(expected.item).search(text))
    if expected.kind == "council":  # another council than those the question is about
        return any(name.lower() not in councils for name in council_names_in([text])) \
            or bool(_PEERS_FROM_PLACES.search(text))
    if expected.kind == "date" and expected.unit:
        return any(_of_month(m.group(0), expected.month) and _of_year(text, m, expected.year)
                   for m in _UNIT_GIVEN[expected.unit].finditer(text)) and expected.in_years(text)
    if expected.kind != "post_holder":
        return bool(_GIVES[expected.kind].search(text)) and expected.in_years(text)
    core = expected.post.removesuffix(" peer")
    # a peer's post, a post of the LGA's own organisers or of the review ("the chair of the
    # panel") is another body's by definition
    domain = load_domain()
    own = not expected.post.endswith(" peer") and core not in domain.team_posts \
        and not domain.names_review(expected.of)
    body = _body_words(expected.of, councils, not_names) if own else set()  # a peer's: of the review
    if body and not any(body <= set(stems(sentences[j])) for j in (index, index - 1) if j >= 0):
        return False  # "chaired by the Leader" of a partnership does not name the audit committee's chair
    for m in _post_pattern(core).finditer(text):
        if text[:m.start()].lower().rstrip().endswith("deputy") and core == "leader":
            continue  # "Deputy Leader" does not name the leader
        if councils and own and _post_is_elsewhere(text[m.end():], councils):
            continue
        if any(name in text[max(0, m.start() - 60):m.end() + 60] for name in expected.besides):
            continue  # "the Leader, Councillor Jo Bloggs": the post is the one the question rules out
        if name_sentence(sentences, index, not_names, expected.besides, common) is not None \
                or _HOLDER_POST.match(text, m.end()):
            return True
    return False


def _of_month(date: str, month: str) -> bool:
    """Is ``date`` ("4 April", "04/04/2025") of ``month`` (lower case; any month when empty)?

    >>> _of_month("04/04/2025", "april"), _of_month("11 March 2026", "april"), _of_month("May", "")
    (True, False, True)
    """
    if not month or month in date.lower():
        return True
    numeric = re.fullmatch(r"\d{1,2}[/.](\d{1,2})[/.]\d{2,4}", date)
    return bool(numeric) and int(numeric.group(1)) == month_number(month)


def _of_year(text: str, month: re.Match[str], year: int | None) -> bool:
    """Is the month matched in ``text`` of ``year`` (any year when None): no other year is
    written with it ("September 5, 2023", "5 September 2023", "05/09/2023")?

    >>> [_of_year(t, re.search(r"September|\\d+/\\d+/\\d+", t), 2022)
    ...  for t in ("on September 5, 2023", "in September 2022", "in September", "05/09/2023")]
    [False, True, True, False]
    """
    if year is None:
        return True
    written = re.search(r"(?:19|20)\d\d", month.group(0)) or re.match(
        r"[\s,]*(?:\d{1,2}(?:st|nd|rd|th)?,?\s+)?((?:19|20)\d\d)\b", text[month.end():])
    return not written or int(written.group(written.lastindex or 0)) == year


def date_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each date or time word in ``text`` ("6 July 2022": "July" and "2022")."""
    return [m.span() for m in _GIVES["date"].finditer(text)]


def leans_back(sentence: str) -> bool:
    """Does ``sentence`` lean on the one before it ("This took place in May", "However, …")?"""
    return bool(_LEANS_BACK.match(sentence))


def with_antecedent(sentences: Sequence[str], index: int) -> Sequence[str]:
    """Sentence ``index`` and, when it leans back ("This came to £2m."), the one before it: what
    the sentence tells of."""
    return sentences[index - 1:index + 1] if index and leans_back(sentences[index]) else sentences[index:index + 1]


# Words a sentence opens with when it leans on the sentence before it.
_LEANS_BACK = re.compile(
    r"^\s*(?:this|these|those|that|such|it|its|they|their|them|however|but|also|"
    r"therefore|thus|consequently|furthermore|moreover|in addition|as a result|in turn|"
    r"similarly|likewise|nevertheless|instead)\b",
    re.IGNORECASE,
)


# council words and words of time: what no post or figure is of
NOT_BODY = frozenset(stems("council councils authority district borough city county now today current "
                            "currently time"))
# …and, for what a figure is of, the words framing a figure question and auxiliaries
_FIGURE_FRAME = NOT_BODY | frozenset(stems(
    "much many big large high small low share percentage proportion number amount figure total money pounds "
    "size do does did has have had been be is are was were will would can could should it its from up through "
    "since by each per last next this that year years annual annually month months week weeks"))


def measured_stems(topic: str, not_names: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """What a figure question's answer is of: the stems of ``topic`` (the question without the
    councils it is about) left when the words framing a figure question ("how much", "how
    big", "what share of"), auxiliaries, years, council and place names and words of time are
    taken out.

    >>> measured_stems("How much does hold in reserves each year?")
    ('hold', 'reserv')
    >>> measured_stems("By how much did Northby raise council tax in 2024/25?", frozenset({"northby"}))
    ('rais', 'tax')
    """
    words = [w for w in re.findall(r"[a-z]+", re.sub(r"['’]s\b", "", topic.lower())) if w not in not_names]
    return tuple(dict.fromkeys(w for w in stems(" ".join(words)) if w not in _FIGURE_FRAME))


def _names_measured(sentences: Sequence[str], index: int, measured: Sequence[str]) -> bool:
    """Does sentence ``index``, or the one it leans back on ("This came to £2m."), name one of
    the ``measured`` stems?"""
    return bool(set(measured) & set(stems(" ".join(with_antecedent(sentences, index)))))


def _body_words(of: str, councils: Sequence[str], not_names: frozenset[str]) -> set[str]:
    """The stems naming what a post is of ("the audit committee" → audit, committe), council
    and place names and words of time left out: the post of the council itself needs none.

    >>> sorted(_body_words("Ashworth Council's audit committee", ["ashworth council"], frozenset()))
    ['audit', 'committe']
    >>> _body_words("now", [], frozenset()), _body_words("Stanton Wells District Council", [], frozenset({"stanton", "wells"}))
    (set(), set())
    >>> _body_words("Ashworth Council welcoming the review", ["ashworth council"], frozenset())
    set()
    """
    named = {w for c in councils for w in c.split()}
    lowered = of.lower().removeprefix("the ")
    for council in councils:
        if lowered.startswith(council) and not re.match(r"['’]s\b", lowered[len(council):]):
            return set()  # "leader of X Council welcoming the review": the post is the council's own
    words = [w for w in re.findall(r"[a-z0-9]+", re.sub(r"['’]s\b", "", of.lower()))
             if w not in not_names and w not in named]
    return set(stems(" ".join(words))) - NOT_BODY


# "chaired by the Leader": a holder named by another post, after the post's verb ("chaired by")
_HOLDER_POST = re.compile(rf"(?<=\bby)\s+(?:the\s+)?(?:{_POSTS})\b", re.I)


def passage_gives(sentences: Sequence[str], expected: Expected, councils: Sequence[str] = (),
                  not_names: frozenset[str] = frozenset(), common: frozenset[str] = frozenset()) -> bool:
    """Does any sentence of a passage give the expected kind of answer?"""
    return any(gives(sentences, i, expected, councils, not_names, common) for i in range(len(sentences)))


def name_sentence(sentences: Sequence[str], index: int, not_names: frozenset[str] = frozenset(),
                  besides: Sequence[str] = (), common: frozenset[str] = frozenset()) -> int | None:
    """The sentence naming a person: ``index`` itself, else, for a row or label that is no
    sentence ("Post: | Chief Executive" under "Name: | Mark Lloyd"), the one before, else the
    one after. Prose that names a post but no one ("The Leader and the Chief Executive work
    closely.") does not say who holds it, whoever the sentence beside it names.

    >>> name_sentence(["Name: | Mark Lloyd", "Post: | Chief Executive"], 1)
    0
    >>> name_sentence(["Councillor Shah is respected.", "The Leader is visible."], 1) is None
    True
    """
    near = (index,) if ENDS_SENTENCE.search(sentences[index]) else (index, index - 1, index + 1)
    for j in near:
        if 0 <= j < len(sentences) and person_names(sentences[j], not_names, besides, common):
            return j
    return None
