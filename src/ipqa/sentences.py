"""Sentence (and list item) boundaries of passage text: what an answer may quote.

Linear in the passage length: every pattern below looks at a bounded stretch of text per match, so runs of blank
lines or a long line without punctuation cost once (issue #14). Japanese and Chinese full stops inside 「」『』（）or
quotation marks do not end a sentence (issue #12): a quote never has an unbalanced bracket.
"""

from __future__ import annotations

import re

_CJK_NUM = "〇一二三四五六七八九十百千"
# A Western sentence ends at . ! ? before a capital, quote, bracket, digit or a page marker ("<<page 10>>" in a text
# rendition of a PDF); a CJK one at 。；！？ outside brackets.
_WESTERN_END = re.compile(r"[.!?][\"”’)]*(?=\s+(?:[\"“‘(A-Z0-9§]|<<page\b))")
# In a court's opinion (PDF) a footnote marker follows the full stop: "…from the making of such a copy.6 Nor were the
# copies…". The sentence ends after the marker (a word or a closing bracket before the stop: "547 n.21 (2023)" and
# "section 1.2" end nothing).
_FOOTNOTE_END = re.compile(r"(?:(?<=[A-Za-z]{2})|(?<=[)\]”\"’]))[.!?][\"”’)]*\d{1,3}(?=\s+[\"“‘A-Z])")
# A line break ends a sentence where a blank line, a list item (also a Chinese "（一）"), a heading or a provision follows; a single line break
# (PDF layout) does not. Matched against each line on its own: a pattern run at every newline of the whole text cost
# more per newline the longer the text (runs of blank lines were quadratic).
# A marker's number has at most three digits: a line opening with a year ("2 August\n2025. Given…", "(9th Cir.\n2003)")
# is a PDF line wrapped inside a date, and the sentence goes on.
_LINE_START = re.compile(
    r"[ \t]*(?:#|\(?(?:[0-9]{1,3}[a-zA-Z]?|[a-zA-Z]{1,4})[.)]{1,2}(?:\s|$)|第|Article\b|§|[A-Z][A-Z .]{6,}$"
    rf"|[０-９]{{1,3}}[ \t\u3000]|\*\*[0-9０-９]{{1,3}}\*\*|(?:-[ \t]+)?[{_CJK_NUM}]{{1,4}}(?:の[{_CJK_NUM}]{{1,3}})*[ \t\u3000]|（[{_CJK_NUM}]{{1,4}}）)"
)
# Brackets and quotation marks that hold CJK full stops; counted per line, so one stray bracket cannot swallow a passage.
MAX_QUOTE_CHARS = 3000  # longest piece quoted as one sentence
_CJK_STOPS = re.compile(r"[。；！？]")
_OPENERS = "「『（(〔【《“"
_CLOSERS = "」』）)〕】》”"
_NOT_BRACKET = re.compile(r"[^「」『』（）]+")
_ABBREV = re.compile(r"(?:\b(?:No|Nos|Art|Arts|Sec|para|paras|pp|cf|Inc|Co|Stat|Pub|L|U\.S|e\.g|i\.e|v|vs|Dr|Mr|Ms|Mrs|Opp|Exh|Br|Ct|Cir|Supp|F|Cal|App|Dkt|ECF|et al|Fed|Reg|ibid|id|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)|\b[A-Z])$")
_HEADING_LINE = re.compile(
    r"[ \t]*(?:(?:Article|ARTICLE|CHAPTER|SECTION|ANNEX|PART|TITLE)[ \t]+[0-9IVXLC]+[a-z]*(?:-[0-9]+)?(?:[ \t]+\([^)\n]{1,80}\))?"
    rf"|(?:附[ \t\u3000]*則)?第[{_CJK_NUM}0-9]+[条章節节款編编](?:の[{_CJK_NUM}]+)*(?:[ \t\u3000]*[（(][^）)\n]{{1,60}}[）)])?)[ \t\u3000]*"
)
# A PDF line that starts with a reference ("Article 12 have deposited…", "§ 107 of this title", "Article 53.") after a line that stopped
# mid-sentence (on a lower-case word or a comma) continues that sentence: the layout wrapped it, no provision starts.
_WRAPPED_REFERENCE = re.compile(r"[ \t]*(?:Article|§)[ \t]*\d[\w()\-]*(?:[.,;:][ \t]*$|,?[ \t]+[a-z])")
_OPEN_LINE_END = re.compile(r"[a-z,]$")
# A page break (the blank line a PDF's pages are joined by, with what was left of its line numbers) inside a sentence:
# the line above stopped mid-sentence, on a lower-case word or a comma, and the line below goes on in lower case
# ("…could have been bought at a bookstore \n\n \nwas reasonably necessary…"). A list item ("b) plants…") still starts one.
_PAGE_BREAK_INSIDE = re.compile(r"(?<=[a-z,])[ \t]*\n(?:[ \t]*\n)+(?=[ \t]*[a-z])")
# A line of capitals alone ("ENTRY INTO FORCE", "B. THE COPIES USED TO BUILD A CENTRAL LIBRARY.") is a heading: the
# sentence below it starts after it (else it would be quoted with its heading, or dropped with it as a title).
_CAPITALS_LINE = re.compile(r"[ \t]*(?:[A-Z0-9]{1,4}\.[ \t]+)?[A-Z][A-Z’'\-]+(?:[ \t]+[A-Z’'\-]+)+\.?[ \t]*")
_LONE_MARKER = re.compile(r"\s*\(?(?:[0-9]{1,3}[a-zA-Z]?|[a-zA-Z]{1,4})\)?\.?")
_TWELVE_WORDS = re.compile(r"(?:\S+\s+){11}\S")  # looks no further than the 12th word (str.split() would copy them all)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence (or list item) spans of a passage, whitespace-trimmed; PDF line breaks do not end one."""
    cuts = {0, len(text)}
    for m in _WESTERN_END.finditer(text):
        before = text[max(0, m.start() - 12) : m.start()]
        if _ABBREV.search(before) or _lone_marker(text, m.start()):
            continue
        cuts.add(m.end())
    for m in _FOOTNOTE_END.finditer(text):
        if not _ABBREV.search(text[max(0, m.start() - 12) : m.start()]):
            cuts.add(m.end())
    cuts.update(cjk_sentence_ends(text))
    inside = {i for m in _PAGE_BREAK_INSIDE.finditer(text) for i in range(m.start(), m.end())}  # the breaks' characters
    pos, previous = 0, ""
    for line in text.split("\n"):
        wrapped = _WRAPPED_REFERENCE.match(line) is not None and _OPEN_LINE_END.search(previous.rstrip()) is not None
        if pos and (not line.strip() and pos not in inside or _LINE_START.match(line)) and not wrapped:
            cuts.add(pos)  # a blank line, or one that starts an item, a heading or a provision
        if _HEADING_LINE.fullmatch(line) or _CAPITALS_LINE.fullmatch(line):
            cuts.add(pos + len(line))
        pos += len(line) + 1
        previous = line
    spans = []
    ordered = sorted(cuts)
    for s, e in (strip_span(text, a, b) for a, b in zip(ordered, ordered[1:])):
        if e - s >= 12 and _quotable(text[s:e]):
            spans.append((s, e))
    return spans


