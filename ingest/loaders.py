"""Path → raw text pages, one loader per format, all with maintained libraries.

Every failure becomes an ``UnreadableDocument`` whose message is the one-line reason that
ingest prints when it skips the file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import UnreadableDocument

SUPPORTED = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")
TEXT_FORMATS = (".txt", ".md", ".html", ".htm")
MAX_BYTES = 50 * 1024 * 1024  # any file (PDF and .docx carry images, fonts, compression)
# Plain text is all text: 4 MB is about ten times the longest real report, ~1M word pieces and
# ~5,000 chunks, so a few minutes of embedding here. A 50 MB text took more than 5 GB and did
# not finish in 7 minutes.
MAX_TEXT_BYTES = 4_000_000
MAX_TEXT_CHARS = 4_000_000  # extracted text of any format (a 50 MB PDF can hold a lot of it)
_BLOCK = 1 << 20
_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


@dataclass(frozen=True)
class PageFacts:
    """What a saved web page says about itself outside its main text: evidence for its
    metadata (council, title, type, date), never indexed text."""

    title: str = ""  # the <title>
    site_name: str = ""  # og:site_name or application-name
    headline: str = ""  # the first <h1>, else og:title
    description: str = ""  # meta description or og:description
    published: str = ""  # article:published_time and the like, as the page gives it
    furniture: str = ""  # text of the page's header, navigation, footer and asides

    def about(self) -> str:
        """The page's own description of itself, one line each (site name first)."""
        return "\n".join(v for v in (self.site_name, self.title, self.headline, self.description) if v)


@dataclass(frozen=True)
class RawText:
    pages: tuple[str, ...]  # one entry per page; plain formats have a single page
    page_labels: tuple[str, ...] = ()  # printed page labels (PDF only)
    paged: bool = False
    facts: PageFacts = PageFacts()  # web pages only


def load(path: Path) -> RawText:
    """Read a corpus file into raw text, or raise UnreadableDocument with the reason."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise UnreadableDocument(
            f"unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED)}"
        )
    data = read_bounded(path)
    loader = {
        ".txt": _load_text,
        ".md": _load_text,
        ".html": _load_html,
        ".htm": _load_html,
        ".pdf": _load_pdf,
        ".docx": _load_docx,
    }[suffix]
    raw = loader(data)
    if not any(page.strip() for page in raw.pages):
        raise UnreadableDocument("no text found in file")
    chars = sum(len(page) for page in raw.pages)
    if chars > MAX_TEXT_CHARS:
        raise UnreadableDocument(f"too much text ({chars:,} characters; limit {MAX_TEXT_CHARS:,}); "
                                 "split the document")
    return raw


def size_limit(path: Path) -> int:
    return min(MAX_BYTES, MAX_TEXT_BYTES) if path.suffix.lower() in TEXT_FORMATS else MAX_BYTES


def check_file(info: os.stat_result, path: Path) -> None:
    """Refuse what is not a regular file of a size ingest can handle, before reading it."""
    kind = next((name for test, name in _KINDS if test(info.st_mode)), None)
    if kind or not stat.S_ISREG(info.st_mode):
        raise UnreadableDocument(f"not a regular file: {kind or 'a special file'}; not read")
    if info.st_size == 0:
        raise UnreadableDocument("empty file")
    limit = size_limit(path)
    if info.st_size > limit:
        raise UnreadableDocument(f"file too large ({info.st_size / 1e6:.1f} MB; limit "
                                 f"{limit / 1e6:.1f} MB for {path.suffix.lower() or 'this type'})")


def _blocks(path: Path):
    """The file's bytes in blocks, after checking what it is; never more than its limit.

    Opened non-blocking, so a FIFO put in place after the listing cannot hang ingest, and
    checked on the open descriptor, so what is read is what was checked.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UnreadableDocument(f"cannot read file: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "rb", buffering=0) as handle:
        check_file(os.fstat(fd), path)
        left = size_limit(path) + 1
        try:
            while left > 0 and (block := handle.read(min(_BLOCK, left))):
                left -= len(block)
                yield block
        except OSError as exc:
            raise UnreadableDocument(f"cannot read file: {exc.strerror or exc}") from exc
        if left <= 0:  # grew past the limit since it was checked
            raise UnreadableDocument("file too large (it grew while being read)")


def read_bounded(path: Path) -> bytes:
    """The whole file, if it is a regular file within the size limit (else UnreadableDocument)."""
    return b"".join(_blocks(path))


def file_digest(path: Path) -> str:
    """SHA-256 of the file, read in blocks (same checks as ``read_bounded``)."""
    digest = hashlib.sha256()
    for block in _blocks(path):
        digest.update(block)
    return digest.hexdigest()


def outside_folder(path: Path, folder: Path) -> bool:
    """True when ``path`` is a symlink whose target lies outside ``folder``."""
    if not path.is_symlink():
        return False
    # os.path.realpath, unlike Path.resolve, does not raise on a symlink loop (opening the
    # file then fails with a reason)
    target = Path(os.path.realpath(path))
    return not target.is_relative_to(os.path.realpath(folder))


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else UTF-16 with BOM, else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:4096]:
        raise UnreadableDocument("binary data in a text file (NUL bytes); is it really text?")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1252", errors="replace")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    if text.count("\ufffd") + controls > max(8, len(text) // 50):
        raise UnreadableDocument("not readable as UTF-8 or Windows-1252 text")
    return text


def _load_text(data: bytes) -> RawText:
    return RawText(pages=(decode_text(data),))


_HTML_FURNITURE = ("script", "style", "noscript", "nav", "header", "footer", "form", "aside",
                   "template", "iframe", "svg", "button")
