"""The council-name table (tests/fixtures/council_names.yaml) against the registry: every form,
ambiguous name and trap a careful reader would resolve, resolved the same way."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from assistant.councils import CouncilRegistry

TABLE = yaml.safe_load((Path(__file__).parent / "fixtures" / "council_names.yaml").read_text(encoding="utf-8"))
SEED = ["Cambridge City Council", "Cambridgeshire County Council"]
ALIASES = {c["name"]: tuple(c.get("aliases", ())) for c in TABLE["councils"]}
ALL = [c["name"] for c in TABLE["councils"]]


def registry_for(indexed: list[str]) -> CouncilRegistry:
    return CouncilRegistry(indexed, [n for n in ALL if n not in indexed], aliases=ALIASES)


@pytest.mark.parametrize("case", TABLE["cases"], ids=lambda c: c["text"][:60])
def test_council_name_case(case):
    registry = registry_for(case.get("indexed", SEED))
    mentions = registry.find(case["text"])
    found = list(dict.fromkeys(n for m in mentions for n in m.councils))
    assert found == case["expect"], case.get("note", "")
    assert [m.text for m in mentions if not m.known] == case.get("unknown", [])
    assert any(m.ambiguous for m in mentions) == bool(case.get("ambiguous")), case.get("note", "")
