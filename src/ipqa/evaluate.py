"""Citation-accuracy evaluation: load an eval set, resolve gold quotes, ask every question, score, compare with a baseline.

Metric arithmetic (overlaps, key-fact normalisation, ratios, bootstrap) lives in `metrics.py`; reports in `evalreport.py`.
"""

from __future__ import annotations

import json
import statistics
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import metrics as M
from .errors import IpqaError
from .loaders import load
from .renditions import article_key
from .types import PREMISE_CONTRADICTED, REFUSED, Answer, Passage, SourceInfo
from .verify import count_unsupported

CATEGORIES = ("lookup", "definition", "obligation", "comparison", "commentary", "unanswerable", "false-premise")
FIELDS = ("id", "question", "category", "answerable", "evidence", "key_facts")
LANGUAGES = ("en", "zh", "ja")
SEED = 20261125
REPS = 2000


class EvalSetError(IpqaError):
    """The eval file is malformed or a quote cannot be found."""


class CitationIntegrityError(IpqaError):
    """An engine produced a citation that is not verbatim or does not resolve: the eval stops."""


@dataclass(frozen=True)
class Evidence:
    """A gold quote and where it sits: (doc_id, start, end) in every rendition that has it."""

    doc: str
    quote: str
    spans: tuple[tuple[str, int, int], ...] = ()
    jurisdiction: str = ""


@dataclass(frozen=True)
class Question:
    """One line of the eval set; `contradiction` holds the passages that refute a false premise."""

    id: str
    question: str
    category: str
    answerable: bool
    evidence: tuple[Evidence, ...]
    key_facts: tuple[str, ...]
    contradiction: tuple[Evidence, ...] = ()

    @property
    def language(self) -> str:
        """en / zh / ja, from the question's script."""
        return M.language_of(self.question)


def _quotes(where: str, name: str, items: Any) -> list[Evidence]:
    if not isinstance(items, list):
        raise EvalSetError(f"{where}: field '{name}' must be a list of {{doc, quote}}")
    out = []
    for i, ev in enumerate(items):
        if not isinstance(ev, dict) or not {"doc", "quote"} <= ev.keys() or not all(isinstance(ev[k], str) for k in ("doc", "quote")):
            raise EvalSetError(f"{where}: {name}[{i}] needs 'doc' and 'quote' (strings)")
        if not 20 <= len(ev["quote"]) <= 300:
            raise EvalSetError(f"{where}: {name}[{i}].quote is {len(ev['quote'])} characters (20-300 allowed)")
        out.append(Evidence(ev["doc"], ev["quote"]))
    return out


