"""Side-by-side answers: one question answered separately per jurisdiction (or per document), each group cited or explicitly empty."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .answerability import answer_type, carries
from .errors import IpqaError, UnknownDocumentError
from .holdings import MAX_HOLDINGS, holdings
from .prompts import EMPTY_QUESTION, NOTHING_FOR
from .types import ANSWERED, Answer, Citation, SourceInfo

if TYPE_CHECKING:
    from .embedding import Embedder
    from .evidence import Evidence, Quote
    from .retrieve import Filters
    from .settings import Settings
    from .store import Store

BY_JURISDICTION = "jurisdiction"
BY_DOCUMENT = "document"
GROUPINGS = (BY_JURISDICTION, BY_DOCUMENT)
# Columns in this order (the ones the corpus covers); any other jurisdiction follows alphabetically, then documents without one.
JURISDICTION_ORDER = ("EU", "JP", "US", "CN", "International")
NO_JURISDICTION = "(no jurisdiction)"

Ask = Callable[..., Answer]


class CompareError(IpqaError):
    """A comparison that cannot be run as asked (unknown grouping or jurisdiction, nothing to compare)."""


@dataclass(frozen=True)
class Group:
    """One column of a comparison: its label and the retrieval filter that defines it."""

    label: str
    jurisdictions: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupAnswer:
    """A group's own answer (its own retrieval and answerability checks)."""

    group: Group
    answer: Answer

    @property
    def label(self) -> str:
        """The group's label ('EU', 'JP', or a document's short title)."""
        return self.group.label

    @property
    def answered(self) -> bool:
        """Whether this group's sources say something cited about the question."""
        return bool(self.answer.citations)

    @property
    def text(self) -> str:
        """The cited answer, or the explicit statement that this group's sources say nothing."""
        return self.answer.text if self.answered else NOTHING_FOR.format(label=self.label)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "label": self.label,
            "jurisdictions": list(self.group.jurisdictions),
            "doc_ids": list(self.group.doc_ids),
            "answered": self.answered,
            "text": self.text,
            "answer": self.answer.to_dict(),
        }


