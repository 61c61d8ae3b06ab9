"""Extractive answers: verbatim sentences of retrieved passages, each with a `[n]` citation (and `evidence_for`, what both engines judge)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial

from .answerability import Judgement, answer_type, judge, mix
from .catalog import named_docs
from .chunking import label_with_path, scan_markers
from .compare import answer_across, comparison_filters
from .embedding import Embedder
from .evidence import ASKS_DEFINITION, Evidence, Quote, defines, doc_span, gather, score_in_context, weights, with_list
from .holdings import MAX_HOLDINGS, asks_holding, holdings
from .lexical import refs, tokenize
from .prompts import EMPTY_QUESTION
from .retrieve import Filters, retrieve, scope_languages, section_refs
from .sentences import sentence_spans
from .settings import Settings
from .store import Store
from .types import ANSWERED, PREMISE_CONTRADICTED, Answer, Citation, Hit, Passage, SourceInfo

__all__ = ["answer", "compose", "evidence_for", "contextual_query", "citation_label", "score_in_context", "weights"]


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
    """Answer from the index with verbatim, cited sentences, or abstain (saying why), or correct the premise."""
    question = question.strip()
    if not question:
        return Answer(question, EMPTY_QUESTION, False, (), (), reason="empty")
    query, evidence, infos = evidence_for(question, store=store, embedder=embedder, settings=settings, history=history, filters=filters, top_k=top_k)
    result = compose(question, query, evidence, infos, settings, store=store, embedder=embedder)
    # A question comparing jurisdictions ("How do China and the US treat…") is answered column by column, as `ipqa
    # compare` does: one search of both ranks one side's passages above all of the other's. What is compared is what
    # this question names (a follow-up naming one country is no comparison with the one asked about before); the
    # columns search with the follow-up's context, as the whole answer did.
    chosen = filters and (filters.jurisdictions or filters.doc_ids)
    if result.kind == ANSWERED and not chosen and not top_k and (columns := comparison_filters(question, infos)):
        result = answer_across(query, result, columns, infos, store=store, embedder=embedder, settings=settings)
    return result


def evidence_for(
    question: str,
    *,
    store: Store,
    embedder: Embedder,
    settings: Settings,
    history: Sequence[tuple[str, str]] = (),
    filters: Filters | None = None,
    top_k: int | None = None,
) -> tuple[str, Evidence, dict[str, SourceInfo]]:
    """(query, evidence, indexed documents' infos) for a question: what both engines judge and write from."""
    query = indexed_query(contextual_query(question, history), store)
    hits = retrieve(query, store=store, embedder=embedder, settings=settings, top_k=top_k, filters=filters)
    infos = {r.doc_id: r.info for r in store.docs()}
    hits = read_alongside(query, hits, store, infos, filters or Filters())
    # A time budget for composing one answer (IPQA_ANSWER_SECONDS): passages are scored in rank order until it is spent.
    # A filtered search (a jurisdiction, chosen documents: one column of `ipqa compare`) reads its sentences as if only
    # its documents were indexed: a work the question names outside the filter does not decide the glossary languages.
    filters = filters or Filters()
    scoped = {d: i for d, i in infos.items() if filters.allows(d, i.jurisdiction)}
    evidence = gather(
        query, hits, scoped, embedder=embedder, store=store, wanted=set(refs(query)), mix=mix(), deadline=time.monotonic() + settings.answer_seconds,
        languages=scope_languages(filters, infos),
    )
    return query, evidence, infos


# An article is read whole: the best-ranked passages' provisions (an article chunked into several passages) bring their
# other passages along, after the retrieved ones, so the rule in paragraph (1) competes with the special cases of the
# paragraphs retrieval ranked higher.
SIBLING_HITS = 3
SIBLING_STEPS = 3


def provision_siblings(hits: Sequence[Hit], store: Store) -> list[Hit]:
    """The other passages of the provisions of the first SIBLING_HITS hits (same document and section label)."""
    seen = {h.passage.passage_id for h in hits}
    out: list[Hit] = []
    for h in hits[:SIBLING_HITS]:
        for step in (-1, 1):
            p = h.passage
            for _ in range(SIBLING_STEPS):
                p = store.adjacent(p.passage_id, step)
                if p is None or p.section != h.passage.section:
                    break
                if p.passage_id not in seen:
                    seen.add(p.passage_id)
                    out.append(Hit(p, 0.0, via="provision"))
    return out


def indexed_query(query: str, store: Store) -> str:
    """The query spelled as the index spells its words (Bm25Index.spelled_as_indexed); as it is without a keyword index."""
    keyword = store.bm25
    return keyword.spelled_as_indexed(query) if keyword is not None else query


def read_alongside(query: str, hits: Sequence[Hit], store: Store, infos: dict[str, SourceInfo], filters: Filters) -> list[Hit]:
    """The retrieved hits and what an answer reads beside them: the rest of their provisions, then a named act's purpose
    clause or a named document's definition of the question's term, when the question asks for one."""
    read = list(hits) + provision_siblings(hits, store)
    read += purpose_clauses(query, read, store, infos, filters)
    return read + definitions(query, read, store, infos, filters)


def purpose_clauses(question: str, hits: Sequence[Hit], store: Store, infos: dict[str, SourceInfo], filters: Filters) -> list[Hit]:
    """For a question asking what a named act is for, the passages of its first article, where statutes state their
    purpose ("この法律は、…を目的とする。", "为了…，制定本法。", "The purpose of this Act is…"): the model, matching
    "What is the purpose of the AI Promotion Act?" to the act's chapter headings, ranked Article 1 44th. Whether a
    sentence of it states a purpose is still judged (answer type): a treaty's Article 1 that does not is not quoted."""
    if answer_type(question) != "purpose":
        return []
    return _named_passages(question, hits, store, infos, filters, lambda p: "art:1" in section_refs(p.section))


_STATES_A_DEFINITION = re.compile(r"とは|所称|是指|\bmeans?\b|\bshall mean\b|\brefers? to\b")
MAX_DEFINITIONS = 3  # passages per named document


def definitions(question: str, hits: Sequence[Hit], store: Store, infos: dict[str, SourceInfo], filters: Filters) -> list[Hit]:
    """For a question asking what a named document means by a term, the passages of that document defining it
    ("この法律で「知的財産」とは、…をいう。", "The term “inventor” means…"), if retrieval did not bring them: the model and
    BM25 matched "知的財産をどのように定義していますか" to the IP Basic Act's supplementary provisions, not Article 2."""
    if not ASKS_DEFINITION.search(question):
        return []
    asked = set(tokenize(question))

    def defining(p: Passage) -> bool:
        return bool(_STATES_A_DEFINITION.search(p.text)) and any(defines(p.text[s:e], asked) for s, e in sentence_spans(p.text))

    return _named_passages(question, hits, store, infos, filters, defining, MAX_DEFINITIONS)


MAX_NAMED_DOCS = 2  # named documents read whole for a purpose clause or a definition: the renditions of one act


def _named_passages(
    question: str, hits: Sequence[Hit], store: Store, infos: dict[str, SourceInfo], filters: Filters,
    keep: Callable[[Passage], bool], per_doc: int | None = None,
) -> list[Hit]:
    """The passages `keep` accepts of the documents the question names (within the filters), in document order, at most
    `per_doc` of each, as hits read beside the retrieved ones (none already among `hits`)."""
    named = sorted(d for d in named_docs(question, infos) if filters.allows(d, infos[d].jurisdiction))
    seen = {h.passage.passage_id for h in hits}
    out: list[Hit] = []
    for doc_id in named[:MAX_NAMED_DOCS]:
        found = 0
        for p in store.doc_passages(doc_id):
            if per_doc is not None and found >= per_doc:
                break
            if p.passage_id in seen or not keep(p):
                continue
            seen.add(p.passage_id)
            out.append(Hit(p, 0.0, via="provision"))
            found += 1
    return out


def contextual_query(question: str, history: Sequence[tuple[str, str]]) -> str:
    """A follow-up that points back ('and what about its Article 5?') carries the previous question along.

    Only words that refer back count: a short but self-contained question starts a new topic."""
    if not history:
        return question
    previous = history[-1][0]
    anaphoric = re.search(r"\b(it|its|this|that|these|those|they|them|their|there|same|above|also|what about|how about)\b|^(and|or|but)\b", question, re.I)
    return f"{previous} {question}" if anaphoric else question


def compose(
    question: str, query: str, evidence: Evidence, infos: dict[str, SourceInfo], settings: Settings, *,
    store: Store | None = None, embedder: Embedder | None = None,
) -> Answer:
    """Judge answerability, then write up the chosen sentences (or the premise correction) with citations.

    With the store, a question about what was decided (or whether something is lawful, a fair use) that the answer
    quotes a court decision for quotes the decision's holding on it (holdings.py), not its account of the facts."""
    judgement = judge(question, query, evidence, infos, max_quotes=settings.max_citations, min_similarity=settings.min_score)
    if judgement.kind == ANSWERED and store is not None and asks_holding(question):
        more, judgement = _by_holding(query, evidence, judgement, infos, store, embedder, settings.max_citations)
        # The answer's hits stay what retrieval found: a holding quoted from elsewhere in the decision is no retrieved passage.
        return replace(write(question, judgement, more, infos), hits=evidence.hits)
    return write(question, judgement, evidence, infos)


def _by_holding(
    query: str, evidence: Evidence, judgement: Judgement, infos: dict[str, SourceInfo], store: Store, embedder: Embedder | None, limit: int
) -> tuple[Evidence, Judgement]:
    """The answer's sentences with each quoted decision's holdings on the question (best first, MAX_HOLDINGS at most)
    put in place of the decision's first quoted sentence; its other sentences follow, room permitting."""
    quoted = {evidence.hits[q.hit_index].passage.doc_id for q in judgement.quotes}
    if not any(infos.get(d) and infos[d].kind == "decision" for d in quoted):
        return evidence, judgement
    more, held = holdings(query, evidence, infos, store, embedder)
    # Quoted from a retrieved passage, or from a stored one retrieval did not bring (the answer's hits stay the retrieved
    # ones; a citation of another passage resolves in the store): not from a passage completed across two.
    retrieved = {h.passage.passage_id for h in evidence.hits}
    stored = {p.passage_id: p.text for d in quoted for p in store.doc_passages(d)}

    def resolves(q: Quote) -> bool:
        p = more.hits[q.hit_index].passage
        return q.hit_index < len(evidence.hits) or (p.passage_id not in retrieved and stored.get(p.passage_id) == p.text)

    by_doc: dict[str, list[Quote]] = {}
    for q in more.quotes:  # best first
        if q in held and resolves(q):
            by_doc.setdefault(more.hits[q.hit_index].passage.doc_id, []).append(q)
    if not by_doc.keys() & quoted:
        return evidence, judgement
    chosen: list[Quote] = []
    spans: set[tuple[str, int, int]] = set()

    def add(q: Quote) -> None:
        if more.doc_span(q) not in spans:
            spans.add(more.doc_span(q))
            chosen.append(q)

    for q in judgement.quotes:
        for h in by_doc.pop(evidence.hits[q.hit_index].passage.doc_id, [])[:MAX_HOLDINGS]:
            add(h)
        add(q)
    return more, replace(judgement, quotes=tuple(chosen[:limit]))


def write(question: str, judgement: Judgement, evidence: Evidence, infos: dict[str, SourceInfo], engine: str = "extractive") -> Answer:
    """The Answer for a judgement: refusal text, cited quotes, or the premise correction with its quote."""
    hits = evidence.hits
    if judgement.kind == ANSWERED:
        citations, text = _write_up(judgement.quotes, hits, infos, partial(_needed_before, evidence), partial(_needed_after, evidence))
        return Answer(question, text, True, tuple(citations), hits, engine=engine)
    if judgement.kind == PREMISE_CONTRADICTED:
        citations, text = _write_up(judgement.quotes, hits, infos, partial(_needed_before, evidence), partial(_needed_after, evidence))
        return Answer(question, f"{judgement.message} {text}", False, tuple(citations), hits, engine=engine, kind=PREMISE_CONTRADICTED, reason=judgement.reason)
    return Answer(question, judgement.message, False, (), hits, engine=engine, reason=judgement.reason)


def _needed_before(evidence: Evidence, q: Quote) -> Quote | None:
    """The sentence a quote cannot be read without: the one introducing its list, or the one its opening word points
    back to in the same provision ("This obligation shall not apply…" after the obligation)."""
    return evidence.lead_of(q) or _in_provision_of(evidence, q, evidence.antecedent_of(q))


def _needed_after(evidence: Evidence, q: Quote) -> Quote | None:
    """The proviso qualifying a quoted rule (ただし…この限りでない), in the same provision, or None."""
    return _in_provision_of(evidence, q, evidence.proviso_of(q))


def _in_provision_of(evidence: Evidence, q: Quote, other: Quote | None) -> Quote | None:
    """`other` (a sentence of q's passage) when it has q's citation label, else None: quoted together, they are one
    citation of one provision."""
    hit = evidence.hits[q.hit_index]
    return other if other is not None and citation_label(hit, other.start) == citation_label(hit, q.start) else None


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


def _write_up(
    chosen: Sequence[Quote],
    hits: Sequence[Hit],
    infos: dict[str, SourceInfo],
    lead_of: Callable[[Quote], Quote | None] | None = None,
    proviso_of: Callable[[Quote], Quote | None] | None = None,
) -> tuple[list[Citation], str]:
    """Group quotes by document, in rank order: 'Under X, Article N: “…” [1]'. A sentence that introduces a list is
    quoted with its items (evidence.with_list); a chosen item inside that quote is not quoted again. A chosen item is
    quoted with the sentence introducing its list (`lead_of`), which says what the items are for, and a rule with the
    proviso that qualifies it (`proviso_of`)."""
    led: list[Quote] = []

    def free(o: Quote | None) -> bool:
        return o is not None and not any(x.hit_index == o.hit_index and x.start < o.end and o.start < x.end for x in (*chosen, *led))

    for q in chosen:
        lead = lead_of(q) if lead_of is not None else None
        if free(lead):
            led.append(lead)  # type: ignore[arg-type]
        led.append(q)
        proviso = proviso_of(q) if proviso_of is not None else None
        if free(proviso):
            led.append(proviso)  # type: ignore[arg-type]
    extended = [with_list(hits[q.hit_index], q) for q in led]
    chosen = [q for q in extended if not any(o is not q and _inside(q, o, hits) for o in extended)]
    chosen = [_before_others(q, plain, chosen, hits) for q, plain in zip(extended, led, strict=True) if q in chosen]
    chosen = _one_per_provision(chosen, hits, infos)
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


def _before_others(q: Quote, plain: Quote, quotes: Sequence[Quote], hits: Sequence[Hit]) -> Quote:
    """A list's quote that runs into another quote of the document (an item chosen on its own, which the list's quote
    reaches only in part: it stops at MAX_LIST_CHARS or at its passage's end) ends before that quote: no text is quoted
    twice. Never shorter than the sentence that introduces the list (`plain`)."""
    p = hits[q.hit_index].passage
    end = q.end
    for o in quotes:
        doc, o_start, o_end = doc_span(hits, o)
        if o is not q and doc == p.doc_id and p.start + q.start < o_start < p.start + end < o_end:
            end = o_start - p.start
    if end == q.end:
        return q
    end = max(plain.end, len(p.text[:end].rstrip()))
    return replace(q, end=end)


def _inside(q: Quote, other: Quote, hits: Sequence[Hit]) -> bool:
    """Whether `q` quotes text inside the longer quote `other` of the same document: of the same passage, or of another
    (a list's item retrieved on its own, inside its lead-in's quote that a neighbouring passage completed)."""
    (doc, start, end), (other_doc, other_start, other_end) = doc_span(hits, q), doc_span(hits, other)
    return doc == other_doc and other_start <= start and end <= other_end and other_end - other_start > end - start


def _one_per_provision(chosen: Sequence[Quote], hits: Sequence[Hit], infos: dict[str, SourceInfo]) -> list[Quote]:
    """Never the same provision of a work cited twice (#13): two sentences of one provision that follow each other
    become one quote; otherwise the better-ranked one stays."""
    kept: list[Quote] = []
    where: dict[tuple[str, str], int] = {}
    for q in chosen:
        p = hits[q.hit_index].passage
        info = infos.get(p.doc_id)
        key = (info.work_id if info else p.doc_id, citation_label(hits[q.hit_index], q.start))
        if key not in where:
            where[key] = len(kept)
            kept.append(q)
            continue
        other = kept[where[key]]
        if other.hit_index == q.hit_index:
            a, b = sorted((other, q), key=lambda x: x.start)
            if not p.text[a.end : b.start].strip():
                kept[where[key]] = Quote(a.hit_index, a.start, b.end, max(a.score, b.score), a.lexical, a.semantic, a.premise)
    return kept


def _page(passage, offset: int) -> int | None:  # type: ignore[no-untyped-def]
    """Page of a quote inside a PDF passage (passages may cross a page break)."""
    if passage.page is None:
        return None
    breaks = passage.meta.get("page_breaks") or []
    return passage.page + sum(1 for b in breaks if b <= offset)
