"""Extractive answers: verbatim sentences of retrieved passages, each with a `[n]` citation."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from .catalog import named_docs
from .chunking import label_with_path, scan_markers
from .embedding import Embedder
from .lexical import refs, tokenize
from .prompts import EMPTY_QUESTION, REFUSAL, REFUSAL_MISSING_PROVISION
from .retrieve import Filters, retrieve, section_refs
from .sentences import sentence_spans
from .settings import Settings
from .store import Store
from .types import Answer, Citation, Hit, SourceInfo

_GENERIC = {"article", "section", "recital", "act", "law", "provide", "provides", "say", "says", "require", "requires",
            "regarding", "according", "mean", "means", "state", "states", "text", "document", "legal", "rule", "rules"}
MIN_SENTENCE_SCORE = 0.34


@dataclass(frozen=True)
class Quote:
    """A candidate sentence: where it sits in which hit, and how well it matches."""

    hit_index: int
    start: int
    end: int
    score: float


def _weights(question: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for token in tokenize(question):
        if token in _GENERIC or token.isdigit() and len(token) < 2:
            continue
        weights[token] = 2.5 if ":" in token else 1.0
    return weights


def score_sentence(sentence: str, weights: dict[str, float]) -> float:
    """Share of the question's weighted terms present in the sentence."""
    if not weights:
        return 0.0
    present = set(tokenize(sentence))
    return sum(w for t, w in weights.items() if t in present) / sum(weights.values())


def score_in_context(sentence: str, weights: dict[str, float], context: set[str]) -> float:
    """Half for the question's terms found in the sentence or its context (document, section, heading),
    half for the terms the context does not explain: those are what the sentence itself must say."""
    if not weights:
        return 0.0
    present = set(tokenize(sentence))
    total = sum(weights.values())
    covered = sum(w for t, w in weights.items() if t in present or t in context) / total
    focus = {t: w for t, w in weights.items() if t not in context}
    if not focus:
        return covered
    return 0.5 * covered + 0.5 * sum(w for t, w in focus.items() if t in present) / sum(focus.values())


def answer(
    question: str,
    *,
    store: Store,
    embedder: Embedder,
    settings: Settings,
    history: Sequence[tuple[str, str]] = (),
    filters: Filters | None = None,
    top_k: int | None = None,
) -> Answer:
    """Answer from the index with verbatim, cited sentences, or abstain."""
    question = question.strip()
    if not question:
        return Answer(question, EMPTY_QUESTION, False, (), ())
    query = contextual_query(question, history)
    hits = retrieve(query, store=store, embedder=embedder, settings=settings, top_k=top_k, filters=filters)
    infos = {r.doc_id: r.info for r in store.docs()}
    return compose(question, query, hits, infos, settings)


def contextual_query(question: str, history: Sequence[tuple[str, str]]) -> str:
    """A follow-up that points back ('and what about its Article 5?') carries the previous question along.

    Only words that refer back count: a short but self-contained question starts a new topic."""
    if not history:
        return question
    previous = history[-1][0]
    anaphoric = re.search(r"\b(it|its|this|that|these|those|they|them|their|there|same|above|also|what about|how about)\b|^(and|or|but)\b", question, re.I)
    return f"{previous} {question}" if anaphoric else question


def compose(
    question: str,
    query: str,
    hits: Sequence[Hit],
    infos: dict[str, SourceInfo],
    settings: Settings,
) -> Answer:
    """Pick the best-supported sentences and write them up with citations."""
    hits = tuple(hits)
    wanted = set(refs(query))
    if not hits:
        return Answer(question, REFUSAL, False, (), hits)
    named = named_docs(query, infos)
    scope = [h for h in hits if not named or h.passage.doc_id in named]
    if wanted and not any(section_refs(h.passage.section) & wanted or _mentions(h.passage.text, wanted) for h in scope):
        missing = ", ".join(sorted(r.replace("art:", "Article ").replace("sec:", "§ ").replace("rec:", "Recital ") for r in wanted))
        where = " or ".join(sorted({infos[d].short_title for d in named})) if named else "the index"
        return Answer(question, REFUSAL_MISSING_PROVISION.format(where=where, refs=missing), False, (), hits)
    best_similarity = max((h.similarity or 0.0) for h in hits)
    weights = _weights(query)
    # A time budget for composing one answer: passages are scored in rank order until it is spent.
    quotes = _candidates(hits, weights, wanted, infos, deadline=time.monotonic() + settings.answer_seconds)
    strong = [q for q in quotes if q.score >= MIN_SENTENCE_SCORE]
    if best_similarity < settings.min_score or not strong:
        return Answer(question, REFUSAL, False, (), hits)
    chosen = _choose(strong, hits, settings.max_citations)
    citations, text = _write_up(chosen, hits, infos)
    return Answer(question, text, True, tuple(citations), hits)


