"""Loaders: PDF, HTML, Markdown, plain text and law XML (lawxml.py) to a `Document` with offsets, pages, headings."""

from __future__ import annotations

import os
import re
import stat
import warnings as pywarnings
from pathlib import Path
from typing import BinaryIO

from bs4 import BeautifulSoup, Comment, NavigableString, Tag, XMLParsedAsHTMLWarning

from .errors import DocumentError
from .types import Document, Heading

SUPPORTED = {".pdf": "pdf", ".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown", ".txt": "text", ".xml": "xml"}

_DROP_TAGS = {"script", "style", "noscript", "template", "nav", "header", "footer", "iframe", "svg", "form", "button", "head", "object", "embed"}
_BLOCK_TAGS = {
    "p", "div", "li", "tr", "table", "tbody", "thead", "section", "article", "main", "aside", "blockquote",
    "pre", "dt", "dd", "dl", "ul", "ol", "figure", "figcaption", "hr", "body", "caption", "address",
} | {f"h{i}" for i in range(1, 7)}
# Page furniture marked by ARIA role or by class/id rather than by <nav>/<header>/<footer> (the CAC's page of China's
# Generative AI Measures: <div class="top-nav">, <div class="header">, <div class="right-nav">): its link labels
# ("首 页", "微信") became one-line passages that BM25 ranked above the articles for any question naming the measures.
# A class or id counts when one of its words (split at - and _ and before a capital: "btnCheck") is one of these: the
# same page's breadcrumb ("current-path": "当前位置：首页>正文") and buttons ("【打印】【纠错】") were its first passages.
_FURNITURE_ROLES = {"navigation", "banner", "contentinfo", "search"}
_FURNITURE_WORDS = {
    "nav", "navbar", "menu", "header", "footer", "breadcrumb", "breadcrumbs", "sidebar", "toolbar", "share", "path", "print", "btn", "button",
}
# EUR-Lex marks structure with classes rather than <h*> tags.
_CLASS_LEVELS = {"oj-doc-ti": 1, "oj-ti-section-1": 2, "oj-ti-grseq-1": 2, "oj-ti-art": 3, "oj-ti-section-2": 3, "oj-sti-art": 4}
# The heading's text is taken to the line end and trimmed in Python: a lazy `(.+?)[ \t#]*$` backtracks
# quadratically over a heading followed by 100k spaces.
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+([^\n]*)", re.M)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0d-\x1f]")  # control characters other than \t \n \f
_FIRST_LINE = re.compile(r"([^\n]{3,200})\n\s*\n")
_CHILD, _FLUSH, _SPACE = 0, 1, 2  # work items of the iterative HTML walk


def supported(path: Path) -> bool:
    """Whether ipqa has a loader for this file's type."""
    return path.suffix.lower() in SUPPORTED


