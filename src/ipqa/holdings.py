"""A court decision quoted by its holding: what it decides, in the court's own voice, not its account of the facts.

Used by `ipqa compare` (a decision's column quotes its holding) and by the chat answer (a question about what was
decided, or whether something is lawful or a fair use, quotes the decision's holding on it)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from .types import Hit, SourceInfo

if TYPE_CHECKING:
    from .embedding import Embedder
    from .evidence import Evidence, Quote
    from .store import Store

__all__ = ["MAX_HOLDINGS", "asks_holding", "holdings", "is_holding"]

# What a court says it decides, in its own voice: the holding of a decision, not its account of the facts or of the
# parties' arguments.
_COURT_SAYS = (
    r"\b(?:this|the)\s+(?:order|court|opinion|judgment|decision)\s+(?:(?:therefore|thus|accordingly|now|also)\s+)?"
    r"(?:holds|held|finds|found|concludes|concluded|grants|granted|denies|denied|rules|ruled|decides|decided)\b"
    r"|\bwe\s+(?:hold|conclude|find|affirm|reverse)\b"
)
_SUMMING_UP = r"(?:to summarize|in conclusion|for (?:these|the foregoing) reasons)\b"
# A sentence that carries on the court's ruling ("This order grants … . But it denies …").
_GOES_ON = r"(?:(?:and|but)\W+)?it\s+(?:also\s+)?(?:holds|finds|concludes|grants|denies|rules|decides)\b"
_HOLDING = re.compile(rf"{_COURT_SAYS}|^\W*{_SUMMING_UP}|^\W*{_GOES_ON}", re.I)  # a sentence
_HOLDING_IN = re.compile(rf"{_COURT_SAYS}|\b{_SUMMING_UP}", re.I)  # somewhere in a passage
_ONLY_GOES_ON = re.compile(rf"^(?!.*(?:{_COURT_SAYS}))\W*{_GOES_ON}", re.I | re.S)  # ranked after the court's explicit words
# A question that asks what was decided, or whether something is lawful / a fair use / an infringement: what a
# decision says about it is its holding.
_ASKS_RULING = re.compile(
    r"\b(?:decid\w*|decision|held|holds?|holding|rul(?:e|es|ed|ing)|lawful\w*|unlawful\w*|legal|illegal|fair\s+use|"
    r"infring\w*|liab\w*|conclud\w*|judge|court)\b",
    re.I,
)
MAX_HOLDINGS = 2  # holdings of one decision quoted at most (room permitting)


def is_holding(sentence: str) -> bool:
    """Whether a sentence is a court's holding in its own voice ('this order holds…', 'we hold…', 'To summarize…')."""
    return bool(_HOLDING.search(sentence))


def asks_holding(question: str) -> bool:
    """Whether a question asks what was decided, or whether something is lawful, a fair use, an infringement."""
    return bool(_ASKS_RULING.search(question))


