"""Where ipqa's own `[n]` markers sit in an answer's text: a quoted document may contain look-alikes
("[3]", "” [1]") that must stay quoted text, never become citations."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .types import Citation

_LOOK_ALIKE = re.compile(r"\[(\d+)\]")


def marker_spans(text: str, citations: Sequence[Citation]) -> list[tuple[int, int, int]]:
    """(start, end, n) of each marker ipqa wrote, in text order.

    An extractive citation's marker is the one right after its own quote (“quote” [n]), found by position;
    text quoted from a document is never searched for markers. For engine-written text (no quote in it),
    a `[n]` of a known citation outside every quoted span is a marker."""
    spans: list[tuple[int, int, int]] = []
    quoted: list[tuple[int, int]] = []
    unplaced = []
    cursor = 0
    for c in sorted(citations, key=lambda c: c.n):
        if not c.quote:
            unplaced.append(c)
            continue
        anchor = f"“{c.quote}” [{c.n}]"
        at = text.find(anchor, cursor)
        if at < 0:
            at = text.find(anchor)
        if at < 0:
            unplaced.append(c)
            continue
        start = at + len(anchor) - len(f"[{c.n}]")
        quoted.append((at, start))
        spans.append((start, start + len(f"[{c.n}]"), c.n))
        cursor = start
    if unplaced:
        wanted = {c.n for c in unplaced}
        taken = {s for s, _, _ in spans}
        for m in _LOOK_ALIKE.finditer(text):
            n = int(m.group(1))
            if n in wanted and m.start() not in taken and not any(a <= m.start() < b for a, b in quoted):
                spans.append((m.start(), m.end(), n))
    return sorted(spans)


def plain_text(text: str, citations: Sequence[Citation]) -> str:
    """The answer for a terminal: ipqa's markers as `[n]`, a document's look-alikes escaped as `\\[n]`."""
    out, pos = [], 0
    for start, end, _n in marker_spans(text, citations):
        out.append(_LOOK_ALIKE.sub(r"\\[\1]", text[pos:start]))
        out.append(text[start:end])
        pos = end
    out.append(_LOOK_ALIKE.sub(r"\\[\1]", text[pos:]))
    return "".join(out)
