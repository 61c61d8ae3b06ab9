"""Side-by-side answers: one question answered separately per jurisdiction (or per document), each group cited or explicitly empty."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import IpqaError, UnknownDocumentError
from .prompts import EMPTY_QUESTION, NOTHING_FOR
from .types import Answer, SourceInfo

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
            "label": self.label, "jurisdictions": list(self.group.jurisdictions), "doc_ids": list(self.group.doc_ids),
            "answered": self.answered, "text": self.text, "answer": self.answer.to_dict(),
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
            writer.writerow([g.label, "yes", c.n, c.doc_id, c.title, c.section, c.page or "", c.quote, c.url or c.file, c.doc_start, c.doc_end, g.text])
    return out.getvalue()
