"""Small frozen records passed between the pipeline stages."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class SourceInfo:
    """What the catalog (or the file itself) says about a document."""

    doc_id: str
    title: str
    short_title: str
    work_id: str
    publisher: str = ""
    jurisdiction: str = ""
    date: str = ""
    url: str = ""
    kind: str = ""
    file: str = ""
    aliases: tuple[str, ...] = ()
    language: str = ""  # "ja", "zh", "en", ... ("" when the catalog does not say)
    authoritative: bool = True  # False: a translation without legal effect (its work's original is authoritative)


@dataclass(frozen=True)
class Heading:
    """A heading found by the loader: offset into the document text, level, text."""

    start: int
    level: int
    text: str


@dataclass(frozen=True)
class Document:
    """A loaded document: its extracted text, page starts (PDF) and headings."""

    path: str
    text: str
    file_type: str
    page_starts: tuple[int, ...] = ()
    headings: tuple[Heading, ...] = ()
    warnings: tuple[str, ...] = ()

    def page_at(self, offset: int) -> int | None:
        """1-based page holding character `offset`, or None for paginated-less documents."""
        if not self.page_starts:
            return None
        import bisect

        return bisect.bisect_right(self.page_starts, offset)


def headings(meta: dict[str, Any], heading: str) -> str:
    """A passage's container titles (meta "within") and its own heading, as one string (Passage.headings, the BM25 text)."""
    return " ".join(filter(None, (meta.get("within", ""), heading)))


@dataclass(frozen=True)
class Passage:
    """One chunk of a document, stored and retrieved as a unit."""

    passage_id: str
    doc_id: str
    text: str
    section: str
    start: int
    end: int
    page: int | None = None
    heading: str = ""
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def headings(self) -> str:
        """The titles of the parts it sits in (chunking: "Patents" for TRIPS Article 33) and its own heading."""
        return headings(self.meta, self.heading)


@dataclass(frozen=True)
class Hit:
    """A retrieved passage with its fused score and per-retriever ranks; `via` names how a passage that retrieval did not
    rank came among the hits ("provision": another passage of a retrieved provision; "column": a side of a comparison's
    own search; "lead-in": the passage holding the sentence that introduces a quoted item's list), '' for a retrieved one."""

    passage: Passage
    score: float
    dense_rank: int | None = None
    bm25_rank: int | None = None
    similarity: float | None = None
    via: str = ""


@dataclass(frozen=True)
class Counterpart:
    """The same article in the other rendition of the cited work (an act published in two languages)."""

    doc_id: str
    title: str
    section: str
    text: str
    url: str
    language: str
    authoritative: bool
    note: str  # e.g. "English translation without legal effect; the Japanese text is authoritative"


@dataclass(frozen=True)
class Citation:
    """A `[n]` marker: the quoted span and everything needed to check it."""

    n: int
    passage_id: str
    doc_id: str
    work_id: str
    title: str
    section: str
    page: int | None
    quote: str
    quote_start: int
    quote_end: int
    doc_start: int
    doc_end: int
    passage: str
    url: str
    file: str
    jurisdiction: str = ""
    date: str = ""
    counterpart: Counterpart | None = None  # the same article in the work's other language (renditions.py)


# What an answer is: the sources answer it, they do not (refusal), or they contradict the question's premise.
ANSWERED = "answered"
REFUSED = "refused"
PREMISE_CONTRADICTED = "premise_contradicted"
ANSWER_KINDS = (ANSWERED, REFUSED, PREMISE_CONTRADICTED)


@dataclass(frozen=True)
class Answer:
    """An answer with its citations and the passages it was built from.

    `kind` is one of ANSWER_KINDS (derived from `answered` when not given); `reason` says why a refusal or a
    premise correction was given (e.g. "not-in-index", "missing-provision", "unused-term", "no-answer-type", "weak-evidence")."""

    question: str
    text: str
    answered: bool
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...]
    engine: str = "extractive"
    notice: str = ""
    flags: tuple[str, ...] = ()
    kind: str = ""
    reason: str = ""

    def __post_init__(self) -> None:
        if not self.kind:
            object.__setattr__(self, "kind", ANSWERED if self.answered else REFUSED)
        if self.kind not in ANSWER_KINDS:
            raise ValueError(f"Answer.kind must be one of {', '.join(ANSWER_KINDS)}, not {self.kind!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (`ipqa ask --json`)."""
        data = asdict(self)
        data["hits"] = [
            {
                "passage_id": h.passage.passage_id,
                "doc_id": h.passage.doc_id,
                "section": h.passage.section,
                "page": h.passage.page,
                "score": h.score,
                "dense_rank": h.dense_rank,
                "bm25_rank": h.bm25_rank,
                "via": h.via,
                "cited": any(c.passage_id == h.passage.passage_id for c in self.citations),
            }
            for h in self.hits
        ]
        from .markers import marker_spans

        # Where ipqa's own markers are: a "[3]" quoted from a document is text, and consumers need not guess.
        data["markers"] = [{"n": n, "start": start, "end": end} for start, end, n in marker_spans(self.text, self.citations)]
        return data
