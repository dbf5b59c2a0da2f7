"""Loaders: every supported format becomes raw text pages, in reading order."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from assistant.errors import UnreadableDocument
from ingest.cleaning import clean
from ingest.loaders import decode_text, load


def make_pdf(pages: list[list[str]], page_labels: str = "") -> bytes:
    """A minimal valid PDF: one Helvetica text line per string; an empty page gets a drawn box
    and no text. ``page_labels`` is the body of a /PageLabels number tree, e.g. ``0 << /S /r >>``.
    """
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    pages_id = add(b"")  # filled in once the kids are known
    kids = []
    for lines in pages:
        if lines:
            ops = ["BT", "/F1 11 Tf", "14 TL", "72 760 Td"]
            for line in lines:
                escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                ops.append(f"({escaped}) Tj T*")
            ops.append("ET")
            stream = "\n".join(ops).encode("latin-1")
        else:
            stream = b"0 0 1 rg 72 600 200 100 re f"  # a filled rectangle: an "image", no text
        content = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        kids.append(add(
            f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {content} 0 R >>".encode()))
    objects[pages_id - 1] = (
        f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode())
    labels = f" /PageLabels << /Nums [{page_labels}] >>" if page_labels else ""
    root = add(f"<< /Type /Catalog /Pages {pages_id} 0 R{labels} >>".encode())
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, root, xref))
    return out.getvalue()


def encrypt_pdf(data: bytes, password: str = "secret") -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(data))
    writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


TWO_PAGE_PDF = [
    ["1. Housing delivery", "", "The council has built new homes across the city and",
     "works closely with developers on affordable housing."],
    ["2. Finance", "", "The medium term financial strategy is sound and the",
     "council holds healthy reserves for the future."],
]


# --- plain text ---------------------------------------------------------------------------

def test_utf8_text(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Caf\u00e9 budget \u00a33m \u2014 agreed.\n", encoding="utf-8")
    raw = load(path)
    assert raw.pages == ("Caf\u00e9 budget \u00a33m \u2014 agreed.\n",)
    assert raw.paged is False and raw.page_labels == ()


def test_utf8_bom_is_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfHello council")
    assert load(path).pages == ("Hello council",)


def test_utf16_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "u16.txt"
    path.write_bytes("Peer review \u00a3".encode("utf-16"))
    assert load(path).pages == ("Peer review \u00a3",)


def test_cp1252_pound_and_curly_quotes_decode(tmp_path: Path) -> None:
    text = "The council\u2019s \u201cFairer Cambridge\u201d plan costs \u00a312m \u2013 agreed.\n"
    path = tmp_path / "win.txt"
    path.write_bytes(text.encode("cp1252"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # the test input really is not UTF-8
    assert load(path).pages == (text,)


def test_decode_text_rejects_nul_bytes() -> None:
    with pytest.raises(UnreadableDocument, match="NUL"):
        decode_text(b"abc\x00def")


def test_decode_text_rejects_control_garbage() -> None:
    with pytest.raises(UnreadableDocument, match="not readable"):
        decode_text(bytes(range(1, 32)) * 20 + b"\x81\x8d\x8f" * 20)


def test_markdown_loads_as_text(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# Peer challenge\n\n- first point\n- second point\n", encoding="utf-8")
    raw = load(path)
    assert raw.pages == ("# Peer challenge\n\n- first point\n- second point\n",)
    assert "• first point\n• second point" in clean(raw.pages).text


def test_suffix_is_case_insensitive(tmp_path: Path) -> None:
    path = tmp_path / "LOUD.TXT"
    path.write_text("Loud text.", encoding="utf-8")
    assert load(path).pages == ("Loud text.",)


# --- HTML ---------------------------------------------------------------------------------

HTML = """<!doctype html><html><head><title>Peer challenge</title>
<style>body { color: red }</style><script>var tracking = "SECRET-SCRIPT";</script></head>
<body>
<nav><a href="/">Home</a> <a href="/news">NAV-LINK</a></nav>
<header>SITE-HEADER</header>
<main>
<h1>Peer challenge</h1>
<p>The council welcomed the <b>peer team</b> in December 2017.</p>
<ul><li>Develop our vision</li><li>Strengthen <em>partnerships</em></li></ul>
<table><tr><th>Action</th><th>Lead</th></tr><tr><td>Review governance</td><td>Chief Executive</td></tr></table>
<form><label>Email</label><input name="email"><button>FORM-BUTTON</button> FORM-TEXT</form>
</main>
<footer>FOOTER-TEXT Copyright</footer>
<noscript>NOSCRIPT-TEXT</noscript>
</body></html>"""


def test_html_keeps_text_drops_furniture(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(HTML, encoding="utf-8")
    raw = load(path)
    assert len(raw.pages) == 1
    text = raw.pages[0]
    for furniture in ("SECRET-SCRIPT", "color: red", "NAV-LINK", "SITE-HEADER", "FORM-BUTTON",
                      "FORM-TEXT", "FOOTER-TEXT", "NOSCRIPT-TEXT"):
        assert furniture not in text
    assert "The council welcomed the peer team in December 2017." in text
    assert "• Develop our vision" in text
    assert "• Strengthen partnerships" in text
    # blocks in document order
    order = [text.index(s) for s in ("Peer challenge", "The council welcomed", "• Develop", "Review governance")]
    assert order == sorted(order)


def test_html_keeps_what_the_page_says_about_itself_apart_from_its_text(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(HTML.replace(
        "<title>Peer challenge</title>",
        '<title>Peer challenge | Northby District Council</title>'
        '<meta property="og:site_name" content="Northby District Council">'
        '<meta name="description" content="What the  peers said.">'
        '<meta property="article:published_time" content="2024-08-02T09:30:00+01:00">'), encoding="utf-8")
    raw = load(path)
    facts = raw.facts
    assert facts.title == "Peer challenge | Northby District Council"
    assert facts.site_name == "Northby District Council" and facts.headline == "Peer challenge"
    assert facts.description == "What the peers said." and facts.published.startswith("2024-08-02")
    assert "NAV-LINK" in facts.furniture and "FOOTER-TEXT Copyright" in facts.furniture
    assert "SECRET-SCRIPT" not in facts.furniture and "FORM-TEXT" not in facts.furniture
    assert facts.about().splitlines()[0] == "Northby District Council"
    # evidence only: none of it enters the indexed text
    assert "Northby" not in raw.pages[0] and "NAV-LINK" not in raw.pages[0]


def test_other_formats_say_nothing_about_themselves(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("<title>Not a web page</title>", encoding="utf-8")
    assert load(path).facts.about() == "" and load(path).facts.furniture == ""


def test_html_table_rows_become_rows_after_cleaning(tmp_path: Path) -> None:
    path = tmp_path / "page.htm"
    path.write_text(HTML, encoding="utf-8")
    cleaned = clean(load(path).pages)
    assert "Review governance | Chief Executive" in cleaned.text
    rows = [cleaned.text[b.start:b.end] for b in cleaned.blocks if b.kind == "row"]
    assert "Action | Lead" in rows


def test_html_without_main_uses_body(tmp_path: Path) -> None:
    path = tmp_path / "plain.html"
    path.write_text("<html><body><div>Just a div of text</div><footer>FOOT</footer></body></html>",
                    encoding="utf-8")
    assert load(path).pages == ("Just a div of text",)


# --- PDF ----------------------------------------------------------------------------------

def test_pdf_two_pages_keep_order_and_default_labels(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(make_pdf(TWO_PAGE_PDF))
    raw = load(path)
    assert raw.paged is True
    assert len(raw.pages) == 2
    assert "built new homes" in raw.pages[0] and "built new homes" not in raw.pages[1]
    assert "healthy reserves" in raw.pages[1]
    assert raw.page_labels == ("1", "2")


def test_pdf_printed_page_labels(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(make_pdf(TWO_PAGE_PDF + [["3. Next steps", "", "Follow up visit in 2019."]],
                              page_labels="0 << /S /r >> 2 << /S /D >>"))
    assert load(path).page_labels == ("i", "ii", "1")


def test_pdf_pages_map_to_cleaned_offsets(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(make_pdf(TWO_PAGE_PDF, page_labels="0 << /S /r >>"))
    raw = load(path)
    cleaned = clean(raw.pages, raw.page_labels, raw.paged)
    assert [(p.index, p.label) for p in cleaned.pages] == [(0, "i"), (1, "ii")]
    second = cleaned.pages[1].start
    assert cleaned.text[second:].startswith("2. Finance")
    assert "built new homes" in cleaned.text[:second]
    assert "healthy reserves" in cleaned.text[second:]


def test_pdf_chunks_keep_page_index_and_label(tmp_path: Path) -> None:
    from assistant.settings import ChunkingSettings
    from ingest.build import prepare_document
    from ingest.chunking import chunk_document
    from tests.fakes import word_count

    long_page = [f"Sentence number {i} about workforce capacity." for i in range(30)]
    path = tmp_path / "report.pdf"
    path.write_bytes(make_pdf(TWO_PAGE_PDF + [long_page], page_labels="0 << /S /r >> 2 << /S /D >>"))
    doc = prepare_document(path, {}, "hash")
    chunks = chunk_document(doc, ChunkingSettings(chunk_tokens=40, overlap_tokens=8), word_count)
    assert {(c.page, c.page_label) for c in chunks} == {(0, "i"), (1, "ii"), (2, "1")}
    starts = {p.index: p.start for p in doc.pages}
    for chunk in chunks:
        assert chunk.page is not None
        next_start = starts.get(chunk.page + 1, len(doc.text))
        assert starts[chunk.page] <= chunk.start < next_start  # the page the chunk starts on
    assert (chunks[0].page, chunks[0].page_label) == (0, "i")
    assert "built new homes" in chunks[0].text
    page_three = [c for c in chunks if c.page == 2]
    assert len(page_three) >= 3  # the long page is split, each part keeps the page
    assert any("Sentence number 29" in c.text for c in page_three)


def test_encrypted_pdf_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "locked.pdf"
    path.write_bytes(encrypt_pdf(make_pdf(TWO_PAGE_PDF)))
    with pytest.raises(UnreadableDocument, match="encrypted PDF"):
        load(path)


def test_pdf_with_empty_user_password_opens(tmp_path: Path) -> None:
    path = tmp_path / "owner-only.pdf"
    path.write_bytes(encrypt_pdf(make_pdf(TWO_PAGE_PDF), password=""))
    assert "healthy reserves" in load(path).pages[1]


def test_image_only_pdf_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(make_pdf([[], []]))
    with pytest.raises(UnreadableDocument, match="no text layer"):
        load(path)


def test_pdf_with_one_blank_page_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "mixed.pdf"
    path.write_bytes(make_pdf([TWO_PAGE_PDF[0], [], TWO_PAGE_PDF[1]]))
    raw = load(path)
    assert len(raw.pages) == 3 and not raw.pages[1].strip()
    cleaned = clean(raw.pages, raw.page_labels, raw.paged)
    assert [p.index for p in cleaned.pages] == [0, 2]


# --- DOCX ---------------------------------------------------------------------------------

def _docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Corporate Peer Challenge", level=1)
    document.add_paragraph("The peer team spent four days on site.")
    document.add_heading("Key recommendations", level=2)
    document.add_paragraph("Develop a longer term vision", style="List Bullet")
    document.add_paragraph("Review the governance structure", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Action"
    table.cell(0, 1).text = "Lead officer"
    table.cell(1, 0).text = "Refresh the vision"
    table.cell(1, 1).text = "Chief Executive"
    document.add_paragraph("")  # empty paragraphs are skipped
    document.add_paragraph("After the table comes the closing paragraph.")
    document.save(str(path))


def test_docx_headings_paragraphs_table_in_order(tmp_path: Path) -> None:
    path = tmp_path / "report.docx"
    _docx(path)
    raw = load(path)
    assert raw.paged is False and len(raw.pages) == 1
    blocks = raw.pages[0].split("\n\n")
    assert blocks == [
        "Corporate Peer Challenge",
        "The peer team spent four days on site.",
        "Key recommendations",
        "• Develop a longer term vision",
        "• Review the governance structure",
        "Action\tLead officer",
        "Refresh the vision\tChief Executive",
        "After the table comes the closing paragraph.",
    ]


def test_docx_cleans_into_headings_items_and_rows(tmp_path: Path) -> None:
    path = tmp_path / "report.docx"
    _docx(path)
    cleaned = clean(load(path).pages)
    kinds = [(b.kind, cleaned.text[b.start:b.end]) for b in cleaned.blocks]
    assert kinds == [
        ("heading", "Corporate Peer Challenge"),
        ("paragraph", "The peer team spent four days on site."),
        ("heading", "Key recommendations"),
        ("item", "• Develop a longer term vision"),
        ("item", "• Review the governance structure"),
        ("row", "Action | Lead officer"),
        ("row", "Refresh the vision | Chief Executive"),
        ("paragraph", "After the table comes the closing paragraph."),
    ]


def test_corrupt_docx_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04 this is not a real zip archive")
    with pytest.raises(UnreadableDocument, match="not a readable .docx"):
        load(path)


# --- common checks ------------------------------------------------------------------------

@pytest.mark.parametrize("name, data, reason", [
    ("empty.txt", b"", "empty file"),
    ("blank.txt", b"  \n\n \t\n", "no text found"),
    ("sheet.xlsx", b"PK\x03\x04", "unsupported file type .xlsx"),
    ("noext", b"hello", "unsupported file type (none)"),
    ("nul.txt", b"abc\x00\x00def" * 50, "NUL bytes"),
    ("garbage.pdf", bytes(range(256)) * 8, "not a readable PDF"),
])
def test_unreadable_inputs_raise_one_line_reason(tmp_path: Path, name: str, data: bytes,
                                                 reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(UnreadableDocument) as caught:
        load(path)
    message = str(caught.value)
    assert reason in message
    assert "\n" not in message


def test_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest import loaders

    monkeypatch.setattr(loaders, "MAX_BYTES", 100)
    path = tmp_path / "big.txt"
    path.write_text("word " * 40, encoding="utf-8")  # 200 bytes
    with pytest.raises(UnreadableDocument, match="too large"):
        load(path)
    path.write_text("word " * 20, encoding="utf-8")  # exactly at the limit: fine
    assert load(path).pages[0].startswith("word")


def test_a_saved_pages_banners_and_bars_are_not_its_text(tmp_path):
    """Cookie banners, skip links, breadcrumbs, share bars and "was this page useful?" forms,
    named by their class or id, are the site's, not the page's; a section whose class merely
    contains such a word ("social-care") stays."""
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>Peer challenge | Northby District Council</title></head><body>"
        "<div id='cookie-banner'><p>We use cookies to improve your experience on this site.</p></div>"
        "<a class='skip-link' href='#main'>Skip to main content</a>"
        "<div class='breadcrumbs'><a>Home</a> &gt; <a>Your council</a></div>"
        "<div class='content'><h1>Corporate peer challenge</h1>"
        "<p>The peer team visited Northby District Council in March 2024.</p>"
        "<div class='social-care-update'><p>Peers praised the adult social care service.</p></div>"
        "<div class='page-feedback'><p>Was this page useful? Yes No</p></div>"
        "<div class='social-share'><p>Share this page</p></div></div></body></html>",
        encoding="utf-8")
    text = load(page).pages[0]
    assert text.startswith("Corporate peer challenge") and "adult social care" in text
    for chrome in ("cookies", "Skip to", "Your council", "useful", "Share this"):
        assert chrome not in text
