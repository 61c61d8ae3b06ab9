"""Sentence (and list item) boundaries of passage text: what an answer may quote."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (or 。；！？) before a capital, quote, bracket or digit, or where a new
# paragraph, list item or heading starts; a single line break (PDF layout) does not end one.
_BOUNDARY = re.compile(
    r"(?P<punct>[.!?][\"”’)]*(?=\s+[\"“‘(A-Z0-9§])|[。；！？])"
    r"|\n(?=\s*\n|\s*(?:#|\(?[0-9a-zA-Z]{1,4}[.)]{1,2}\s|第|Article\b|§|[A-Z][A-Z .]{6,}$))",
    re.M,
)
_ABBREV = re.compile(r"(?:\b(?:No|Nos|Art|Arts|Sec|para|paras|pp|cf|Inc|Co|Stat|Pub|L|U\.S|e\.g|i\.e|v|vs|Dr|Mr|Ms|Mrs|Opp|Exh|Br|Ct|Cir|Supp|F|Cal|App|Dkt|ECF|et al|Fed|Reg|ibid|id)|\b[A-Z])$")
_HEADING_LINE = re.compile(r"^[ \t]*(?:Article|ARTICLE|CHAPTER|SECTION|ANNEX|PART|TITLE)[ \t]+[0-9IVXLC]+[a-z]*[ \t]*$", re.M)
_LONE_MARKER = re.compile(r"\s*\(?[0-9a-zA-Z]{1,4}\)?\.?$")

def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence (or list item) spans of a passage, whitespace-trimmed; PDF line breaks do not end one."""
    cuts = {0, len(text)}
    for m in _BOUNDARY.finditer(text):
        before = text[max(0, m.start() - 12) : m.start()]
        if m.group("punct") and (_ABBREV.search(before) or _LONE_MARKER.fullmatch(text, text.rfind("\n", 0, m.start()) + 1, m.start() + 1)):
            continue
        cuts.add(m.end() if m.group("punct") else m.start() + 1)
    cuts.update(m.end() for m in _HEADING_LINE.finditer(text))
    spans = []
    for s, e in zip(sorted(cuts), sorted(cuts)[1:]):
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        piece = text[s:e]
        # Headings (no closing punctuation, few words) are labels, not statements to quote.
        sentence_like = re.search(r"[.!?;:。；！？\"”’)]$", piece) or len(piece.split()) >= 12
        if e - s >= 12 and sentence_like and not piece.startswith("#") and re.search(r"\w{3}", piece):
            spans.append((s, e))
    return spans
