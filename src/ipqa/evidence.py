"""Evidence sentences: whole sentences of the retrieved passages, scored by meaning and by shared words.

A passage may end (or start) inside a sentence; the rest is taken from the neighbouring passage of the same
document, so a quote is always a whole sentence (or list item), verbatim, at exact offsets."""

from __future__ import annotations

import math
import re
import time
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .catalog import named_docs
from .embedding import Embedder
from .glossary import english_rendering, translations
from .lexical import tokenize
from .premise import statement
from .retrieve import question_languages, section_refs
from .sentences import sentence_spans
from .store import Store
from .types import Hit, Passage, SourceInfo

_GENERIC = {"article", "section", "recital", "act", "law", "provide", "provides", "say", "says", "require", "requires",
            "regarding", "according", "mean", "means", "state", "states", "text", "document", "legal", "rule", "rules",
            "long", "many", "much", "often"}
# How a sentence's score mixes shared words (in context) with meaning (cosine of question and sentence vectors).
# Chosen on eval/train.jsonl (see answerability.py's fit command), never on eval/questions.jsonl.
LEXICAL_WEIGHT = 0.5
SEMANTIC_WEIGHT = 0.5
_CLOSED_END = re.compile(r"[.!?;:。；！？\"”’)\]]\s*$")
_OPEN_START = re.compile(r"\s*[a-z,;]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


@dataclass(frozen=True)
class Quote:
    """A candidate sentence: where it sits in which hit, and how well it matches the question."""

    hit_index: int
    start: int
    end: int
    score: float
    lexical: float = 0.0
    semantic: float = 0.0
    premise: float = 0.0  # similarity to what a "why" question takes for granted (0 for other questions)
    adjust: float = 0.0  # added to the mix: an exception when the rule was asked for scores lower


@dataclass(frozen=True)
class Evidence:
    """The hits (passages completed to whole sentences) and their candidate sentences, best first."""

    hits: tuple[Hit, ...]
    quotes: tuple[Quote, ...]

    def text(self, q: Quote) -> str:
        """The sentence itself."""
        return self.hits[q.hit_index].passage.text[q.start : q.end]

    def doc_span(self, q: Quote) -> tuple[str, int, int]:
        """(doc_id, start, end) of a sentence in its document."""
        p = self.hits[q.hit_index].passage
        return p.doc_id, p.start + q.start, p.start + q.end


def weights(question: str) -> dict[str, float]:
    """The question's content terms; reference tokens ('art:53') count more."""
    out: dict[str, float] = {}
    for token in tokenize(question):
        if token in _GENERIC or token.isdigit() and len(token) < 2:
            continue
        out[token] = 2.5 if ":" in token else 1.0
    return out


def score_in_context(sentence: str, weights: dict[str, float], context: set[str]) -> float:
    """Half for the question's terms found in the sentence or its context (document, section, heading),
    half for the terms the context does not explain: those are what the sentence itself must say."""
    if not weights:
        return 0.0
    present = _with_prefixes(set(tokenize(sentence)), weights)
    total = sum(weights.values())
    covered = sum(w for t, w in weights.items() if t in present or t in context) / total
    focus = {t: w for t, w in weights.items() if t not in context}
    if not focus:
        return covered
    return 0.5 * covered + 0.5 * sum(w for t, w in focus.items() if t in present) / sum(focus.values())


def _with_prefixes(tokens: set[str], weights: dict[str, float]) -> set[str]:
    """The sentence's tokens plus the question terms they extend or shorten ('lead' ~ 'leadership', 'protect' ~
    'protection'): light morphology, since BM25's plural folding does not reach derived words."""
    extra = {t for t in weights if t not in tokens and len(t) >= 4 and ":" not in t and any(
        len(w) >= 4 and (w.startswith(t) or t.startswith(w)) for w in tokens)}
    return tokens | extra


# A sentence that states an exception or a special case ("In the case of…", "This obligation shall not apply…")
# answers a question about the rule less well than the rule itself, unless the question asks about exceptions.
_EXCEPTION = re.compile(
    r"^\W*(?:\(?\w{1,4}\)\.?\s*)?(?:in the case of|however|notwithstanding|by way of derogation|this (?:obligation|paragraph|article) shall not|"
    r"the (?:obligations?|provisions?) (?:laid down|set out|referred to) in .{0,60}? shall not|except|unless|where|if|when)\b",
    re.I,
)
_ASKS_EXCEPTION = re.compile(r"\b(?:exception|exempt|derogat|unless|except|special case|in the case of|when|where|if)\w*", re.I)
EXCEPTION_PENALTY = 0.12


def complete(hits: Sequence[Hit], store: Store | None) -> tuple[tuple[Hit, ...], list[tuple[int, int]]]:
    """Hits whose passage ends or starts inside a sentence, extended with the neighbouring passage up to that
    sentence's end (start); also where each original passage now sits inside its (possibly longer) text."""
    out: list[Hit] = []
    regions: list[tuple[int, int]] = []
    for hit in hits:
        p = hit.passage
        region = (0, len(p.text))
        if store is not None and p.text.strip():
            if (
                not _CLOSED_END.search(p.text)
                and (nxt := store.adjacent(p.passage_id, 1)) is not None
                and (gap := _gap(store, p, nxt)) is not None
            ):
                p = _trim_forward(_merge(p, nxt, gap), region[1])
            if (
                _OPEN_START.match(p.text)
                and (prev := store.adjacent(hit.passage.passage_id, -1)) is not None
                and (gap := _gap(store, prev, p)) is not None
            ):
                merged = _merge(prev, p, gap)
                shift = len(merged.text) - len(p.text)
                trimmed = _trim_backward(merged, shift)
                cut = len(merged.text) - len(trimmed.text)
                if cut < shift:
                    own = hit.passage
                    p = replace(trimmed, passage_id=own.passage_id, section=own.section, heading=own.heading)
                    region = (region[0] + shift - cut, region[1] + shift - cut)
        out.append(replace(hit, passage=p) if p is not hit.passage else hit)
        regions.append(region)
    return tuple(out), regions


def _gap(store: Store, a: Passage, b: Passage) -> str | None:
    """The text between passages a and b when the store has it: none between overlapping or touching chunks; None
    when whitespace was dropped between them (reading the document again for it would cost seconds at query time)."""
    return "" if b.start <= a.end else None


def _merge(a: Passage, b: Passage, gap: str) -> Passage:
    """Passage a followed by b (same document, b after a, `gap` the text between them), keeping a's identity."""
    text = a.text + gap + b.text if b.start > a.end else a.text + b.text[a.end - b.start :]
    breaks = sorted({*(a.meta.get("page_breaks") or []), *(x + b.start - a.start for x in (b.meta.get("page_breaks") or []))})
    if a.page is not None and b.page is not None and b.page > a.page and (b.start - a.start) not in breaks and not breaks:
        breaks = [b.start - a.start]
    return Passage(a.passage_id, a.doc_id, text, a.section, a.start, a.start + len(text), a.page, a.heading, {**a.meta, "page_breaks": breaks})


def _trim_forward(p: Passage, boundary: int) -> Passage:
    """Keep the text up to the end of the sentence that crosses `boundary`."""
    for s, e in sentence_spans(p.text):
        if s < boundary < e:
            return replace(p, text=p.text[:e], end=p.start + e)
    return replace(p, text=p.text[:boundary], end=p.start + boundary)


def _trim_backward(p: Passage, boundary: int) -> Passage:
    """Keep the text from the start of the sentence that crosses `boundary`."""
    for s, e in sentence_spans(p.text):
        if s < boundary < e:
            breaks = [b - s for b in (p.meta.get("page_breaks") or []) if b > s]
            page = None if p.page is None else p.page + sum(1 for b in (p.meta.get("page_breaks") or []) if b <= s)
            return replace(p, text=p.text[s:], start=p.start + s, page=page, meta={**p.meta, "page_breaks": breaks})
    return replace(p, text=p.text[boundary:], start=p.start + boundary)


def gather(
    question: str,
    hits: Sequence[Hit],
    infos: dict[str, SourceInfo],
    *,
    embedder: Embedder | None,
    store: Store | None,
    wanted: set[str] = frozenset(),  # type: ignore[assignment]
    mix: tuple[float, float] = (LEXICAL_WEIGHT, SEMANTIC_WEIGHT),
    deadline: float | None = None,
    languages: frozenset[str] = frozenset(),
) -> Evidence:
    """Candidate sentences of the hits, completed across passage boundaries, scored and sorted best first.

    `languages`: those of the documents the search was restricted to (retrieve.scope_languages)."""
    full, regions = complete(hits, store)
    asks_exception = bool(_ASKS_EXCEPTION.search(question))
    found: list[tuple[int, int, int, set[str]]] = []
    seen: set[tuple[str, str]] = set()
    for i, hit in enumerate(full):
        if i and deadline is not None and time.monotonic() > deadline:
            break  # the best-ranked passages were scored; the rest would only delay the answer
        p = hit.passage
        info = infos.get(p.doc_id)
        lo, hi = regions[i]
        for s, e in sentence_spans(p.text):
            if e <= lo or s >= hi or _is_heading(p.text[s:e], p) or _is_title(p.text[s:e]):
                continue
            # Overlapping chunks and renditions of one work repeat sentences: score each once, in its best-ranked hit.
            key = (info.work_id if info else p.doc_id, re.sub(r"\W+", "", p.text[s:e].lower()))
            if key in seen:
                continue
            seen.add(key)
            found.append((i, s, e, set(tokenize(p.text[s:e]))))
    w = _rarity_weighted(weights(question), [t for *_, t in found])
    # A sentence in another language shares no word with the question: it is matched by the question's glossary
    # terms in that language (as BM25 was), and keeps whichever reading scores it higher.
    extra = translations(question, question_languages(named_docs(question, infos), infos), languages)
    wx = _rarity_weighted(weights(question + " " + " ".join(extra)), [t for *_, t in found]) if extra else None
    # An English sentence cannot share a Japanese or Chinese question's own words, nor can the English-only model read
    # that question: such a sentence is also scored by the question's English rendering (glossary terms, Latin words).
    rendering = english_rendering(question)
    we = _rarity_weighted(weights(rendering), [t for *_, t in found]) if rendering else None
    rows: list[tuple[int, int, int, float, float]] = []
    contexts: dict[int, set[str]] = {}
    for i, s, e, _ in found:
        p = full[i].passage
        if i not in contexts:
            info = infos.get(p.doc_id)
            names = f"{info.short_title} {info.title} {' '.join(info.aliases)}" if info else ""
            contexts[i] = set(tokenize(f"{names} {p.section} {p.heading}"))
        prior = 0.12 / (1 + i) + (0.25 if section_refs(p.section) & wanted else 0.0)
        penalty = EXCEPTION_PENALTY if not asks_exception and _EXCEPTION.match(p.text[s:e]) else 0.0
        lexical = score_in_context(p.text[s:e], w, contexts[i])
        if wx is not None:
            lexical = max(lexical, score_in_context(p.text[s:e], wx, contexts[i]))
        if we is not None and not _CJK.search(p.text[s:e]):
            lexical = max(lexical, score_in_context(p.text[s:e], we, contexts[i]))
        rows.append((i, s, e, lexical + prior, -penalty))
    texts = [full[i].passage.text[s:e] for i, s, e, _, _ in rows]
    # Encoding is the cost of meaning: only the best candidates by words (and the best one of each of the top two passages) are encoded.
    by_words = sorted(range(len(rows)), key=lambda k: -rows[k][3])
    per_hit: dict[int, int] = {}
    encode = set(by_words[:MAX_ENCODED])
    for k in by_words:
        if rows[k][0] < 2 and per_hit.get(rows[k][0], 0) < 1:
            per_hit[rows[k][0]] = per_hit.get(rows[k][0], 0) + 1
            encode.add(k)
    picked = sorted(encode)
    sims = _spread(picked, _similarities(question, [texts[k] for k in picked], embedder), len(rows))
    if rendering:
        latin = [k for k in picked if not _CJK.search(texts[k])]
        for k, sim in zip(latin, _similarities(rendering, [texts[k] for k in latin], embedder), strict=True):
            sims[k] = max(sims[k], sim)
    taken = statement(question)
    premise = _spread(picked, _similarities(taken, [texts[k] for k in picked], embedder), len(rows)) if taken else [0.0] * len(rows)
    quotes = [
        Quote(i, s, e, mix[0] * lex + mix[1] * sim + adj, lex, sim, pre, adj)
        for (i, s, e, lex, adj), sim, pre in zip(rows, sims, premise, strict=True)
    ]
    return Evidence(full, tuple(sorted(quotes, key=lambda q: -q.score)))


MAX_ENCODED = 6


def _spread(picked: Sequence[int], values: Sequence[float], n: int) -> list[float]:
    """Values for the picked positions, 0 elsewhere."""
    out = [0.0] * n
    for k, v in zip(picked, values, strict=True):
        out[k] = v
    return out


def _rarity_weighted(weights: dict[str, float], sentences: Sequence[set[str]]) -> dict[str, float]:
    """Question terms weighted by how few candidate sentences share them: a term every candidate has (the
    document's own subject) tells them apart less than one only the answer has."""
    if len(sentences) < 3:
        return weights
    n = len(sentences)
    out = {}
    for t, w in weights.items():
        df = sum(1 for toks in sentences if t in _with_prefixes(toks, {t: 1.0}))
        out[t] = w * max(0.2, math.log((n + 1) / (df + 0.5)))
    return out


def _is_title(sentence: str) -> bool:
    """A title or heading line rather than a statement: mostly capitals, or no closing punctuation."""
    letters = [c for c in sentence if c.isalpha() and c.isascii()]
    if len(letters) > 20 and sum(c.isupper() for c in letters) > 0.5 * len(letters):
        return True
    return not _CLOSED_END.search(sentence) and len(sentence.split()) < 25 and bool(letters)


def _is_heading(sentence: str, passage: Passage) -> bool:
    """The section's own heading line (labels may be truncated with '…')."""
    for label in (passage.section, passage.heading):
        stem = label.rstrip("…")
        if label and (sentence == label or (len(stem) >= 20 and sentence.startswith(stem))):
            return True
    return False


# Sentence vectors per embedder, least recently used dropped first: a question asked again, or a passage
# retrieved again, costs no new encoding. Keyed weakly by the embedder so a test's fake model never mixes in.
_CACHE: weakref.WeakKeyDictionary[Embedder, OrderedDict[str, list[float]]] = weakref.WeakKeyDictionary()
_CACHE_SIZE = 50_000
EMBED_CHARS = 160


def _similarities(question: str, sentences: Sequence[str], embedder: Embedder | None) -> list[float]:
    """Cosine of the question and each sentence (vectors are normalised); zeros without an embedder."""
    if embedder is None or not sentences:
        return [0.0] * len(sentences)
    cache = _CACHE.setdefault(embedder, OrderedDict())
    # A sentence's opening carries its meaning; encoding cost grows with length, so long ones are cut for the vector.
    sentences = [t[:EMBED_CHARS] for t in sentences]
    todo = list(dict.fromkeys(t for t in (question, *sentences) if t not in cache))
    vectors = embedder.embed(todo, query_time=True) if todo else []  # a question's few sentences: the query's threads
    for text, vec in zip(todo, vectors, strict=True):
        cache[text] = vec
    while len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
    qv = cache[question]
    out = []
    for t in sentences:
        cache.move_to_end(t)
        out.append(float(sum(a * b for a, b in zip(qv, cache[t], strict=True))))
    return out
