"""Structure-aware chunking: split along Articles/§/Recitals/headings, then by size with overlap."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .sentences import cjk_sentence_ends, strip_span
from .types import Document, Passage

CountTokens = Callable[[str], int]

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10**4, "萬": 10**4}
_CN_NUM = "零〇一二两三四五六七八九十百千"
# Japanese branch articles and items: 第三十条の四, 第七号の二 (also with Arabic or full-width digits).
_JA_NUM = rf"[{_CN_NUM}0-9０-９]+"

# Structural labels, recognised in headings and, for text without headings, at line starts.
_ARTICLE = re.compile(r"^(?:Article|Art\.)\s+(\d+(?:[A-Za-z]{1,6}\b)?(?:[-–]\d+)?|[IVXLC]+\b)\.?\s*(.*)$", re.I)
_SECTION = re.compile(r"^(?:§{1,2}|Sec\.|Section)\s*(\d+[A-Za-z]?(?:-\d+)?)\.?\s*(.*)$", re.I)
_CN_ARTICLE = re.compile(rf"^第({_JA_NUM})条((?:の{_JA_NUM})*)")
_CN_CONTAINER = re.compile(rf"^第([{_CN_NUM}]+)([章节節款编編])\s*(.*)$")
# Supplementary provisions (附則) number their articles from 1 again: never labelled as the main articles.
_SUPPL = re.compile(r"^(?:附\s*則|Supplementary Provisions?\b)[,\s]*(.*)$", re.I)
_CONTAINER = re.compile(r"^(CHAPTER|PART|SECTION|TITLE|ANNEX|APPENDIX|Chapter|Part|Annex|Appendix)\s+([0-9IVXLC]+[A-Z]?)\b\.?\s*(.*)$")
_LINE_ARTICLE = re.compile(rf"^[ \t]*(?:(?:Article|ARTICLE)[ \t]+\d+[A-Za-z]?[ \t]*$|第[{_CN_NUM}]+条(?:の[{_CN_NUM}]+)*(?=[ \t\u3000]))", re.M)
_LINE_CONTAINER = re.compile(r"^[ \t]*(?:CHAPTER|SECTION|ANNEX|PART|TITLE)[ \t]+[0-9IVXLC]+[ \t]*$", re.M)
_RECITAL_LINE = re.compile(r"^[ \t]*\((\d{1,3})\)[ \t]", re.M)
_WHEREAS = re.compile(r"^[ \t]*Whereas:?[ \t]*$", re.M | re.I)
_ADOPTED = re.compile(r"^[ \t]*HAVE ADOPTED TH", re.M)
_CAPS_LINE = re.compile(r"^[ \t]*([A-Z][A-Z0-9 ,.'’\-–:;()]{4,80})[ \t]*$", re.M)
_SENTENCE_END = re.compile(r"(?<=[.!?;:])[\"”’)]*\s+")  # CJK ends come from sentences.cjk_sentence_ends (not inside 「」（）)


def cn_number(text: str) -> int:
    """Chinese/Japanese numeral to int: 二十四 -> 24, 一百零五 -> 105, 三万 -> 30000, 二〇二三 -> 2023, also 24 or ２４.

    One reader for article labels, the answerability stage's figures and the eval's key facts (metrics.py)."""
    text = unicodedata.normalize("NFKC", text)
    if text.isdigit():
        return int(text)
    if not any(ch in _CN_UNITS for ch in text):  # digit by digit, as years are written (二〇二三)
        return int("".join(str(_CN_DIGITS[ch]) for ch in text if ch in _CN_DIGITS) or 0)
    total = section = digit = 0
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in ("万", "萬"):
            total += (section + digit) * 10**4
            section = digit = 0
        elif ch in _CN_UNITS:
            section += (digit or 1) * _CN_UNITS[ch]
            digit = 0
    return total + section + digit


def ja_number(text: str) -> str:
    """A Japanese article or item number as cited in English: 三十の四 / 30の4 -> '30-4'."""
    return "-".join(str(cn_number(part)) for part in text.split("の") if part)


def kanji_number(n: int) -> str:
    """Int to a Japanese numeral as statutes write it (2 -> 二, 30 -> 三十, 124 -> 百二十四)."""
    digits = "〇一二三四五六七八九"
    if n == 0:
        return digits[0]
    out = ""
    for value, unit in ((1000, "千"), (100, "百"), (10, "十")):
        q, n = divmod(n, value)
        if q:
            out += ("" if q == 1 else digits[q]) + unit
    return out + (digits[n] if n else "")


def structural_label(heading: str) -> tuple[str, bool] | None:
    """Label of a structural heading ('Article 53', '§ 107', 'Chapter V') and whether it is a container."""
    text = re.sub(r"^#+\s*", "", heading).strip()
    text = re.sub(r"\s+", " ", text)
    if m := _SUPPL.match(text):
        inner = structural_label(m.group(1)) if m.group(1) else None
        if inner and not inner[1]:
            return suppl_label(inner[0]), False
        return None
    if m := _CN_ARTICLE.match(text):
        return f"Article {ja_number(m.group(1) + m.group(2))} ({m.group(0)})", False
    if m := _CN_CONTAINER.match(text):
        kind = {"章": "Chapter", "节": "Section", "编": "Part"}[m.group(2)]
        return f"{kind} {cn_number(m.group(1))} ({m.group(0)})", True
    if m := _ARTICLE.match(text):
        return f"Article {m.group(1)}", False
    if m := _SECTION.match(text):
        return f"§ {m.group(1)}", False
    if m := _CONTAINER.match(text):
        return f"{m.group(1).title()} {m.group(2)}", True
    return None


def suppl_label(label: str) -> str:
    """'Article 1 (第一条)' of the supplementary provisions -> 'Suppl. Article 1 (附則第一条)'.

    References to "Article 1" mean the main provisions, so lexical.refs() ignores labels starting 'Suppl.'."""
    return "Suppl. " + label.replace("(第", "(附則第")


@dataclass(frozen=True)
class Section:
    """A structural unit of a document: label, title, and its character span."""

    label: str
    title: str
    start: int
    end: int
    within: str = ""  # the titles of the parts, chapters and sections it sits in ("Patents" for TRIPS Article 33)


# Nesting of containers, outermost first: a chapter closes the sections of the one before, a part its chapters.
_RANKS = {"Part": 0, "Title": 0, "Annex": 0, "Appendix": 0, "Chapter": 1, "Section": 2, "編": 0, "章": 1, "節": 2, "节": 2, "款": 3}


_BARE_SECTION = re.compile(r"SECTION\s+\d+")


def _plain_title(title: str) -> str:
    """A container's title without a leading dash ("— DURATION OF COPYRIGHT"); '' for what is no title (a repealed
    section's note, "[§ 601. Repealed…]"). (A footnote set in a Markdown heading is left out by the loader.)"""
    title = title.strip().lstrip("—–-:. ").strip()
    return "" if title.startswith(("[", "§")) else title[:120]