@dataclass(frozen=True)
class Comparison:
    """A question answered group by group."""

    question: str
    by: str
    groups: tuple[GroupAnswer, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (`ipqa compare --json`)."""
        return {"question": self.question, "by": self.by, "groups": [g.to_dict() for g in self.groups]}


def _jurisdiction_key(code: str) -> tuple[int, str]:
    if code in JURISDICTION_ORDER:
        return JURISDICTION_ORDER.index(code), code
    return (len(JURISDICTION_ORDER) + (code == NO_JURISDICTION), code)


def plan_groups(
    infos: Mapping[str, SourceInfo], *, by: str | None = None, documents: Sequence[str] = (), jurisdictions: Sequence[str] = ()
) -> tuple[str, list[Group]]:
    """The grouping used and its groups: per jurisdiction of the indexed (or given) documents, or one per given document."""
    by = by or (BY_DOCUMENT if documents else BY_JURISDICTION)
    if by not in GROUPINGS:
        raise CompareError(f"Cannot compare by '{by}' — use one of: {', '.join(GROUPINGS)}.")
    unknown = [d for d in documents if d not in infos]
    if unknown:
        raise UnknownDocumentError(f"No document '{unknown[0]}' in the index — see `ipqa sources`.")
    if not infos:
        raise CompareError("Nothing is indexed to compare — run `ipqa ingest corpus/` first.")
    pool = {d: infos[d] for d in (documents or infos)}
    if jurisdictions:
        known = {i.jurisdiction for i in pool.values()}
        missing = [j for j in jurisdictions if j not in known]
        if missing:
            raise CompareError(f"No indexed document has jurisdiction '{missing[0]}' — known: {', '.join(sorted(known - {''})) or 'none'}.")
        pool = {d: i for d, i in pool.items() if i.jurisdiction in jurisdictions}
    if by == BY_DOCUMENT:
        if not documents:
            raise CompareError("Comparing by document needs the documents to compare (`--doc ID`, repeatable).")
        chosen = [d for d in dict.fromkeys(documents) if d in pool]
        names = {d: pool[d].short_title or pool[d].title or d for d in chosen}
        # Two renditions of one work share a short title: their columns are told apart by document id.
        clash = {n for n in names.values() if list(names.values()).count(n) > 1}
        return by, [Group(f"{names[d]} ({d})" if names[d] in clash else names[d], (), (d,)) for d in chosen]
    codes: dict[str, list[str]] = {}
    for doc_id, info in sorted(pool.items()):
        codes.setdefault(info.jurisdiction or NO_JURISDICTION, []).append(doc_id)
    groups = []
    for code in sorted(codes, key=_jurisdiction_key):
        # A jurisdiction filter matches the catalogue's field; documents without one are reached by id.
        if code == NO_JURISDICTION:
            groups.append(Group(code, (), tuple(codes[code])))
        else:
            groups.append(Group(code, (code,), tuple(codes[code]) if documents else ()))
    return by, groups


def compare(
    question: str,
    *,
    ask: Ask,
    infos: Mapping[str, SourceInfo],
    by: str | None = None,
    documents: Sequence[str] = (),
    jurisdictions: Sequence[str] = (),
    top_k: int | None = None,
    engine: str | None = None,
) -> Comparison:
    """Answer `question` once per group through `ask` (the public `Assistant.ask`), so each group gets its own retrieval."""
    question = question.strip()
    if not question:
        raise CompareError(EMPTY_QUESTION)
    by, groups = plan_groups(infos, by=by, documents=documents, jurisdictions=jurisdictions)
    results = []
    for group in groups:
        result = ask(question, jurisdictions=group.jurisdictions, doc_ids=group.doc_ids, top_k=top_k, engine=engine)
        results.append(GroupAnswer(group, result))
    return Comparison(question, by, tuple(results))


# -- one column: what a jurisdiction's sources say, led by its primary law ------------------------------------------

# Catalog kinds of primary law (what binds); anything else (an article, a report, a document without a kind) is
# secondary and follows it in a column.
PRIMARY_KINDS = ("statute", "regulation", "treaty", "decision")
# A further document of the group is quoted beside the best one when its own best sentence scores at least this share
# of the group's best sentence, by the full score or by shared words alone (a sentence in another language than the
# question's is matched by glossary terms; the English-only model gives it no meaning score to speak of).
DOCUMENT_FLOOR = 0.6
# A column searches only its group's documents, and deeper than a chat answer: after the IPQA_TOP_K passages `ipqa ask`
# would read come those of a search this many times deeper. On eval/train.jsonl's comparison questions (32), groups
# with their gold quoted: 15/56 without, 21/56 with (a single search 2x/3x/4x deeper: 19/22/21, but it drops the first
# passages of the shallow one: Article 30-4 for the text-and-data-mining question).
COLUMN_DEPTH = 3
TYPED_DEPTH = 5


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def is_primary(info: SourceInfo | None) -> bool:
    """Whether a document is primary law (statute, regulation, treaty, court decision) by its catalog kind."""
    return bool(info) and info.kind in PRIMARY_KINDS  # type: ignore[union-attr]


def column_quotes(
    evidence: Evidence, chosen: Sequence[Quote], infos: Mapping[str, SourceInfo], limit: int, question: str = ""
) -> list[Quote]:
    """The sentences of one column: the best sentence of each of the group's best documents (so one document, often a
    commentary, does not crowd out the law), then the answer's other chosen sentences; primary law first."""
    if not evidence.quotes:
        return list(chosen)
    top = evidence.quotes[0].score
    top_words = max(q.lexical for q in evidence.quotes)

    def work(q: Quote) -> str:
        doc = evidence.hits[q.hit_index].passage.doc_id
        return infos[doc].work_id if doc in infos else doc

    # Each work's best sentence; for a question asking for a period, a date, an amount… its best one that states one,
    # among its TYPED_DEPTH best (answerability.choose does the same for the whole answer).
    kind = answer_type(question)
    best: dict[str, Quote] = {}
    seen: dict[str, int] = {}
    for q in evidence.quotes:  # best first
        w = work(q)
        seen[w] = seen.get(w, 0) + 1
        if w not in best or (kind and seen[w] <= TYPED_DEPTH and not carries(evidence.text(best[w]), kind) and carries(evidence.text(q), kind)):
            best[w] = q
    top_meaning = max(q.semantic for q in evidence.quotes)
    own_script = bool(_CJK.search(question))

    def supported(q: Quote) -> bool:
        if bool(_CJK.search(evidence.text(q))) != own_script:  # another language: matched by its glossary terms
            return q.lexical >= DOCUMENT_FLOOR * top_words
        return q.score >= DOCUMENT_FLOOR * top and q.semantic >= DOCUMENT_FLOOR * top_meaning

    picked = [q for q in best.values() if q is evidence.quotes[0] or supported(q)][:limit]
    for q in chosen:
        if len(picked) >= limit:
            break
        if q not in picked:
            picked.append(q)
    rank = {q: i for i, q in enumerate(picked)}
    return sorted(picked, key=lambda q: (not is_primary(infos.get(evidence.hits[q.hit_index].passage.doc_id)), rank[q]))