def load_set(path: Path) -> list[Question]:
    """Parse and validate a JSONL eval set; errors name the file, line and field."""
    if not path.exists():
        raise EvalSetError(f"{path}: no such eval file")
    out, seen = [], set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalSetError(f"{where}: not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise EvalSetError(f"{where}: expected a JSON object")
        missing = [f for f in FIELDS if f not in row]
        if missing:
            raise EvalSetError(f"{where}: missing field(s) {', '.join(missing)}")
        if row["id"] in seen:
            raise EvalSetError(f"{where}: duplicate id '{row['id']}'")
        seen.add(row["id"])
        if row["category"] not in CATEGORIES:
            raise EvalSetError(f"{where}: field 'category' is '{row['category']}', expected one of {', '.join(CATEGORIES)}")
        if not isinstance(row["answerable"], bool):
            raise EvalSetError(f"{where}: field 'answerable' must be true or false")
        evidence = _quotes(where, "evidence", row["evidence"])
        if row["answerable"] != bool(evidence):
            raise EvalSetError(f"{where}: answerable={row['answerable']} but {len(evidence)} evidence item(s)")
        contradiction = _quotes(where, "contradiction", row.get("contradiction", []))
        if contradiction and row["answerable"]:
            raise EvalSetError(f"{where}: field 'contradiction' is only allowed on answerable=false questions (the passage refuting a false premise)")
        facts = row["key_facts"]
        if not isinstance(facts, list) or not all(isinstance(f, str) and f.strip() for f in facts):
            raise EvalSetError(f"{where}: field 'key_facts' must be a list of non-empty strings")
        out.append(Question(row["id"], row["question"], row["category"], row["answerable"], tuple(evidence), tuple(facts), tuple(contradiction)))
    if not out:
        raise EvalSetError(f"{path}: no questions")
    return out


def normalise(text: str) -> tuple[str, list[int]]:
    """Collapse whitespace runs to one space; return the text and each character's original offset."""
    chars, offsets = [], []
    space = False
    for i, ch in enumerate(text):
        if ch.isspace():
            if not space and chars:
                chars.append(" ")
                offsets.append(i)
            space = True
        else:
            chars.append(ch)
            offsets.append(i)
            space = False
    return "".join(chars), offsets


def find_in(norm: str, offsets: list[int], quote: str) -> tuple[int, int] | None:
    """Original-text span of `quote` in a normalised text, ignoring differences in whitespace."""
    needle = " ".join(quote.split())
    at = norm.find(needle)
    if at < 0 or not needle:
        return None
    return offsets[at], offsets[at + len(needle) - 1] + 1


@lru_cache(maxsize=64)
def _text(path: str, stamp: tuple[int, int]) -> str:
    return load(Path(path)).text


def document_text(path: Path | str) -> str:
    """A document's extracted text, as our loaders give it (cached while the file is unchanged)."""
    st = Path(path).stat()
    return _text(str(path), (st.st_mtime_ns, st.st_size))


def resolve(questions: Sequence[Question], assistant: Any) -> list[Question]:
    """Attach gold spans (and jurisdictions), using the documents indexed by `assistant`; translations' articles too."""
    sources = assistant.sources()
    resolved = resolve_in({d.doc_id: (Path(d.path), d.info.work_id) for d in sources}, questions, {d.doc_id: d.info.jurisdiction for d in sources})
    return in_translations(resolved, {d.doc_id: d.info for d in sources}, assistant.passages)


def in_translations(questions: Sequence[Question], infos: dict[str, SourceInfo], passages_of: Callable[[str], Sequence[Passage]]) -> list[Question]:
    """Each gold span also in the same article of its work's renditions in another language.

    A text and its translation are one work, and a citation of either counts as the act; their words differ, so the
    quote is found in one and its article (aligned by number, as the chat's counterparts are) stands for it in the other.
    """
    works: dict[str, list[str]] = {}
    for doc_id, info in infos.items():
        works.setdefault(info.work_id, []).append(doc_id)
    cache: dict[str, Sequence[Passage]] = {}

    def passages(doc_id: str) -> Sequence[Passage]:
        if doc_id not in cache:
            cache[doc_id] = passages_of(doc_id)
        return cache[doc_id]

    def widened(ev: Evidence) -> Evidence:
        info = infos.get(ev.doc)
        others = [d for d in works.get(info.work_id, ()) if infos[d].language != info.language] if info else []
        if not others:
            return ev
        found = {s[0] for s in ev.spans}
        keys = {k for p in passages(ev.doc) if any(M.overlaps((p.doc_id, p.start, p.end), s) for s in ev.spans) for k in [article_key(p.section)] if k}
        extra = tuple((d, p.start, p.end) for d in others if d not in found for p in passages(d) if article_key(p.section) in keys)
        return replace(ev, spans=ev.spans + extra) if extra else ev

    return [replace(q, evidence=tuple(map(widened, q.evidence)), contradiction=tuple(map(widened, q.contradiction))) for q in questions]


def resolve_in(docs: dict[str, tuple[Path, str]], questions: Sequence[Question], jurisdictions: dict[str, str] | None = None) -> list[Question]:
    """Attach gold spans in every rendition (doc id -> (file, work id)) of each evidence and contradiction document.

    A quote missing from its own document is an error: the eval set and the corpus disagree.
    """
    works: dict[str, list[str]] = {}
    for doc_id, (_, work) in docs.items():
        works.setdefault(work, []).append(doc_id)
    texts: dict[str, tuple[str, list[int]]] = {}

    def text_of(doc_id: str) -> tuple[str, list[int]]:
        if doc_id not in texts:
            texts[doc_id] = normalise(document_text(docs[doc_id][0]))
        return texts[doc_id]

    def spans_of(q: Question, ev: Evidence, name: str) -> Evidence:
        if ev.doc not in docs:
            raise EvalSetError(f"{q.id}: {name} document '{ev.doc}' is not in the indexed corpus")
        spans = []
        for doc_id in works[docs[ev.doc][1]]:
            span = find_in(*text_of(doc_id), ev.quote)
            if span:
                spans.append((doc_id, *span))
            elif doc_id == ev.doc:
                raise EvalSetError(f"{q.id}: {'' if name == 'evidence' else name + ' '}quote not found in {ev.doc}: “{ev.quote[:80]}…”")
        return Evidence(ev.doc, ev.quote, tuple(spans), (jurisdictions or {}).get(ev.doc, ""))

    return [
        Question(
            q.id, q.question, q.category, q.answerable, tuple(spans_of(q, ev, "evidence") for ev in q.evidence), q.key_facts,
            tuple(spans_of(q, ev, "contradiction") for ev in q.contradiction),
        )
        for q in questions
    ]


def check_citations(q: Question, a: Answer, doc_text: Callable[[str], str | None], passages: Callable[[str], Sequence[Passage]] = lambda _d: ()) -> int:
    """Raise `CitationIntegrityError` naming the question unless every citation quotes its passage and its document verbatim.

    `doc_text(doc_id)` gives a document's extracted text (None when the document is not indexed); `passages(doc_id)`
    finds a cited passage that is not among the answer's hits. Returns how many citations were checked.
    """
    by_id = {h.passage.passage_id: h.passage for h in a.hits}
    for c in a.citations:
        where = f"{q.id}: citation [{c.n}] ({c.doc_id} {c.section}, engine {a.engine})"
        if not c.quote:
            raise CitationIntegrityError(f"{where} quotes nothing")
        text = doc_text(c.doc_id)
        if text is None:
            raise CitationIntegrityError(f"{where} does not resolve: document '{c.doc_id}' is not in the index")
        if text[c.doc_start : c.doc_end] != c.quote:
            raise CitationIntegrityError(f"{where} is not verbatim: the document has other text at {c.doc_start}-{c.doc_end}")
        p = by_id.get(c.passage_id) or next((x for x in passages(c.doc_id) if x.passage_id == c.passage_id), None)
        if p is None or p.doc_id != c.doc_id:
            raise CitationIntegrityError(f"{where} does not resolve: no passage '{c.passage_id}' in {c.doc_id}")
        if p.text[c.quote_start : c.quote_end] != c.quote or p.start + c.quote_start != c.doc_start:
            raise CitationIntegrityError(f"{where} is not verbatim in passage {c.passage_id} at {c.quote_start}-{c.quote_end}")
    return len(a.citations)


@dataclass
class Scored:
    """Per-question result; `components` are the summable counts every metric is computed from."""

    id: str
    category: str
    language: str
    answerable: bool
    kind: str
    answered: bool
    outcome: str
    latency_ms: float
    docs: list[str]
    recall_at_k: float | None
    mrr: float | None
    char_recall_at_k: float | None
    char_precision_at_k: float | None
    citations: int
    citations_on_gold: int
    citations_on_gold_passage: int
    gold_cited: float | None
    any_gold_cited: bool | None
    key_fact_recall: float | None
    facts_missing: list[str]
    premise_caught: bool | None
    groups: list[dict[str, Any]]
    unsupported: int
    components: dict[str, float]
    compare_groups: list[dict[str, Any]] = field(default_factory=list)
    cited: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    question: str = ""
    answer: str = ""


def _outcome(q: Question, a: Answer, gold_quoted: bool, caught: bool) -> str:
    if a.kind == REFUSED:
        return "refused"
    if a.kind == PREMISE_CONTRADICTED:
        if q.category == "false-premise" and q.contradiction:
            return "premise contradicted, right quote" if caught else "premise contradicted, wrong quote"
        return "premise contradicted"
    if q.answerable:
        return "answered, gold quoted" if gold_quoted else "answered, no gold quote"
    return "answered"


def score(q: Question, a: Answer, latency_ms: float) -> Scored:
    """All per-question metrics for one answer (quote-level citation credit, passage level kept beside it)."""
    gold = [s for ev in q.evidence for s in ev.spans]
    hits = [h.passage for h in a.hits]
    by_id = {p.passage_id: p for p in hits}
    quotes = [(c.doc_id, c.doc_start, c.doc_end) for c in a.citations]
    passages = [(p.doc_id, p.start, p.end) for p in (by_id.get(c.passage_id) for c in a.citations) if p is not None]
    # Retrieval's own ranking: passages the answer read for another reason (the rest of a retrieved provision) are no hits of it.
    retrieved = [(h.passage.doc_id, h.passage.start, h.passage.end) for h in a.hits if not h.via]

    def hit(span: M.Span, spans: Sequence[M.Span]) -> bool:
        return any(M.overlaps(span, s) for s in spans)

    on_gold = sum(hit(s, gold) for s in quotes)
    on_gold_passage = sum(hit(s, gold) for s in passages)
    declined = a.kind != "answered"
    comp: dict[str, float] = {"cit": len(a.citations), "cit_valid": len(a.citations)}
    recall = mrr = char_recall = char_precision = gold_cited = facts = None
    any_quote: bool | None = None
    missing: list[str] = []
    groups: list[dict[str, Any]] = []
    if q.answerable:
        per_ev = [any(hit(s, ev.spans) for s in quotes) for ev in q.evidence]
        per_ev_passage = [any(hit(s, ev.spans) for s in passages) for ev in q.evidence]
        covered = [any(hit(s, ev.spans) for s in retrieved) for ev in q.evidence]
        recall = sum(covered) / len(covered)
        first = next((i for i, s in enumerate(retrieved) if hit(s, gold)), None)
        mrr = 1.0 / (first + 1) if first is not None else 0.0
        # Character-level retrieval (LegalBench-RAG): gold characters inside the retrieved text, and the other way round.
        got = M.by_doc(retrieved)
        best = [max(((M.covered((s[1], s[2]), got.get(s[0], [])), s[2] - s[1]) for s in ev.spans), key=lambda x: x[0] / x[1]) for ev in q.evidence]
        char_recall = sum(b[0] for b in best) / sum(b[1] for b in best)
        gold_by_doc = M.by_doc(gold)
        total = sum(e - s for spans in got.values() for s, e in spans)
        char_precision = sum(M.covered(iv, gold_by_doc.get(doc, [])) for doc, spans in got.items() for iv in spans) / total if total else 0.0
        gold_cited, any_quote = sum(per_ev) / len(per_ev), any(per_ev)
        if q.key_facts:
            text = a.text if not declined else ""
            missing = [f for f in q.key_facts if not M.fact_in(f, text)]
            facts = 1 - len(missing) / len(q.key_facts)
            comp |= {"has_facts": 1.0, "facts": facts}
        comp |= {
            "ans": 1.0, "cit_ans": len(a.citations), "cit_gold_quote": on_gold, "cit_gold_passage": on_gold_passage,
            "gold_cited_quote": gold_cited, "any_gold_quote": float(any_quote), "any_gold_passage": float(any(per_ev_passage)),
            "recall_k": recall, "rr": mrr, "char_recall": char_recall, "char_precision": char_precision,
            "ans_declined": float(declined), "ans_answered": float(not declined), "ans_answered_wrong": float(not declined and not any_quote),
        }
        if q.category == "comparison":
            by_group: dict[str, list[Evidence]] = {}
            for ev in q.evidence:
                by_group.setdefault(ev.jurisdiction or ev.doc, []).append(ev)
            groups = [
                {"group": g, "retrieved": any(hit(s, ev.spans) for ev in evs for s in retrieved), "cited": any(hit(s, ev.spans) for ev in evs for s in quotes)}
                for g, evs in by_group.items()
            ]
    contra = [s for ev in q.contradiction for s in ev.spans]
    caught = a.kind == PREMISE_CONTRADICTED and any(hit(s, contra) for s in quotes)
    premise_caught = None
    if q.category == "false-premise" and not q.answerable:
        # A premise correction counts only when it quotes the refuting passage (when the set names one).
        right = caught if q.contradiction else a.kind == PREMISE_CONTRADICTED
        premise_caught = right
        handled = a.kind == REFUSED or right
        comp |= {"fp": 1.0, "fp_declined": float(declined), "fp_answered": float(not declined), "fp_handled": float(handled), "fp_caught": float(right)}
    elif not q.answerable:
        comp |= {"unans": 1.0, "unans_declined": float(declined), "unans_answered": float(not declined)}
    return Scored(
        id=q.id, category=q.category, language=q.language, answerable=q.answerable, kind=a.kind, answered=a.kind == "answered",
        outcome=_outcome(q, a, bool(any_quote), caught), latency_ms=latency_ms,
        docs=sorted({ev.doc for ev in (*q.evidence, *q.contradiction)}),
        recall_at_k=recall, mrr=mrr, char_recall_at_k=char_recall, char_precision_at_k=char_precision,
        citations=len(a.citations), citations_on_gold=on_gold, citations_on_gold_passage=on_gold_passage,
        gold_cited=gold_cited, any_gold_cited=any_quote, key_fact_recall=facts, facts_missing=missing, premise_caught=premise_caught,
        groups=groups, unsupported=count_unsupported(a.flags), components=comp,
        cited=[f"{c.doc_id} {c.section}" + (f" p.{c.page}" if c.page else "") + f": “{c.quote[:90]}”" for c in a.citations],
        expected=[f"{ev.doc}: “{ev.quote[:90]}”" for ev in q.evidence] + [f"contradicted by {ev.doc}: “{ev.quote[:90]}”" for ev in q.contradiction],
        question=q.question, answer=a.text,
    )


def score_groups(q: Question, answers: Sequence[tuple[str, Answer]]) -> list[dict[str, Any]]:
    """Per group of a comparison (`ipqa compare`: one answer per jurisdiction): was its own gold span retrieved and quoted?"""
    out = []
    for label, a in answers:
        evs = [ev for ev in q.evidence if ev.jurisdiction == label]
        if not evs:
            continue
        spans = [s for ev in evs for s in ev.spans]
        retrieved = any(M.overlaps((h.passage.doc_id, h.passage.start, h.passage.end), s) for h in a.hits if not h.via for s in spans)
        cited = any(M.overlaps((c.doc_id, c.doc_start, c.doc_end), s) for c in a.citations for s in spans)
        out.append({"group": label, "retrieved": retrieved, "cited": cited, "kind": a.kind})
    return out


def summarise(rows: Sequence[dict[str, Any]], *, intervals: bool = False) -> dict[str, Any]:
    """Every metric over a group of scored questions (as dicts), with bootstrap 95% intervals when asked."""
    comps = [r["components"] for r in rows]
    lat = sorted(r["latency_ms"] for r in rows)
    out: dict[str, Any] = {"questions": len(rows), **M.summarise(comps)}
    out |= {
        "unsupported_sentences": sum(r["unsupported"] for r in rows),
        "latency_p50_ms": statistics.median(lat) if lat else None,
        "latency_p95_ms": lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))] if lat else None,
    }
    if intervals:
        ci = M.bootstrap([m for m in M.METRICS if m.headline], comps, REPS, SEED)
        out["intervals"] = {k: list(v) if v else None for k, v in ci.items()}
    return out