def _container_title(heading: str, label: str) -> tuple[int, str]:
    """A container's rank and the title on its own heading line ("CHAPTER V GENERAL-PURPOSE AI MODELS", "第四節　保護期間")."""
    bare = re.sub(r"\s+", " ", re.sub(r"^#+\s*", "", heading)).strip()
    if m := _CN_CONTAINER.match(bare):
        return _RANKS[m.group(2)], m.group(3).strip()
    m = _CONTAINER.match(bare)
    return _RANKS.get(label.split()[0], 2), (m.group(3).strip() if m else "")


def sections(doc: Document) -> list[Section]:
    """Split the document along its own structure; text before the first boundary is 'Preamble'."""
    text = doc.text
    marks: list[tuple[int, str, bool]] = []  # (offset, heading text, is explicit heading)
    for h in doc.headings:
        marks.append((h.start, h.text, True))
    for m in _LINE_ARTICLE.finditer(text):
        marks.append((m.start(), text[m.start() : _line_end(text, m.start())].strip(), False))
    for m in _LINE_CONTAINER.finditer(text):
        marks.append((m.start(), m.group().strip(), False))
    if doc.file_type == "pdf":
        for m in _CAPS_LINE.finditer(text):
            if sum(c.isalpha() for c in m.group(1)) >= 6:
                marks.append((m.start(), m.group(1).strip(), False))
    marks.extend(_recital_marks(text))
    marks = _dedupe(sorted(marks, key=lambda m: m[0]), text)
    out: list[Section] = []
    if not marks or marks[0][0] > 0:
        out.append(Section("Preamble", "", 0, marks[0][0] if marks else len(text)))
    i = 0
    in_suppl = False  # under a 附則 heading (Markdown renderings of Japanese statutes)
    # The open containers' titles by rank: what an article's words do not say but its place does (TRIPS Article 33,
    # "The term of protection available shall not end before … twenty years", sits in Section 5, "Patents").
    open_: dict[int, str] = {}
    while i < len(marks):
        start, heading, _ = marks[i]
        label_info = structural_label(heading)
        label = label_info[0] if label_info else (heading if len(heading) <= 80 else heading[:77] + "…")
        bare = re.sub(r"^#+\s*", "", heading).strip()
        if label_info and label_info[1]:
            in_suppl = False
        elif not label_info and (m := _SUPPL.match(bare)) and not m.group(1):
            in_suppl = True
            open_ = {}  # supplementary provisions stand outside the chapters
        elif label_info and in_suppl and not label.startswith("Suppl."):
            label = suppl_label(label)
        title = ""
        j = i + 1
        # A plain heading right after an Article heading is that article's title.
        if label_info and j < len(marks) and not structural_label(marks[j][1]) and not _recital(marks[j][1]):
            gap = text[_line_end(text, start) : marks[j][0]]
            if not gap.strip():
                title = marks[j][1]
                j += 1
        end = marks[j][0] if j < len(marks) else len(text)
        if rec := _recital(heading):
            label = f"Recital {rec}"
        title = re.sub(r"^#+\s*", "", title).strip()
        # TRIPS's "SECTION 5" heading (labelled § 5, as a US section would be) opens a section of articles too.
        if label_info and (label_info[1] or _BARE_SECTION.fullmatch(bare)):
            rank, own = _container_title(heading, "Section" if not label_info[1] else label)
            open_ = {r: t for r, t in open_.items() if r < rank} | {rank: _plain_title(title or own)}
        # The innermost titled container: the most specific ("Patents", not also Part II's "Standards concerning the
        # availability, scope and use of intellectual property rights", whose words every article of it would share).
        within = next((t for _, t in sorted(open_.items(), reverse=True) if t), "")
        out.append(Section(label, title, start, end, within))
        i = j
    return [s for s in out if text[s.start : s.end].strip()]