def _deeper_evidence(
    question: str, *, store: Store, embedder: Embedder, settings: Settings, filters: Filters
) -> tuple[str, Evidence, dict[str, SourceInfo]]:
    """The group's evidence as `ipqa ask` gathers it (IPQA_TOP_K passages, in their order, and the rest of their best
    provisions), followed by the further passages of a search COLUMN_DEPTH times deeper (a deeper search alone
    reorders the first ones: reciprocal-rank fusion over longer lists favours passages that are middling in both over
    the first of one)."""
    import time

    from .answer import read_alongside
    from .answerability import mix
    from .evidence import gather
    from .lexical import refs
    from .retrieve import retrieve, scope_languages

    infos = {r.doc_id: r.info for r in store.docs()}
    first = retrieve(question, store=store, embedder=embedder, settings=settings, filters=filters)
    first = read_alongside(question, first, store, infos, filters)  # as `ipqa ask` reads them
    seen = {h.passage.passage_id for h in first}
    deeper = retrieve(question, store=store, embedder=embedder, settings=settings, filters=filters, top_k=COLUMN_DEPTH * settings.top_k)
    hits = first + [h for h in deeper if h.passage.passage_id not in seen]
    scoped = {d: i for d, i in infos.items() if filters.allows(d, i.jurisdiction)}
    evidence = gather(
        question,
        hits,
        scoped,
        embedder=embedder,
        store=store,
        wanted=set(refs(question)),
        mix=mix(),
        deadline=time.monotonic() + settings.answer_seconds,
        languages=scope_languages(filters, infos),
    )
    return question, evidence, infos


