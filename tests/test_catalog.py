"""The corpus catalogue is read as YAML's safe loader reads it (libyaml's parser when present)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from assistant.errors import CatalogError
from ingest.catalog import CATALOG_NAME, load_catalog

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = sorted(ROOT.glob("corpus/catalog.yaml")) + sorted(
    ROOT.glob("tests/fixtures/**/catalog.yaml"))


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_catalogue_reads_as_safe_load_reads_it(path: Path) -> None:
    expected = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert load_catalog(path.parent) == {str(k): v for k, v in expected.items()}


def test_dates_numbers_and_non_ascii_text_keep_their_types(tmp_path: Path) -> None:
    (tmp_path / CATALOG_NAME).write_text(
        "a.txt:\n  title: Ynys Môn — “peer” review\n  date: 2019-03-04\n  council: 2019\n"
        "b.txt: {title: 'yes', visit_date: no}\n", encoding="utf-8")
    catalog = load_catalog(tmp_path)
    assert catalog == yaml.safe_load((tmp_path / CATALOG_NAME).read_text(encoding="utf-8"))
    assert catalog["a.txt"]["title"] == "Ynys Môn — “peer” review"
    assert str(catalog["a.txt"]["date"]) == "2019-03-04" and catalog["a.txt"]["council"] == 2019
    assert catalog["b.txt"]["visit_date"] is False  # YAML 1.1 booleans, as safe_load reads them


def test_invalid_yaml_is_one_catalogue_error(tmp_path: Path) -> None:
    (tmp_path / CATALOG_NAME).write_text("a.txt: {title: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="is not valid YAML"):
        load_catalog(tmp_path)