def _recital_marks(text: str) -> list[tuple[int, str, bool]]:
    """EU recitals '(105) ...' between 'Whereas:' and 'HAVE ADOPTED THIS ...'."""
    w, a = _WHEREAS.search(text), _ADOPTED.search(text)
    if not w or not a or a.start() < w.end():
        return []
    marks, last = [], 0
    for m in _RECITAL_LINE.finditer(text, w.end(), a.start()):
        # Footnotes "(1) OJ C ..." also look like recitals; recitals count up one by one.
        if int(m.group(1)) == last + 1:
            last += 1
            marks.append((m.start(), f"\x00recital {m.group(1)}", False))
    marks.append((a.start(), "Enacting terms", False))
    return marks


def _recital(heading: str) -> str | None:
    m = re.match(r"\x00recital (\d+)", heading)
    return m.group(1) if m else None


def _line_end(text: str, start: int) -> int:
    end = text.find("\n", start)
    return len(text) if end < 0 else end


def _dedupe(marks: list[tuple[int, str, bool]], text: str) -> list[tuple[int, str, bool]]:
    """One mark per line; explicit headings win over pattern matches."""
    by_line: dict[int, tuple[int, str, bool]] = {}
    for mark in marks:
        line_start = text.rfind("\n", 0, mark[0]) + 1
        prev = by_line.get(line_start)
        if prev is None or (mark[2] and not prev[2]):
            by_line[line_start] = (line_start if not mark[2] else mark[0], mark[1], mark[2])
    return sorted(by_line.values(), key=lambda m: m[0])


# Paragraph/point markers: "1.", "(1)", "(1).", "(a)", "(A)", "(ii)".
_MARKER = re.compile(
    r"^[ \t>*-]*(?:(\d{1,3})\.(?=\s)|\((\d{1,3})\)\.?(?=\s)|\(([a-z]{1,2})\)(?=\s)|\(([A-Z])\)(?=\s)|\(([ivx]{1,5})\)(?=\s)"
    # Japanese statutes: paragraph 項 "２　" / "**2** " / "**２**", item 号 "一　" / "- 七の二 " (e-Gov XML, Markdown renderings).
    rf"|\*\*([0-9０-９]{{1,3}})\*\*(?=\s)|([０-９]{{1,3}})(?=[ \t\u3000])|([{_CN_NUM}]{{1,4}}(?:の[{_CN_NUM}]{{1,3}})*)(?=[ \t\u3000]))",
    re.M,
)
_JA_STYLES = ("項", "号")
_ROMAN = re.compile(r"^(?:i{1,3}|iv|vi{0,3}|ix|x)$")


