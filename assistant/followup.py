"""Follow-up questions in a conversation, completed into standalone ones (pure functions).

Part of question analysis: ``query.analyse`` calls ``rewrite_followup`` before anything else
reads the question. Council references are found by the council registry, so a follow-up
works for any council the corpus holds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.councils import CouncilMention, CouncilRegistry


_LEAD = re.compile(r"^(?:(?:and|also|but|so|ok|okay)\b[\s,]*)+", re.IGNORECASE)
_FOCUS = re.compile(r"^(?:what|how)\s+about\s+(?P<focus>.+)$", re.IGNORECASE)
_WH = re.compile(r"^(?:what|how|why|who|whom|whose|when|where|which|did|does|do|is|are|was|were|"
                 r"can|could|should|would|will|has|have|had)\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z][a-z'-]*", re.IGNORECASE)
# a question over several councils ("which councils …?", "at each council") has a scope of its own
_PLURAL_SCOPE = re.compile(r"\b(?:councils|each|every|all|both|compare|comparison)\b", re.IGNORECASE)
_PRONOUNS = {"it", "its", "they", "them", "their", "theirs", "that", "this", "those", "these"}
_OBJECT_PRONOUNS = ("it", "this", "that", "these", "those")
_FUNCTION_WORDS = set("""a an the and or but so of in on at to for from with by about as into over than
then what how why who whom whose when where which did does do done is are was were be been being
can could should would will shall may might must has have had not no any some more most other else
same again also just there here me my we our us you your i he she his her peers peer team council
councils say said says tell told think thought recommend recommended recommendation recommendations
suggest suggested find found mean means happen happened make made give gave see saw do anything
something thing things issue issues point points topic area areas matter aspect part one ones detail
details further exactly really please why""".split())  # noqa: SIM905 -- easier to read as prose


def _council_mention(text: str, registry: CouncilRegistry) -> CouncilMention | None:
    """The first phrase naming a council the registry knows ("Wigan Council", "the county")."""
    return next((m for m in registry.find(text) if m.known), None)


def _council_phrase(mention: CouncilMention, registry: CouncilRegistry) -> str:
    """"the county" → "the county council"; a bare place → the council's full name."""
    phrase = re.sub(r"['’]s?$", "", mention.text)
    if re.fullmatch(r"the\s+[\w ]+", phrase, re.IGNORECASE) and not phrase.lower().endswith("council"):
        return phrase + " council"
    if len(mention.councils) == 1 and phrase.lower() == registry.councils[mention.councils[0]].place.lower():
        return mention.councils[0]
    return phrase


def rewrite_followup(question: str, history_questions: Sequence[str],
                     registry: CouncilRegistry) -> str:
    """Turn a follow-up into a standalone question using the previous (standalone) question.

    A follow-up is a short question that starts with "and"/"what about", or leans on a pronoun
    (it, they, that, …) with no topic word of its own; one with a topic of its own that leans on
    a pronoun or an "and" keeps the previous question's one council ("how many key
    recommendations did they make?" → "… for the city council?"). After
    "What did the peers say about the city council's finances?":
      "and what about the county council?"
        → "What did the peers say about the county council's finances?"
      "what about shared services?"
        → "What did the peers say about shared services at the city council?"
      "what did they recommend about it?"
        → "What did they recommend about the city council's finances?"
    Anything else comes back unchanged.
    """
    question = " ".join(question.split())
    previous = next((q.strip() for q in reversed(history_questions) if q and q.strip()), "")
    if not previous or not question:
        return question
    lead = _LEAD.match(question)
    rest = question[lead.end():] if lead else question
    words = [w.lower() for w in _WORD.findall(rest)]
    if len(words) > 14 or not words:
        return question
    focus_match = _FOCUS.match(rest)
    if focus_match or (lead and not _WH.match(rest)):
        focus = (focus_match.group("focus") if focus_match else rest).strip(" ?.!")
        focus = re.sub(r"^(?:for|at|in|on|regarding|with)\s+", "", focus, flags=re.IGNORECASE)
        return _combine_focus(previous, focus, registry)
    mention = _council_mention(rest, registry)
    topic = {w for w in words if w not in _FUNCTION_WORDS and w not in _PRONOUNS}
    if mention:
        topic -= {w.lower() for w in _WORD.findall(mention.text)}
    leans = bool(lead) or bool(_PRONOUNS & set(words))
    if topic and leans and not mention and not _PLURAL_SCOPE.search(rest):
        # "How many key recommendations did they make?" after a question about one council asks
        # about that council: the follow-up keeps its scope
        old = _council_mention(previous, registry)
        if old is not None and len(old.councils) == 1:
            return f"{_capitalise(_strip_q(rest))} for {_council_phrase(old, registry)}?"
    if topic or not (leans or len(words) <= 3):
        return question
    if mention:  # "is that the same for the county council?"
        return _combine_focus(previous, mention.text, registry)
    return _resolve_pronouns(rest, previous)


def _strip_q(text: str) -> str:
    return text.strip().rstrip("?.! ")


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _combine_focus(previous: str, focus: str, registry: CouncilRegistry) -> str:
    """Previous question with its council swapped for ``focus``, or its topic swapped."""
    old = _council_mention(previous, registry)
    focus_mention = _council_mention(focus, registry)
    if focus_mention:
        new = _council_phrase(focus_mention, registry)
        if old:
            return _capitalise(previous[:old.start] + new + previous[old.end:])
        return f"{_strip_q(previous)} for {new}?"
    about = previous.lower().rfind(" about ")
    if about >= 0:
        head, tail = previous[:about + 7], previous[about + 7:]
        where = ""
        tail_mention = _council_mention(tail, registry)
        if tail_mention:
            where = f" at {_council_phrase(tail_mention, registry)}"
        return f"{head}{focus}{where}?"
    return f"{_strip_q(previous)} — what about {focus}?"


def _resolve_pronouns(question: str, previous: str) -> str:
    """Put the previous question's topic (its "about …" part) where the pronoun stands.

    "what did they recommend about it?" → "… about <topic>?"; "what did they recommend?" →
    "… recommend about <topic>?"; anything else ("why is that?") is appended to the previous one.
    """
    body = _strip_q(question)
    about = previous.lower().rfind(" about ")
    objects = "|".join(_OBJECT_PRONOUNS)
    if about >= 0:
        topic = _strip_q(previous[about + 7:])
        after_preposition = re.compile(
            rf"\b(about|on|for|with|to|of|regarding|into)\s+(?:{objects})\b", re.IGNORECASE)
        if after_preposition.search(body):
            resolved = after_preposition.sub(lambda m: f"{m.group(1)} {topic}", body, count=1)
            return _capitalise(resolved) + "?"
        has_object = re.search(rf"\b(?:{objects})\b", body, re.IGNORECASE)
        if not has_object and re.match(r"(?:what|which)\b", body, re.IGNORECASE):
            return _capitalise(body) + f" about {topic}?"
    return f"{_strip_q(previous)} — {body[:1].lower() + body[1:]}?"
