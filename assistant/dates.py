"""Calendar dates as written in council documents ("5–8 February 2024", "March 3, 2023").

Shared by ingest's cleaning (a dated line is text, not a heading) and metadata (the
document's date), and by sentence selection (a sentence stating its own document's date).
"""

from __future__ import annotations

import re

from assistant.types import DocumentMeta

MONTHS = {m: i + 1 for i, m in enumerate(
    "january february march april may june july august september october november december".split())}
MONTH_NAMES = "|".join(m.capitalize() for m in MONTHS) + "|" + "|".join(m[:3].capitalize() for m in MONTHS)
_MONTH = rf"(?P<m>(?i:{MONTH_NAMES}))\.?"
_MONTH2 = rf"(?P<m2>(?i:{MONTH_NAMES}))\.?"
_ORD = r"(?:st|nd|rd|th)?"
# a day (or a run of days), a month and a year, in either order, ISO, or day/month/year as
# council decision records write it ("27/10/2023")
DAY_DATE = re.compile(
    rf"\b(?P<d>\d{{1,2}}){_ORD}(?:\s*(?:-|–|—|to|and|,|, and)\s*\d{{1,2}}{_ORD})*\s+{_MONTH}"
    rf"(?:\s*(?:-|–|—|to)\s*\d{{1,2}}{_ORD}\s+[A-Z][a-z]+)?,?\s+(?P<y>(?:19|20)\d\d)\b"
    rf"|\b{_MONTH2}\s+(?P<d2>\d{{1,2}}){_ORD},?\s+(?P<y2>(?:19|20)\d\d)\b"
    r"|\b(?P<iy>(?:19|20)\d\d)-(?P<im>[01]\d)-(?P<id>[0-3]\d)\b"
    r"|\b(?P<nd>[0-3]?\d)/(?P<nm>[01]?\d)/(?P<ny>(?:19|20)\d\d)\b")
MONTH_DATE = re.compile(rf"\b{_MONTH}\s+(?P<y>(?:19|20)\d\d)\b")


def month_number(name: str) -> int:
    """"March", "Mar" or "Mar." → 3."""
    return MONTHS.get(name.lower().rstrip(".")) or next(
        i for m, i in MONTHS.items() if m.startswith(name.lower()[:3]))


def year_months(text: str) -> set[str]:
    """Every month a text dates to, as "YYYY-MM" ("5 to 8 February 2024" → {"2024-02"}).

    >>> sorted(year_months("Visit: 27 to 30 June 2023; report sent July 2023; 2024-01-05; 9/2/2025"))
    ['2023-06', '2023-07', '2024-01', '2025-02']
    """
    found = set()
    for match in DAY_DATE.finditer(text):
        if match["iy"]:
            found.add(f"{match['iy']}-{match['im']}")
        elif match["ny"]:
            if 1 <= int(match["nm"]) <= 12:
                found.add(f"{match['ny']}-{int(match['nm']):02d}")
        elif match["d"]:
            found.add(f"{match['y']}-{month_number(match['m']):02d}")
        else:
            found.add(f"{match['y2']}-{month_number(match['m2']):02d}")
    found |= {f"{m['y']}-{month_number(m['m']):02d}" for m in MONTH_DATE.finditer(text)}
    return found


def states_own_date(text: str, meta: DocumentMeta) -> bool:
    """Does ``text`` name the month its document is dated by (its date or its visit's)?

    >>> meta = DocumentMeta("d", "Feedback", "X Council", "feedback report", "2023-06-30")
    >>> states_own_date("The peer challenge took place from 27 to 30 June 2023.", meta)
    True
    >>> states_own_date("The plan runs to March 2030.", meta)
    False
    """
    months = {d[:7] for d in (meta.date, meta.visit_date) if len(d) >= 7}
    return bool(months) and bool(year_months(text) & months)