def scan_markers(text: str, stack: Sequence[tuple[str, str]] = ()) -> tuple[tuple[str, str], ...]:
    """Follow paragraph/point markers at line starts; return the (style, value) path at the end."""
    path = list(stack)
    for m in _MARKER.finditer(text):
        path = _follow(path, m)
    return tuple(path)


def _follow(path: list[tuple[str, str]], m: re.Match[str]) -> list[tuple[str, str]]:
    """The marker path after one more marker."""
    num_dot, num_par, lower, upper, roman, ja_par, ja_par_wide, ja_item = m.groups()
    if ja_par or ja_par_wide or ja_item:
        # Fixed levels: a paragraph closes the items of the one before.
        style, value = ("項", str(cn_number(ja_par or ja_par_wide))) if not ja_item else ("号", ja_item)
        return [p for p in path if p[0] not in _JA_STYLES[_JA_STYLES.index(style) :]] + [(style, value)]
    if num_dot:
        style, value = "num.", num_dot
    elif num_par:
        style, value = "(num)", num_par
    elif upper:
        style, value = "(A)", upper
    elif roman and _ROMAN.match(roman) and not _continues_letters(path, roman):
        style, value = "(i)", roman
    else:
        style, value = "(a)", lower or roman
    styles = [s for s, _ in path]
    if style in styles:
        path = path[: styles.index(style)]
    return [*path, (style, value)]


def _continues_letters(path: list[tuple[str, str]], roman: str) -> bool:
    letters = [v for s, v in path if s == "(a)"]
    return len(roman) == 1 and bool(letters) and ord(roman) == ord(letters[-1][-1]) + 1


def label_with_path(section: str, path: Sequence[tuple[str, str]]) -> str:
    """'Article 53' + [(num., 1), ((a), c)] -> 'Article 53(1)(c)'."""
    if not path or not re.match(r"(Article|§|Recital)", section) or section.startswith("Recital"):
        return section
    if path[-1][0] in _JA_STYLES and (m := re.fullmatch(r"(Article \S+) \((第.+)\)", section)):
        # Japanese Law Translation style: 'Article 31, paragraph 2, item 1 (第三十一条第二項第一号)'.
        en = [f"paragraph {v}" if s == "項" else f"item {ja_number(v)}" for s, v in path if s in _JA_STYLES]
        ja = "".join(f"第{kanji_number(int(v))}項" if s == "項" else _ja_item(v) for s, v in path if s in _JA_STYLES)
        return f"{m.group(1)}, {', '.join(en)} ({m.group(2)}{ja})"
    base = section.split(" (")[0] if "(" in section and "第" in section else section
    suffix = "".join(f"({v})" for _, v in path)
    return base + suffix + (section[len(base) :] if base != section else "")


def _ja_item(value: str) -> str:
    """Item '七の二' -> '第七号の二' (how a statute cites it)."""
    head, _, rest = value.partition("の")
    return f"第{head}号" + (f"の{rest}" if rest else "")


# Longest passage in characters, whatever its word pieces: a passage of blank lines or of one giant "word"
# costs few word pieces but would make every later step (sentence splitting, display) slow.
MAX_PASSAGE_CHARS = 4000
# A run without spaces (CJK text, a giant token) is measured in pieces of this many characters.
_RUN = 16
_NON_SPACE = re.compile(r"\S+")