def answer_column(
    question: str, *, store: Store, embedder: Embedder, settings: Settings, filters: Filters, top_k: int | None = None
) -> Answer:
    """One group's extractive answer: its own retrieval (deeper, see COLUMN_DEPTH, unless `top_k` is given) and
    answerability checks (as `ipqa ask`), then the column's sentences: each of its best documents quoted, a decision by
    its holding, primary law first."""
    from .answer import evidence_for, write
    from .answerability import judge

    if top_k:
        query, evidence, infos = evidence_for(question, store=store, embedder=embedder, settings=settings, filters=filters, top_k=top_k)
    else:
        query, evidence, infos = _deeper_evidence(question, store=store, embedder=embedder, settings=settings, filters=filters)
    judgement = judge(question, query, evidence, infos, max_quotes=settings.max_citations, min_similarity=settings.min_score)
    if judgement.kind != ANSWERED and judgement.reason == "no-answer-type" and not top_k:
        # The deeper search's further sentences can push the one that states the period or date asked for below the
        # depth where a sentence of that type is looked for: the column then answers as `ipqa ask` would, from the
        # passages a chat answer reads (Berne's Article 7(1) for "compare the copyright term … and the Berne Convention").
        query, evidence, infos = evidence_for(question, store=store, embedder=embedder, settings=settings, filters=filters)
        judgement = judge(question, query, evidence, infos, max_quotes=settings.max_citations, min_similarity=settings.min_score)
    if judgement.kind != ANSWERED:
        return write(question, judgement, evidence, infos)
    evidence, held = holdings(query, evidence, infos, store, embedder)
    # A decision with a holding on the question is quoted by its holding, not by its account of facts or arguments.
    ruled = {evidence.hits[q.hit_index].passage.doc_id for q in held}
    # Its holdings (best first) then the answer's other sentences fill the room the documents' best sentences leave.
    chosen = [q for q in evidence.quotes if q in held][:MAX_HOLDINGS] + [
        q for q in judgement.quotes if q not in held and evidence.hits[q.hit_index].passage.doc_id not in ruled
    ]
    quotes = column_quotes(evidence, chosen, infos, settings.max_citations, question)
    return write(question, replace(judgement, quotes=tuple(quotes)), evidence, infos)


# -- a question that compares jurisdictions, asked in the chat -------------------------------------------------------


_COMPARES = re.compile(
    r"\b(?:compare[sd]?|comparison|differ|differs|differently|difference|differences|versus|vs\.?|respectively|the way|unlike|similar(?:ly)?|"
    r"same as)\b|比較|違い|比较|区别|不同",
    re.I,
)


# What joins two names a question compares: a conjunction or a comma, then a few words ("China's Copyright Law and the
# Berne Convention", "Japan, China and the US", "in China, and who supervises … in the EU", "中国和日本", "日本と中国").
_JOINED = re.compile(r"(?:['’]s)?\s*(?:,|、|，|\band\b|\bor\b|\bversus\b|\bvs\.?|\bwith\b|和|与|及|跟|と|や|並びに)[^?？。]{0,60}", re.I)


def comparison_filters(question: str, infos: Mapping[str, SourceInfo]) -> list[Filters]:
    """One filter per jurisdiction a question compares ("How do China and the US treat…", "China's Copyright Law and the
    Berne Convention"): the jurisdictions it names and those of the documents it names, when they are two or more the
    index holds, named together or with a comparing word. A jurisdiction with a named document is searched in that
    document (and its renditions). With one jurisdiction, a comparing word and two or more named works: one filter per
    work. [] for any other question."""
    from .catalog import mentions, named_docs
    from .retrieve import JURISDICTION_RES, Filters, named_jurisdictions

    held = {i.jurisdiction for i in infos.values()}
    named = sorted(named_docs(question, dict(infos)))
    found = [j for j in named_jurisdictions(question) if j in held] + [infos[d].jurisdiction for d in named if infos[d].jurisdiction]
    # In the order the question names them ("Japan and China": Japan's column first).
    codes = sorted(dict.fromkeys(found), key=lambda j: m.start() if j in JURISDICTION_RES and (m := JURISDICTION_RES[j].search(question)) else len(question))
    works = list(dict.fromkeys(infos[d].work_id for d in named))
    compares = bool(_COMPARES.search(question))
    if len(codes) < 2 and len(works) >= 2 and compares:
        # Works of one jurisdiction compared ("Compare the rules on formalities in the Berne Convention and the WPPT"):
        # a column per work, each with all its renditions.
        return [Filters((), tuple(sorted(d for d, i in infos.items() if i.work_id == w))) for w in works]
    if len(codes) < 2:
        return []
    if not compares:
        # Two countries named apart ("Does a US developer need a representative in the EU?", a Chinese question about
        # Japan's law) are no comparison: their mentions must be joined ("Japan and China", "the EU AI Act or China's…").
        where = {j: [m.span() for m in JURISDICTION_RES[j].finditer(question)] if j in JURISDICTION_RES else [] for j in codes}
        for d in named:
            where.setdefault(infos[d].jurisdiction, []).extend(mentions(question, infos[d]))
        spans = sorted((s, e, j) for j, found_at in where.items() for s, e in found_at)
        if not any(a[2] != b[2] and _JOINED.fullmatch(question[a[1] : b[0]]) for a, b in zip(spans, spans[1:])):
            return []
    out = []
    for code in codes:
        docs = tuple(d for d in named if infos[d].jurisdiction == code)
        out.append(Filters((), docs) if docs else Filters((code,), ()))
    return out