def _mentions(text: str, wanted: set[str]) -> bool:
    return bool(set(refs(text)) & wanted)


def _candidates(
    hits: Sequence[Hit], weights: dict[str, float], wanted: set[str], infos: dict[str, SourceInfo], deadline: float | None = None
) -> list[Quote]:
    quotes = []
    for i, hit in enumerate(hits):
        if i and deadline is not None and time.monotonic() > deadline:
            break  # the best-ranked passages were scored; the rest would only delay the answer
        info = infos.get(hit.passage.doc_id)
        names = f"{info.short_title} {info.title} {' '.join(info.aliases)}" if info else ""
        context = set(tokenize(f"{names} {hit.passage.section} {hit.passage.heading}"))
        prior = 0.12 / (1 + i) + (0.25 if section_refs(hit.passage.section) & wanted else 0.0)
        for s, e in sentence_spans(hit.passage.text):
            if _is_heading(hit.passage.text[s:e], hit.passage):
                continue
            quotes.append(Quote(i, s, e, score_in_context(hit.passage.text[s:e], weights, context) + prior))
    return sorted(quotes, key=lambda q: -q.score)


def _is_heading(sentence: str, passage) -> bool:  # type: ignore[no-untyped-def]
    """The section's own heading line (labels may be truncated with '…')."""
    for label in (passage.section, passage.heading):
        stem = label.rstrip("…")
        if label and (sentence == label or (len(stem) >= 20 and sentence.startswith(stem))):
            return True
    return False


def _choose(quotes: Sequence[Quote], hits: Sequence[Hit], limit: int) -> list[Quote]:
    """Best sentences, at most two per passage, none repeated (overlapping chunks share text)."""
    chosen: list[Quote] = []
    seen: set[tuple[str, int]] = set()
    per_hit: dict[int, int] = {}
    top = quotes[0].score
    for q in quotes:
        if len(chosen) >= limit or q.score < top * 0.75:
            break
        p = hits[q.hit_index].passage
        key = (p.doc_id, p.start + q.start)
        if key in seen or per_hit.get(q.hit_index, 0) >= 2:
            continue
        seen.add(key)
        per_hit[q.hit_index] = per_hit.get(q.hit_index, 0) + 1
        chosen.append(q)
    return chosen


def citation_label(hit: Hit, quote_start: int) -> str:
    """Section label refined to the paragraph/point holding the quote ('Article 53(1)(c)')."""
    p = hit.passage
    # Markers only count at line starts; a few characters of the quote catch its own "(c) ".
    path = scan_markers(p.text[: quote_start + 8], _parse_path(p.meta.get("path", "")))
    return label_with_path(p.section, path)


def _parse_path(text: str) -> tuple[tuple[str, str], ...]:
    out = []
    for part in filter(None, text.split("|")):
        for style in ("num.", "(num)", "(a)", "(A)", "(i)", "項", "号"):
            if part.startswith(style):
                out.append((style, part[len(style) :]))
                break
    return tuple(out)


def _write_up(chosen: Sequence[Quote], hits: Sequence[Hit], infos: dict[str, SourceInfo]) -> tuple[list[Citation], str]:
    """Group quotes by document, in rank order: 'Under X, Article N: “…” [1]'."""
    order: list[str] = []
    for q in chosen:
        doc = hits[q.hit_index].passage.doc_id
        if doc not in order:
            order.append(doc)
    citations: list[Citation] = []
    paragraphs = []
    for doc in order:
        info = infos.get(doc) or SourceInfo(doc, doc, doc, doc)
        parts = []
        last_label = None
        for q in sorted((q for q in chosen if hits[q.hit_index].passage.doc_id == doc), key=lambda q: (hits[q.hit_index].passage.start + q.start)):
            hit = hits[q.hit_index]
            p = hit.passage
            label = citation_label(hit, q.start)
            n = len(citations) + 1
            citations.append(
                Citation(
                    n=n, passage_id=p.passage_id, doc_id=p.doc_id, work_id=info.work_id, title=info.title, section=label,
                    page=_page(p, q.start), quote=p.text[q.start : q.end], quote_start=q.start, quote_end=q.end,
                    doc_start=p.start + q.start, doc_end=p.start + q.end, passage=p.text, url=info.url,
                    file=info.file, jurisdiction=info.jurisdiction, date=info.date,
                )
            )
            lead = "" if label == last_label else f"{label}: "
            parts.append(f"{lead}“{p.text[q.start:q.end]}” [{n}]")
            last_label = label
        paragraphs.append(f"Under {info.short_title}, " + " ".join(parts))
    return citations, "\n\n".join(paragraphs)


def _page(passage, offset: int) -> int | None:  # type: ignore[no-untyped-def]
    """Page of a quote inside a PDF passage (passages may cross a page break)."""
    if passage.page is None:
        return None
    breaks = passage.meta.get("page_breaks") or []
    return passage.page + sum(1 for b in breaks if b <= offset)