def _breakdown(rows: Sequence[dict[str, Any]], key: Callable[[dict[str, Any]], Sequence[str]], order: Sequence[str] = ()) -> dict[str, Any]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        for k in key(r):
            groups.setdefault(k, []).append(r)
    names = [k for k in order if k in groups] + sorted(k for k in groups if k not in order)
    return {k: summarise(groups[k]) for k in names}


def comparison_groups(rows: Sequence[dict[str, Any]], key: str = "groups") -> dict[str, dict[str, Any]]:
    """Per jurisdiction, over comparison questions: how often its gold span was retrieved and quoted.

    `key` "groups" scores the chat's single answer; "compare_groups" the per-jurisdiction answers of `ipqa compare`.
    """
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        for g in r.get(key, []):
            s = out.setdefault(g["group"], {"questions": 0, "retrieved": 0, "cited": 0})
            s["questions"] += 1
            s["retrieved"] += g["retrieved"]
            s["cited"] += g["cited"]
    for s in out.values():
        s["retrieved_rate"] = s["retrieved"] / s["questions"]
        s["cited_rate"] = s["cited"] / s["questions"]
    return dict(sorted(out.items()))


def aggregate(rows: Sequence[dict[str, Any]], engine: str, fallbacks: int = 0) -> dict[str, Any]:
    """The results object written as JSON: overall (with intervals) and per category, language, document and group."""
    return {
        "engine": engine,
        "overall": summarise(rows, intervals=True) | {"fallbacks": fallbacks},
        "bootstrap": {"reps": REPS, "seed": SEED, "level": 0.95, "resampled": "questions"},
        "categories": _breakdown(rows, lambda r: [r["category"]], CATEGORIES),
        "languages": _breakdown(rows, lambda r: [r["language"]], LANGUAGES),
        "documents": _breakdown(rows, lambda r: r["docs"]),
        "groups": comparison_groups(rows),
        "compare_groups": comparison_groups(rows, "compare_groups"),
        "outcomes": {o: sum(r["outcome"] == o for r in rows) for o in sorted({r["outcome"] for r in rows})},
        "questions": list(rows),
    }