def answer_across(
    question: str, whole: Answer, filters: Sequence[Filters], infos: Mapping[str, SourceInfo], *, store: Store, embedder: Embedder, settings: Settings
) -> Answer:
    """A comparison asked in the chat, answered side by side: each jurisdiction's own column (answer_column: its own
    search, answerability and sentences), the columns' cited answers one after the other, a column whose sources say
    nothing said so by name. The whole question's answer stays when no column is answered. Its hits stay the whole
    question's retrieval; the columns' passages follow as hits `via` "column" (no part of the ranking)."""
    from .retrieve import JURISDICTION_NAMES

    columns = [(f, answer_column(question, store=store, embedder=embedder, settings=settings, filters=f)) for f in filters]
    if not any(a.citations for _, a in columns):
        return whole
    texts: list[str] = []
    citations: list[Citation] = []
    hits = list(whole.hits)
    where = {h.passage.passage_id: k for k, h in enumerate(hits)}
    for f, a in columns:
        label = JURISDICTION_NAMES.get(f.jurisdictions[0], f.jurisdictions[0]) if f.jurisdictions else infos[f.doc_ids[0]].short_title
        if not a.citations:
            texts.append(NOTHING_FOR.format(label=label))
            continue
        shift = len(citations)
        texts.append(re.sub(r"\[(\d+)\]", lambda m, shift=shift: f"[{int(m.group(1)) + shift}]", a.text))
        citations += [replace(c, n=c.n + shift) for c in a.citations]
        quoted = {c.passage_id for c in a.citations}
        for h in a.hits:
            k = where.get(h.passage.passage_id)
            if k is None:
                where[h.passage.passage_id] = len(hits)
                hits.append(replace(h, via="column"))
            elif h.passage.passage_id in quoted and hits[k].passage.text != h.passage.text:
                # One passage id is one text in an answer: the one its citation quotes (a column's evidence may have
                # completed the passage further, over its list's end, than the whole question's did).
                hits[k] = replace(hits[k], passage=h.passage)
    return replace(whole, text="\n\n".join(texts), citations=tuple(citations), hits=tuple(hits))


# -- exports ----------------------------------------------------------------------------------


def to_markdown(comparison: Comparison) -> str:
    """The comparison as Markdown: one section per group, its answer and its sources."""
    lines = [f"# {comparison.question}", "", f"Compared by {comparison.by}: {', '.join(g.label for g in comparison.groups)}.", ""]
    for g in comparison.groups:
        lines += [f"## {g.label}", "", g.text, ""]
        for c in g.answer.citations if g.answered else ():
            where = f", p. {c.page}" if c.page else ""
            lines.append(f"- [{c.n}] {c.title} — {c.section}{where} — {c.url or c.file}")
        if g.answered:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


CSV_COLUMNS = ["group", "answered", "n", "document", "title", "provision", "page", "quote", "url", "doc_start", "doc_end", "answer"]


def to_csv(comparison: Comparison) -> str:
    """The comparison as CSV: one row per citation, one row for a group with nothing cited."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for g in comparison.groups:
        if not g.answered:
            writer.writerow([g.label, "no", "", "", "", "", "", "", "", "", "", g.text])
            continue
        for c in g.answer.citations:
            writer.writerow(
                [g.label, "yes", c.n, c.doc_id, c.title, c.section, c.page or "", c.quote, c.url or c.file, c.doc_start, c.doc_end, g.text]
            )
    return out.getvalue()
