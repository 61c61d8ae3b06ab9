"""Law XML to a `Document`: e-Gov 法令標準XML (Japanese statutes) and Japanese Law Translation XML (their English renditions).

Both schemas share the element names (Law, LawBody, LawTitle, MainProvision, Part/Chapter/Section, Article with
ArticleCaption/ArticleTitle, Paragraph/ParagraphNum/ParagraphSentence, Item/ItemTitle/ItemSentence, SupplProvision).
Each article becomes a heading line ("第三十条の四　（…）", "Article 3 (Basic Principles)"), each paragraph and item one
line starting with its number ("２　…", "一　…", "(1) …", "(i) …"), so chunking labels every passage with its article
and refines a quote to its paragraph and item.
"""

from __future__ import annotations

import re

from lxml import etree

from .errors import DocumentError
from .types import Document, Heading

# Containers above the article, outermost first, with the element holding their title.
_CONTAINERS = {
    "Part": "PartTitle",
    "Chapter": "ChapterTitle",
    "Section": "SectionTitle",
    "Subsection": "SubsectionTitle",
    "Division": "DivisionTitle",
}
_SKIP = {"TOC", "Rt", "ArticleRange"}  # table of contents; ruby readings
_ITEM_LEVELS = ("Item",) + tuple(f"Subitem{i}" for i in range(1, 11))


def is_law_xml(data: bytes) -> bool:
    """Whether the bytes look like law XML (a <Law> root, possibly inside e-Gov's API envelope)."""
    head = data[:4096]
    return b"<Law " in head or b"<Law>" in head or b"<LawFullText" in head