def run(assistant: Any, questions: Sequence[Question], *, engine: str | None = None, progress: bool = False) -> dict[str, Any]:
    """Ask every question through the chat's code path (with `engine`, else the assistant's), check and score it.

    Raises `CitationIntegrityError` at the first citation that is not verbatim or does not resolve.
    """
    from tqdm import tqdm

    paths = {d.doc_id: d.path for d in assistant.sources()}

    def doc_text(doc_id: str) -> str | None:
        return document_text(paths[doc_id]) if doc_id in paths else None

    rows, fallbacks = [], 0
    name = engine or assistant.engine
    for q in tqdm(questions, desc=f"Evaluating ({name})", unit="question", disable=not progress):
        t0 = time.perf_counter()
        a = assistant.ask(q.question, engine=name)
        latency = (time.perf_counter() - t0) * 1000
        fallbacks += a.engine != name
        check_citations(q, a, doc_text, assistant.passages)
        row = score(q, a, latency)
        juris = sorted({ev.jurisdiction for ev in q.evidence if ev.jurisdiction})
        if q.category == "comparison" and len(juris) > 1 and hasattr(assistant, "compare"):
            # The comparison view: one answer per jurisdiction of the gold evidence, each checked like any answer.
            groups = assistant.compare(q.question, jurisdictions=juris, engine=name).groups
            for g in groups:
                check_citations(q, g.answer, doc_text, assistant.passages)
            row.compare_groups = score_groups(q, [(g.label, g.answer) for g in groups])
        rows.append(asdict(row))
    return aggregate(rows, name, fallbacks)