def open_regular(path: Path) -> BinaryIO:
    """Open a file for reading only if it is a regular file (never blocks on a FIFO, never reads a device)."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then tells what was really opened.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    except PermissionError:
        raise DocumentError(str(path), "permission denied") from None
    except OSError as exc:
        raise DocumentError(str(path), f"cannot read file ({exc.strerror or exc})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise DocumentError(str(path), f"not a regular file ({file_kind(mode)}) — skipped")
    return os.fdopen(fd, "rb")


def file_kind(mode: int) -> str:
    """'FIFO', 'socket', 'device', 'folder' or 'special file' for a non-regular st_mode."""
    for test, name in ((stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "device"), (stat.S_ISBLK, "device"), (stat.S_ISDIR, "folder")):
        if test(mode):
            return name
    return "special file"


def read_file(path: Path) -> bytes:
    """All bytes of a regular file, read once (the caller hashes the same bytes it parses)."""
    try:
        with open_regular(path) as handle:
            return handle.read()
    except OSError as exc:
        raise DocumentError(str(path), f"cannot read file ({exc.strerror or exc})") from None


def load(path: Path, data: bytes | None = None) -> Document:
    """Load one file (or its bytes, already read); raise `DocumentError` naming the file and the reason."""
    kind = SUPPORTED.get(path.suffix.lower())
    if kind is None:
        raise DocumentError(str(path), f"unsupported file type '{path.suffix or '(none)'}' (supported: {', '.join(sorted(SUPPORTED))})")
    if data is None:
        data = read_file(path)
    if not data.strip():
        raise DocumentError(str(path), "empty file (no text)")
    try:
        if kind == "pdf":
            doc = _load_pdf(path, data)
        elif kind == "xml":
            doc = _load_xml(path, data)
        else:
            text, warnings = _decode(path, data)
            doc = _load_html(path, text, warnings) if kind == "html" else _load_plain(path, text, kind, warnings)
    except DocumentError:
        raise
    except RecursionError:
        raise DocumentError(str(path), "structure nested too deeply to parse") from None
    except MemoryError:
        raise DocumentError(str(path), "too large to parse in memory") from None
    except Exception as exc:  # any parser failure is this file's failure, never the batch's
        raise DocumentError(str(path), f"cannot be parsed ({type(exc).__name__}: {exc})") from None
    if not doc.text.strip():
        raise DocumentError(str(path), "no extractable text")
    return doc


def _load_xml(path: Path, data: bytes) -> Document:
    from .lawxml import is_law_xml, load_law_xml

    if not is_law_xml(data):
        raise DocumentError(str(path), "XML that is not law XML (only e-Gov / Japanese Law Translation <Law> files are read) — skipped")
    return load_law_xml(str(path), data)


def _decode(path: Path, data: bytes) -> tuple[str, tuple[str, ...]]:
    # UTF-16 files (Windows "Unicode" text) are full of NUL bytes but are text: trust their BOM.
    for bom, encoding in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(encoding), (f"decoded as {encoding.upper()}, not UTF-8",)
            except UnicodeDecodeError:
                raise DocumentError(str(path), f"starts with a {encoding.upper()} byte-order mark but does not decode as {encoding.upper()}") from None
    if b"\x00" in data:  # anywhere in the file, not only at its start
        raise DocumentError(str(path), "binary file, not text (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig"), ()
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.chaos > 0.3:
        raise DocumentError(str(path), "not UTF-8 and no other text encoding fits (binary file?)")
    return str(best), (f"decoded as {best.encoding}, not UTF-8",)


def _load_plain(path: Path, text: str, kind: str, warnings: tuple[str, ...]) -> Document:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _control_ratio(text) > 0.05:
        raise DocumentError(str(path), "binary file, not text (too many control characters)")
    if kind == "markdown":
        # Blank out comments (provenance notes) but keep every offset in place.
        text = _blank_comments(text)
        headings = tuple(Heading(m.start(), len(m.group(1)), title) for m in _MD_HEADING.finditer(text) if (title := _md_title(m.group(2))))
        text = _blank_inline_tags(text)
    else:
        headings = tuple(_text_headings(text))
    return Document(str(path), text, kind, headings=headings, warnings=warnings)


def _blank_comments(text: str) -> str:
    """Blank out `<!-- -->` comments keeping every offset; one pass (an unclosed `<!--` ends the search)."""
    parts, pos = [], 0
    while (start := text.find("<!--", pos)) >= 0 and (end := text.find("-->", start + 4)) >= 0:
        end += 3
        parts.append(text[pos:start])
        parts.append(re.sub(r"[^\n]", " ", text[start:end]))
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


# Inline HTML that Markdown passes through is markup, not text: a reader of the rendered page sees no "<sup>" (the WTO's
# TRIPS text as Markdown sets each footnote inline as "<sup> 1) For the purpose of this Article, …</sup>", and answers
# quoted the tags). Only these inline formatting tags are blanked: "<" in running text ("<<page 3>>", "x < y") stays.
_INLINE_TAG = re.compile(r"</?(?:sup|sub|span|small|b|i|u|em|strong|abbr|br)\b[^<>\n]{0,200}/?>", re.I)


def _md_title(line: str) -> str:
    """A Markdown heading's title: up to a footnote set in it ("…BORDER MEASURES<sup> 1) Where a Member…"), untagged."""
    return _INLINE_TAG.sub("", re.split(r"<sup\b", line, maxsplit=1, flags=re.I)[0]).rstrip(" \t#").strip()