def chunk(
    doc: Document, doc_id: str, count_tokens: CountTokens, max_tokens: int, overlap: int, max_chars: int = MAX_PASSAGE_CHARS
) -> list[Passage]:
    """All passages of a document, in order, each within `max_tokens` word pieces and `max_chars` characters.

    Linear in the document's length: each word is counted once, each section's markers scanned once."""
    passages: list[Passage] = []
    for sec in sections(doc):
        # Markers are followed once per section; a passage's path is that of the markers before its start.
        markers = _MARKER.finditer(doc.text[sec.start : sec.end])
        pending = next(markers, None)
        path: list[tuple[str, str]] = []
        for start, end in _pack(doc.text, sec.start, sec.end, count_tokens, max_tokens, overlap, max_chars):
            while pending is not None and sec.start + pending.end() < start:
                path = _follow(path, pending)
                pending = next(markers, None)
            sub = label_with_path(sec.label, path)
            text = doc.text[start:end]
            pid = hashlib.sha1(f"{doc_id}\x00{start}\x00{end}\x00{text}".encode()).hexdigest()[:20]
            passages.append(
                Passage(
                    passage_id=pid,
                    doc_id=doc_id,
                    text=text,
                    section=sec.label,
                    start=start,
                    end=end,
                    page=doc.page_at(start),
                    heading=sec.title,
                    meta={
                        **({"within": sec.within} if sec.within else {}),
                        "path": "|".join(f"{s}{v}" for s, v in path),
                        "sub": sub,
                        "page_breaks": [b - start for b in doc.page_starts if start < b < end],
                        # The whitespace after the passage (to the next one, when the packing dropped it between
                        # them): what joins the two when a quote runs on from one into the next (evidence.complete).
                        "after": _SPACE_AFTER.match(doc.text, end).group(),
                    },
                )
            )
    return passages


_SPACE_AFTER = re.compile(r"\s{0,64}")


def _units(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Paragraph spans (stripped), then sentences for long paragraphs."""
    spans = []
    for m in re.finditer(r"[^\n]+", text[start:end]):
        s, e = strip_span(text, start + m.start(), start + m.end())
        if s < e:
            spans.append((s, e))
    return spans


def _split_long(text: str, span: tuple[int, int], count_tokens: CountTokens, max_tokens: int, max_chars: int) -> list[tuple[int, int]]:
    s, e = span
    if e - s <= max_chars and count_tokens(text[s:e]) <= max_tokens:
        return [span]
    inner = [s + m.end() for m in _SENTENCE_END.finditer(text[s:e])] + [s + c for c in cjk_sentence_ends(text[s:e])]
    cuts = [s] + sorted(c for c in set(inner) if c < e) + [e]
    pieces = [(a, b) for a, b in zip(cuts, cuts[1:]) if text[a:b].strip()]
    out: list[tuple[int, int]] = []
    for a, b in pieces:
        while b > a and text[b - 1].isspace():
            b -= 1
        if b - a <= max_chars and count_tokens(text[a:b]) <= max_tokens:
            out.append((a, b))
        else:
            out.extend(_split_words(text, a, b, count_tokens, max_tokens, max_chars))
    return out


def _split_words(text: str, a: int, b: int, count_tokens: CountTokens, max_tokens: int, max_chars: int) -> list[tuple[int, int]]:
    """Last resort for a run-on sentence: greedy cuts at spaces by budget, each word counted once.

    Word pieces of words apart add up (the tokenizer splits at spaces first), so the budget is a running sum."""
    words: list[tuple[int, int, int]] = []
    for m in _NON_SPACE.finditer(text, a, b):
        s, e = m.span()
        step = _RUN if e - s > _RUN else e - s
        words.extend((p, min(e, p + step), count_tokens(text[p : min(e, p + step)])) for p in range(s, e, step))
    out: list[tuple[int, int]] = []
    first, last, total = -1, -1, 0
    for p, q, n in words:
        if first >= 0 and (total + n > max_tokens or q - first > max_chars):
            out.append((first, last))
            first = -1
        if first < 0:
            first, total = p, 0
        total += n
        last = q
    if first >= 0:
        out.append((first, last))
    return out


def _pack(
    text: str, start: int, end: int, count_tokens: CountTokens, max_tokens: int, overlap: int, max_chars: int = MAX_PASSAGE_CHARS
) -> list[tuple[int, int]]:
    """Greedy packing of units into chunks; the next chunk repeats up to `overlap` tokens of units."""
    units = [u for span in _units(text, start, end) for u in _split_long(text, span, count_tokens, max_tokens, max_chars)]
    sizes = [count_tokens(text[a:b]) for a, b in units]
    chunks: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and (j == i or (total + sizes[j] + 1 <= max_tokens and units[j][1] - units[i][0] <= max_chars)):
            total += sizes[j] + (1 if j > i else 0)
            j += 1
        chunks.append((units[i][0], units[j - 1][1]))
        if j >= len(units):
            break
        # Overlap: step back over trailing units that fit the overlap budget.
        k, carried = j, 0
        while k - 1 > i and carried + sizes[k - 1] <= overlap:
            carried += sizes[k - 1]
            k -= 1
        i = k
    return chunks