def strip_span(text: str, s: int, e: int) -> tuple[int, int]:
    """The span [s, e) of `text` without leading and trailing whitespace."""
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def _lone_marker(text: str, end: int) -> bool:
    """Whether the line up to `end` holds only a list marker ('1.', '(a).'): its full stop ends nothing."""
    window = max(0, end - 16)
    line_start = text.rfind("\n", window, end) + 1
    if line_start == 0 and window > 0:
        return False  # more than 16 characters since the line began: not a lone marker (and no scan back over a long line)
    return _LONE_MARKER.fullmatch(text, line_start, end + 1) is not None


def cjk_sentence_ends(text: str) -> list[int]:
    """Ends of CJK sentences: after 。；！？ where no bracket or quotation opened on the same line is still open."""
    out: list[int] = []
    depth, last = 0, 0
    for m in _CJK_STOPS.finditer(text):
        start = m.start()
        line = text.rfind("\n", last, start)
        if line >= 0:
            depth, last = 0, line + 1
        # str.count runs in C over the stretch since the previous stop: linear, and fast for dense brackets.
        depth = max(0, depth + sum(text.count(ch, last, start) for ch in _OPENERS) - sum(text.count(ch, last, start) for ch in _CLOSERS))
        if depth == 0:
            out.append(m.end())
        last = m.end()
    return out


def _quotable(piece: str) -> bool:
    """Statements, not labels: headings (no closing punctuation, few words) are not quoted."""
    if len(piece) > MAX_QUOTE_CHARS:
        return False  # no sentence to quote: a run without sentence ends (passages are capped at 4,000 characters)
    if piece.startswith("#") or _HEADING_LINE.fullmatch(piece) or not re.search(r"\w{3}", piece[:400]):
        return False
    if not _balanced(piece):
        return False  # a fragment (a passage boundary cut a long sentence inside a bracket): not a whole sentence
    ends = re.search(r"[.!?;:。；！？\"”’)）」]$", piece[-2:])
    # A CJK list item ("二 情報解析（…）の用に供する場合") often has no full stop; a CJK heading is short.
    return bool(ends) or _TWELVE_WORDS.match(piece) is not None or len(_CJK.findall(piece[:40])) >= 10


def _balanced(piece: str) -> bool:
    """Whether every 「『（ in the piece closes, in order, within it (nesting up to 8 deep; deeper counts as unbalanced)."""
    brackets = _NOT_BRACKET.sub("", piece)
    # Innermost pairs are adjacent once the text between is gone: peel them in C (a Python loop per character of
    # CJK text costs more per character the longer the text, through allocation).
    for _ in range(8):
        if not brackets:
            return True
        peeled = brackets.replace("「」", "").replace("『』", "").replace("（）", "")
        if peeled == brackets:
            return False
        brackets = peeled
    return not brackets