_SITE_FURNITURE = ("header", "nav", "footer", "aside")  # say whose site it is; kept as evidence
# Page chrome outside those tags, named by the element's class or id: cookie and consent banners,
# skip links, breadcrumbs, share bars, "was this page useful?" forms. Their words would open the
# document (its title, its first chunk) of a page saved with its site around it.
_CHROME = re.compile(r"(?i)(?:^|[\s_-])(?:cookie\w*|consent|gdpr|skip-?links?|breadcrumbs?|"
                     r"social-?(?:share|media|links)|share-?(?:this|bar|buttons|links|page)|"
                     r"page-?feedback|feedback-?form|page-?rating|back-?to-?top)(?:$|[\s_-])")
_META = {  # <meta> name or property → PageFacts field; the first one found wins
    "og:site_name": "site_name", "application-name": "site_name",
    "og:title": "og_title", "description": "description", "og:description": "description",
    "article:published_time": "published", "datepublished": "published", "dcterms.date": "published",
    "dc.date": "published", "date": "published",
}


def _page_facts(soup) -> PageFacts:
    """The page's <title>, meta tags, first <h1> and site furniture (before it is dropped)."""
    found: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        key = str(tag.get("property") or tag.get("name") or tag.get("itemprop") or "").lower()
        value = " ".join(str(tag.get("content") or "").split())
        if key in _META and value:
            found.setdefault(_META[key], value[:300])
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    h1 = soup.find("h1")
    furniture = [t.get_text(" ", strip=True) for t in soup.find_all(_SITE_FURNITURE)
                 if t.find_parent(_SITE_FURNITURE) is None]
    return PageFacts(
        title=" ".join(title.split())[:300], site_name=found.get("site_name", ""),
        headline=(" ".join(h1.get_text(" ", strip=True).split()) if h1 else "")[:300]
        or found.get("og_title", ""),
        description=found.get("description", ""), published=found.get("published", ""),
        furniture="\n".join(t for t in furniture if t)[:20000])


def _is_chrome(tag) -> bool:
    """A banner, bar or form of the site named as such by its class or id (never <main>,
    <article> or <body>, whatever their class)."""
    if tag.name in ("html", "body", "main", "article"):
        return False
    names = " ".join([*(tag.get("class") or ()), str(tag.get("id") or "")])
    return bool(names.strip()) and bool(_CHROME.search(names))


def _load_html(data: bytes) -> RawText:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "lxml")
    facts = _page_facts(soup)
    for tag in soup(_HTML_FURNITURE):
        tag.decompose()
    for tag in soup.find_all(_is_chrome):
        if not tag.decomposed:
            tag.decompose()
    body = soup.find("main") or soup.find("article") or soup.body or soup
    blocks = []
    for element in body.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "pre",
                                  "blockquote", "dt", "dd"]):
        if element.find_parent(["li", "tr", "p"]) is not None and element.name != "tr":
            continue
        if element.name == "tr":
            cells = [c.get_text(" ", strip=True) for c in element.find_all(["td", "th"])]
            text = "\t".join(cells)
        else:
            text = element.get_text(" ", strip=True)
        if text:
            blocks.append(("• " + text) if element.name == "li" else text)
    if not blocks:
        blocks = [body.get_text("\n", strip=True)]
    return RawText(pages=("\n\n".join(blocks),), facts=facts)


def _load_pdf(data: bytes) -> RawText:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise UnreadableDocument("encrypted PDF (needs a password); save an unlocked copy")
            except UnreadableDocument:
                raise
            except Exception as exc:  # pypdf's DependencyError: AES without `cryptography`
                raise UnreadableDocument(
                    f"encrypted PDF that cannot be opened here ({type(exc).__name__}); "
                    "save an unlocked copy") from exc
        pages = tuple(page.extract_text() or "" for page in reader.pages)
        try:
            labels = tuple(reader.page_labels)
        except Exception:
            labels = tuple(str(i + 1) for i in range(len(pages)))
    except UnreadableDocument:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AttributeError) as exc:
        # Fix (tests): pypdf messages may quote raw bytes of the file (hundreds of characters of
        # escapes); keep the skip reason one short line.
        detail = " ".join(str(exc).split())
        detail = detail if len(detail) <= 80 else detail[:77] + "..."
        raise UnreadableDocument(f"not a readable PDF ({type(exc).__name__}: {detail})") from exc
    except Exception as exc:  # pypdf raises many exception types on hostile input
        raise UnreadableDocument(f"not a readable PDF ({type(exc).__name__})") from exc
    if not pages:
        raise UnreadableDocument("PDF has no pages")
    if not any(p.strip() for p in pages):
        raise UnreadableDocument(
            "PDF has no text layer (scanned or image-only); OCR is not available offline"
        )
    return RawText(pages=pages, page_labels=labels, paged=True)


def _load_docx(data: bytes) -> RawText:
    import io
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UnreadableDocument(f"not a readable .docx file ({type(exc).__name__})") from exc
    except Exception as exc:
        raise UnreadableDocument(f"not a readable .docx file ({type(exc).__name__})") from exc
    from docx.table import Table

    blocks: list[str] = []
    for item in document.iter_inner_content():  # paragraphs and tables in reading order
        if isinstance(item, Table):
            for row in item.rows:
                cells = [cell.text.strip() for cell in row.cells]
                if any(cells):
                    blocks.append("\t".join(cells))
            continue
        text = item.text.strip()
        if not text:
            continue
        style = (item.style.name or "").lower() if item.style is not None else ""
        blocks.append(("• " + text) if "list" in style else text)
    return RawText(pages=("\n\n".join(blocks),))