def load_law_xml(path: str, data: bytes) -> Document:
    """Parse e-Gov / Japanese Law Translation XML; any other XML is a `DocumentError` naming the file."""
    # No DTD loading, no entities, no network: the English files name a DTD (jstatute.dtd) we neither have nor need.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise DocumentError(path, f"malformed XML ({exc})") from None
    law = root if _name(root) == "Law" else next((el for el in root.iter("{*}Law", "Law")), None)
    if law is None:
        raise DocumentError(
            path,
            f"XML with root <{_name(root)}> is not law XML (only e-Gov / Japanese Law Translation <Law> files are supported) — skipped",
        )
    lang = (law.get("Lang") or "").lower() or ("en" if not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", _text(law)[:2000]) else "ja")
    out = _Builder(lang == "ja")
    body = _child(law, "LawBody")
    if body is None:
        raise DocumentError(path, "law XML without a <LawBody> (no provisions to index)")
    title = _text(_child(body, "LawTitle"))
    if title:
        out.heading(title, 1)
    if num := _text(_child(law, "LawNum")):
        out.line(num)
    for el in body:
        name = _name(el)
        if name in ("LawTitle", "TOC") or name in _SKIP:
            continue
        if name == "SupplProvision":
            out.suppl(el)
        else:
            out.block(el, 2)
    text = "\n".join(out.lines)
    if not text.strip():
        raise DocumentError(path, "law XML has no provision text")
    return Document(path, text, "xml", headings=tuple(out.headings), warnings=(f"title:{title}",) if title else ())


class _Builder:
    """Accumulates text lines and headings with their offsets."""

    def __init__(self, japanese: bool) -> None:
        self.ja = japanese
        self.sep = "\u3000" if japanese else " "  # between a number and its text, as the printed law has it
        self.lines: list[str] = []
        self.headings: list[Heading] = []
        self.offset = 0
        self.suppl_prefix = ""

    def line(self, text: str) -> None:
        text = re.sub(r"[ \t\r\n]+", " ", text).strip()
        if text:
            self.lines.append(text)
            self.offset += len(text) + 1

    def heading(self, text: str, level: int) -> None:
        text = re.sub(r"[ \t\r\n]+", " ", text).strip()
        if not text:
            return
        if self.lines:
            self.lines.append("")  # a blank line before each heading ends the sentence above it
            self.offset += 1
        self.headings.append(Heading(self.offset, level, text))
        self.line(text)

    def suppl(self, el: etree._Element) -> None:
        label = _text(_child(el, "SupplProvisionLabel")) or ("附則" if self.ja else "Supplementary Provisions")
        amend = el.get("AmendLawNum")
        self.heading(f"{label}{self.sep}（{amend}）" if amend and self.ja else f"{label} ({amend})" if amend else label, 2)
        # Supplementary articles restart at 1: their headings say so, so they are never taken for the main Article 1.
        self.suppl_prefix = "附則" if self.ja else "Supplementary Provisions, "
        for child in el:
            if _name(child) != "SupplProvisionLabel":
                self.block(child, 3)
        self.suppl_prefix = ""

    def block(self, el: etree._Element, level: int) -> None:
        name = _name(el)
        if name in _SKIP:
            return
        if name in _CONTAINERS:
            self.heading(_text(_child(el, _CONTAINERS[name])), level)
            for child in el:
                if _name(child) != _CONTAINERS[name]:
                    self.block(child, level + 1)
        elif name == "Article":
            self.article(el, level)
        elif name == "Paragraph":
            self.paragraph(el)
        elif name in _ITEM_LEVELS:
            self.item(el, name)
        elif name in ("AmendProvisionSentence", "ParagraphSentence", "Sentence"):
            self.line(_text(el))
        elif len(el):
            # MainProvision, AmendProvision, NewProvision, tables, appendices: their children in order.
            for child in el:
                self.block(child, level)
        else:
            self.line(_text(el))

    def article(self, el: etree._Element, level: int) -> None:
        title = _text(_child(el, "ArticleTitle"))
        caption = _text(_child(el, "ArticleCaption"))
        head = self.suppl_prefix + title + (self.sep + caption if caption else "")
        self.heading(head, level)
        for child in el:
            if _name(child) not in ("ArticleTitle", "ArticleCaption"):
                self.block(child, level + 1)

    def paragraph(self, el: etree._Element) -> None:
        num = _text(_child(el, "ParagraphNum"))
        caption = _text(_child(el, "ParagraphCaption"))
        if caption:
            self.line(caption)
        self.line((num + self.sep if num else "") + self._sentence(_child(el, "ParagraphSentence")))
        for child in el:
            if _name(child) not in ("ParagraphNum", "ParagraphSentence", "ParagraphCaption"):
                self.block(child, 0)

    def item(self, el: etree._Element, name: str) -> None:
        num = _text(_child(el, f"{name}Title"))
        self.line((num + self.sep if num else "") + self._sentence(_child(el, f"{name}Sentence")))
        for child in el:
            if _name(child) not in (f"{name}Title", f"{name}Sentence"):
                self.block(child, 0)

    def _sentence(self, el: etree._Element | None) -> str:
        """A ParagraphSentence/ItemSentence: its Sentence elements (and table-like Columns) joined."""
        if el is None:
            return ""
        parts = []
        for child in el:
            if _name(child) == "Column":
                parts.append(self.sep.join(_text(s) for s in child if _name(s) == "Sentence") or _text(child))
            else:
                parts.append(_text(child))
        joiner = self.sep if any(_name(c) == "Column" for c in el) else ("" if self.ja else " ")
        return joiner.join(p for p in parts if p) or _text(el)


def _name(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _child(el: etree._Element, name: str) -> etree._Element | None:
    for child in el:
        if _name(child) == name:
            return child
    return None


def _text(el: etree._Element | None) -> str:
    """Visible text of an element, without ruby readings (<Rt>), whitespace runs collapsed."""
    if el is None:
        return ""
    parts: list[str] = []
    # Iterative: a hostile file cannot exhaust the stack (libxml2 also caps nesting at 256 levels).
    stack: list[tuple[etree._Element, bool]] = [(el, False)]
    while stack:
        node, done = stack.pop()
        if done:
            if node is not el and node.tail:
                parts.append(node.tail)
            continue
        if not isinstance(node.tag, str) or _name(node) == "Rt":
            if node is not el and node.tail:
                parts.append(node.tail)
            continue
        if node.text:
            parts.append(node.text)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node))
    return re.sub(r"[ \t\r\n]+", " ", "".join(parts)).strip()