def _blank_inline_tags(text: str) -> str:
    """Blank out inline HTML tags (not their content), keeping every offset in place."""
    return _INLINE_TAG.sub(lambda m: " " * len(m.group(0)), text)


def _control_ratio(text: str) -> float:
    return len(_CONTROL.findall(text)) / max(1, len(text))  # the whole text, not a sample


def _text_headings(text: str) -> list[Heading]:
    """Short title-like lines set off by blank lines count as headings in plain text."""
    out = []
    # From the first non-blank character: a leading `\s*` would backtrack over a sea of leading spaces.
    first = _FIRST_LINE.match(text, len(text) - len(text.lstrip()))
    if first and not re.search(r"[.;,]$", first.group(1).strip()) and len(first.group(1).split()) <= 30:
        out.append(Heading(first.start(1), 1, first.group(1).strip()))
    for m in re.finditer(r"(?:^|\n\n)([^\n]{3,100})\n\n", text):
        if out and m.start(1) == out[0].start:
            continue
        line = m.group(1).strip()
        if line and not re.search(r"[.;:,]$", line) and len(line.split()) <= 14:
            out.append(Heading(m.start(1), 2, line))
    return out


def _load_html(path: Path, html: str, warnings: tuple[str, ...]) -> Document:
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(html, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    blocks: list[tuple[str, int]] = []  # (text, heading level or 0)
    current: list[str] = []

    def flush(level: int = 0) -> None:
        line = re.sub(r"\s+", " ", "".join(current)).strip()
        current.clear()
        if line:
            blocks.append((line, level))

    # An explicit stack, not recursion: 1,000 nested <div> or 1,200 unclosed <font> (a tree that deep)
    # must not exhaust Python's call stack. Items: (CHILD, node, in_row), (FLUSH, level), (SPACE, None).
    stack: list[tuple[int, object, bool | int]] = []

    def push_children(node: Tag, in_row: bool) -> None:
        stack.extend((_CHILD, child, in_row) for child in reversed(list(node.children)))

    push_children(soup.body or soup, False)
    while stack:
        op, child, arg = stack.pop()
        if op == _FLUSH:
            flush(int(arg))
            continue
        if op == _SPACE:
            current.append(" ")
            continue
        in_row = bool(arg)
        if isinstance(child, Comment):
            continue
        if isinstance(child, NavigableString):
            current.append(str(child))
            continue
        if not isinstance(child, Tag) or child.name in _DROP_TAGS or _furniture(child):
            continue
        if child.name == "br":
            flush()
        elif child.name in ("tr", "table", "tbody", "thead"):
            # A table row is one line: "(a)" and its text stay together.
            flush()
            stack.append((_FLUSH, None, 0))
            push_children(child, child.name == "tr")
        elif in_row and child.name in _BLOCK_TAGS:
            stack.append((_SPACE, None, 0))
            push_children(child, in_row)
        elif child.name in _BLOCK_TAGS or _heading_level(child):
            flush()
            stack.append((_FLUSH, None, _heading_level(child)))
            push_children(child, False)
        else:
            if child.name in ("td", "th"):
                stack.append((_SPACE, None, 0))
            push_children(child, in_row)
    flush()
    parts: list[str] = []
    headings: list[Heading] = []
    offset = 0
    for line, level in blocks:
        if level:
            headings.append(Heading(offset, level, line))
        parts.append(line)
        offset += len(line) + 1
    text = "\n".join(parts)
    if not text.strip():
        raise DocumentError(str(path), "HTML has no visible text (only scripts, styles or markup)")
    if title:
        warnings = warnings + (f"title:{title}",)
    return Document(str(path), text, "html", headings=tuple(headings), warnings=warnings)


def _furniture(tag: Tag) -> bool:
    """Navigation, a banner, a footer or share buttons, by ARIA role or by a word of a class or id; a link that runs a
    script (a page's "【打印】" print button, "javascript:window.print()")."""
    if tag.get("role") in _FURNITURE_ROLES:
        return True
    if tag.name == "a" and str(tag.get("href") or "").strip().lower().startswith("javascript:"):
        return True
    names = [*tag.get_attribute_list("class"), tag.get("id") or ""]
    return any(
        word.lower() in _FURNITURE_WORDS for name in names if isinstance(name, str) for word in re.split(r"[-_]|(?<=[a-z])(?=[A-Z])", name)
    )


def _heading_level(tag: Tag) -> int:
    if re.fullmatch(r"h[1-6]", tag.name):
        return int(tag.name[1])
    for cls in tag.get("class") or ():
        if cls in _CLASS_LEVELS:
            return _CLASS_LEVELS[cls]
    return 0


def _load_pdf(path: Path, data: bytes) -> Document:
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    if b"%PDF-" not in data[:1024]:
        raise DocumentError(str(path), "not a PDF (no %PDF header — an HTML page or a failed download saved as .pdf?)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(str(path), "encrypted PDF (password required)")
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AssertionError, IndexError) as exc:
        raise DocumentError(str(path), f"corrupt or unreadable PDF ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # pypdf raises assorted errors on damaged files
        if "crypt" in str(exc).lower():
            raise DocumentError(str(path), "encrypted PDF (cannot be decrypted here)") from None
        raise DocumentError(str(path), f"corrupt or unreadable PDF ({type(exc).__name__}: {exc})") from None
    if not pages:
        raise DocumentError(str(path), "PDF has no pages")
    pages = _strip_page_furniture(pages)
    if sum(len(p.strip()) for p in pages) < 20:
        raise DocumentError(str(path), "no extractable text (scanned PDF?) — OCR needed")
    starts, parts, offset = [], [], 0
    for page in pages:
        starts.append(offset)
        parts.append(page)
        offset += len(page) + 2
    text = "\n\n".join(parts)
    title = ""
    try:
        title = str((reader.metadata or {}).get("/Title") or "")
    except Exception:  # metadata of damaged files is optional
        pass
    return Document(str(path), text, "pdf", page_starts=tuple(starts), warnings=(f"title:{title}",) if title else ())


def _strip_page_furniture(pages: list[str]) -> list[str]:
    """Drop court-paper line numbers and header/footer lines repeated on most pages: the same line, or the same words
    whatever their numbers and order as lines at the top or bottom of most pages (a page number, or a running head
    alternating sides on facing pages, and set above the footnotes of a page that has some: the Official Journal's
    "EN OJ L, 12.7.2024" / "OJ L, 12.7.2024 EN" and "62/144 ELI: …" / "ELI: … 63/144", a court filing's
    "Case 3:24-cv-05417-WHA Document 231 Filed 06/23/25 Page 3 of 32")."""
    split = [p.replace("\r", "").split("\n") for p in pages]
    counts: dict[str, int] = {}
    for lines in split:
        edges = {_furniture_key(ln) for ln in lines[:FURNITURE_EDGE] + lines[-FURNITURE_EDGE:]}
        for line in {ln.strip() for ln in lines[:40] + lines[-5:]} | edges:
            counts[line] = counts.get(line, 0) + 1
    repeated = {ln for ln, c in counts.items() if ln and len(pages) >= 4 and c >= 0.6 * len(pages) and not ln.isdigit()}
    out = []
    for lines in split:
        kept = [
            ln for ln in lines if not re.fullmatch(r"\s*\d{1,2}\s*", ln) and ln.strip() not in repeated and _furniture_key(ln) not in repeated
        ]
        out.append("\n".join(kept).strip("\n"))
    return out


FURNITURE_EDGE = 3  # lines at a page's top and bottom counted by their words alone ("Article 16" heads a few pages)


def _furniture_key(line: str) -> str:
    """A line's words in order of spelling, its numbers as "#" (a key no line of text equals: it starts with "\0")."""
    words = re.sub(r"\d+", "#", line).split()
    return "\0" + " ".join(sorted(words)) if any(re.search(r"[^\W\d_]", w) for w in words) else ""