def baseline_of(data: dict[str, Any], engine: str) -> dict[str, Any]:
    """The results of `engine` in a saved JSON report (single- or multi-engine)."""
    if "engines" in data:
        engines = data["engines"]
        return engines.get(engine) or next(iter(engines.values()))
    return data


def compare_baseline(results: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    """Each headline metric's change against a baseline run, flagged when its paired 95% interval excludes 0.

    Questions present in both runs are resampled together (paired bootstrap); a baseline without per-question
    components is compared against this run's own interval instead.
    """
    old_rows = {r["id"]: r for r in baseline.get("questions", [])}
    new_rows = {r["id"]: r for r in results["questions"]}
    shared = [i for i in new_rows if i in old_rows and "components" in old_rows[i]]
    headline = [m for m in M.METRICS if m.headline]
    paired = M.paired_deltas(headline, [new_rows[i]["components"] for i in shared], [old_rows[i]["components"] for i in shared], REPS, SEED) if shared else {}
    lines = []
    for m in headline:
        new, old = results["overall"].get(m.key), baseline.get("overall", {}).get(m.key)
        delta = None if new is None or old is None else new - old
        ci = paired.get(m.key)
        if ci is not None:
            flagged = delta is not None and (ci[0] > 0 or ci[1] < 0)
        else:
            own = (results["overall"].get("intervals") or {}).get(m.key)
            flagged = delta is not None and own is not None and not own[0] <= old <= own[1]
        worse = flagged and delta is not None and ((delta > 0) == m.lower_is_better)
        lines.append({"metric": m.key, "label": m.label, "old": old, "new": new, "delta": delta, "delta_interval": list(ci) if ci else None,
                      "flagged": flagged, "regression": worse})
    changed = [
        {"id": i, "question": new_rows[i].get("question", ""), "category": new_rows[i]["category"], "old": old_rows[i].get("outcome"), "new": new_rows[i]["outcome"]}
        for i in new_rows if i in old_rows and "outcome" in old_rows[i] and old_rows[i]["outcome"] != new_rows[i]["outcome"]
    ]
    return {"metrics": lines, "changed": changed, "paired_questions": len(shared),
            "only_new": sorted(set(new_rows) - set(old_rows)), "only_old": sorted(set(old_rows) - set(new_rows))}


def check_gate(results: dict[str, Any], gate_file: Path) -> list[str]:
    """Metrics below (or, for rates to minimise, above) the thresholds in a TOML file."""
    try:
        gate = tomllib.loads(gate_file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise EvalSetError(f"{gate_file}: invalid thresholds file ({exc})") from None
    failures = []
    overall = results["overall"]
    for name, floor in gate.get("min", {}).items():
        value = overall.get(name)
        if value is None or value < floor:
            failures.append(f"{name} = {fmt(value)} < {floor}")
    for name, ceiling in gate.get("max", {}).items():
        value = overall.get(name)
        if value is None or value > ceiling:
            failures.append(f"{name} = {fmt(value)} > {ceiling}")
    return failures


def fmt(value: Any) -> str:
    """A metric value for a table."""
    if value is None:
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)