def holdings(
    question: str, evidence: Evidence, infos: Mapping[str, SourceInfo], store: Store, embedder: Embedder | None
) -> tuple[Evidence, set[Quote]]:
    """For each court decision among the hits, its holding sentences that share a term with the question are added to
    the evidence, ranked just above the decision's best retrieved sentence: what a decision says about a question is
    what it holds, wherever in the decision that sits. Also returns the holding quotes."""
    from .evidence import Quote, complete, score_in_context, weights
    from .lexical import tokenize
    from .sentences import sentence_spans

    decisions = list(
        dict.fromkeys(h.passage.doc_id for h in evidence.hits if infos.get(h.passage.doc_id) and infos[h.passage.doc_id].kind == "decision")
    )
    if not decisions:
        return evidence, set()
    terms = weights(question)
    hits = list(evidence.hits)
    quotes = list(evidence.quotes)
    where = {evidence.doc_span(q): k for k, q in enumerate(quotes)}
    held: set[Quote] = set()
    for doc in decisions:
        info = infos[doc]
        context = set(tokenize(f"{info.short_title} {info.title} {' '.join(info.aliases)}"))
        found: list[tuple[float, Hit, int, int]] = []
        seen: set[str] = set()
        for passage in store.doc_passages(doc):
            if not _HOLDING_IN.search(passage.text):
                continue
            (full,), ((lo, hi),) = complete([Hit(passage, 0.0)], store)
            for s, e in sentence_spans(full.passage.text):
                text = full.passage.text[s:e]
                key = re.sub(r"\W+", "", text.lower())
                if e <= lo or s >= hi or key in seen or not _HOLDING.search(text):
                    continue
                seen.add(key)
                lexical = score_in_context(text, {t: w for t, w in terms.items() if t not in context}, set())
                if lexical > 0:
                    found.append((lexical, full, s, e))
        if not found:
            continue
        found.sort(key=lambda f: -f[0])
        found = found[:3]
        sims = _meanings(question, [(f[1], f[2], f[3]) for f in found], store, embedder)
        best_other = max((q.score for q in quotes if evidence.hits[q.hit_index].passage.doc_id == doc), default=0.0)
        ranked = sorted(zip(found, sims, strict=True), key=lambda x: (bool(_ONLY_GOES_ON.search(x[0][1].passage.text[x[0][2] : x[0][3]])), -(x[0][0] + x[1])))
        for n, ((lexical, hit, s, e), sim) in enumerate(ranked):
            # Placed just above the decision's best retrieved sentence, in the order of their own match.
            score = best_other + 1e-3 * (len(found) - n)
            span = (doc, hit.passage.start + s, hit.passage.start + e)
            if span in where:  # retrieved already: it moves up
                quotes[where[span]] = replace(quotes[where[span]], score=score)
                held.add(quotes[where[span]])
                continue
            k, s, e = _place(hits, hit, s, e, store)
            quotes.append(Quote(k, s, e, score, lexical, sim))
            held.add(quotes[-1])
    return replace(evidence, hits=tuple(hits), quotes=tuple(sorted(quotes, key=lambda q: -q.score))), held


def _place(hits: list[Hit], full: Hit, s: int, e: int, store: Store) -> tuple[int, int, int]:
    """Where a holding sentence of a completed passage is quoted from, as (hit index, start, end): a hit that holds it
    already, else the stored passage it lies in (cited as stored), else the completed passage (it crosses two)."""
    p = full.passage
    a, b = p.start + s, p.start + e
    for k, h in enumerate(hits):
        q = h.passage
        if q.doc_id == p.doc_id and q.start <= a and b <= q.end and q.text[a - q.start : b - q.start] == p.text[s:e]:
            return k, a - q.start, b - q.start
    for q in store.doc_passages(p.doc_id):
        if q.start <= a and b <= q.end and q.text[a - q.start : b - q.start] == p.text[s:e]:
            hits.append(Hit(q, 0.0))
            return len(hits) - 1, a - q.start, b - q.start
    hits.append(full)
    return len(hits) - 1, s, e


def _meanings(question: str, sentences: Sequence[tuple[Hit, int, int]], store: Store, embedder: Embedder | None) -> list[float]:
    """Cosine of the question with each sentence: its vector stored at ingest where there is one (checked against the
    text), else encoded now (cached); only the question's vector is needed, and retrieval already made it."""
    from .evidence import _encode, encoded_text, text_sha

    if embedder is None or not sentences:
        return [0.0] * len(sentences)
    vectors: dict[int, np.ndarray] = {}
    for k, (hit, s, e) in enumerate(sentences):
        p = hit.passage
        got = store.sentence_vectors(p.doc_id, p.start + s, p.start + e).get((p.start + s, p.start + e))
        if got is not None and got[0] == text_sha(encoded_text(p.text[s:e])):
            vectors[k] = np.frombuffer(got[1], dtype=np.float32)
    missing = [k for k in range(len(sentences)) if k not in vectors]
    if missing:
        texts = [sentences[k][0].passage.text[sentences[k][1] : sentences[k][2]] for k in missing]
        vectors.update(zip(missing, _encode(texts, embedder), strict=True))
    qv = np.asarray(embedder.embed_query(question), dtype=np.float32)
    return [float(vectors[k] @ qv) if vectors[k].shape == qv.shape else 0.0 for k in range(len(sentences))]
