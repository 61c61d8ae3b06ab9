"""Citation-accuracy evaluation: load an eval set, resolve gold quotes, ask every question, score, report."""

from __future__ import annotations

import json
import statistics
import time
import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .api import Assistant
from .errors import IpqaError
from .loaders import load
from .types import Answer
from .verify import count_unsupported

CATEGORIES = ("lookup", "definition", "obligation", "comparison", "commentary", "unanswerable", "false-premise")
FIELDS = ("id", "question", "category", "answerable", "evidence", "key_facts")


class EvalSetError(IpqaError):
    """The eval file is malformed or a quote cannot be found."""


@dataclass(frozen=True)
class Evidence:
    """A gold quote and where it sits: (doc_id, start, end) in every rendition that has it."""

    doc: str
    quote: str
    spans: tuple[tuple[str, int, int], ...] = ()


@dataclass(frozen=True)
class Question:
    """One line of the eval set."""

    id: str
    question: str
    category: str
    answerable: bool
    evidence: tuple[Evidence, ...]
    key_facts: tuple[str, ...]


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
        evidence = []
        for i, ev in enumerate(row["evidence"]):
            if not isinstance(ev, dict) or not {"doc", "quote"} <= ev.keys():
                raise EvalSetError(f"{where}: evidence[{i}] needs 'doc' and 'quote'")
            if not 20 <= len(ev["quote"]) <= 300:
                raise EvalSetError(f"{where}: evidence[{i}].quote is {len(ev['quote'])} characters (20-300 allowed)")
            evidence.append(Evidence(ev["doc"], ev["quote"]))
        if row["answerable"] != bool(evidence):
            raise EvalSetError(f"{where}: answerable={row['answerable']} but {len(evidence)} evidence item(s)")
        out.append(Question(row["id"], row["question"], row["category"], row["answerable"], tuple(evidence), tuple(row["key_facts"])))
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


def resolve(questions: Sequence[Question], assistant: Assistant) -> list[Question]:
    """Attach gold spans, using the documents indexed by `assistant`."""
    return resolve_in({d.doc_id: (Path(d.path), d.info.work_id) for d in assistant.sources()}, questions)


def resolve_in(docs: dict[str, tuple[Path, str]], questions: Sequence[Question]) -> list[Question]:
    """Attach gold spans in every rendition (doc id -> (file, work id)) of each evidence document.

    A quote missing from its own document is an error: the eval set and the corpus disagree.
    """
    works: dict[str, list[str]] = {}
    for doc_id, (_, work) in docs.items():
        works.setdefault(work, []).append(doc_id)
    texts: dict[str, tuple[str, list[int]]] = {}

    def text_of(doc_id: str) -> tuple[str, list[int]]:
        if doc_id not in texts:
            texts[doc_id] = normalise(load(docs[doc_id][0]).text)
        return texts[doc_id]

    out = []
    for q in questions:
        evidence = []
        for ev in q.evidence:
            if ev.doc not in docs:
                raise EvalSetError(f"{q.id}: evidence document '{ev.doc}' is not in the indexed corpus")
            spans = []
            for doc_id in works[docs[ev.doc][1]]:
                span = find_in(*text_of(doc_id), ev.quote)
                if span:
                    spans.append((doc_id, *span))
                elif doc_id == ev.doc:
                    raise EvalSetError(f"{q.id}: quote not found in {ev.doc}: “{ev.quote[:80]}…”")
            evidence.append(Evidence(ev.doc, ev.quote, tuple(spans)))
        out.append(Question(q.id, q.question, q.category, q.answerable, tuple(evidence), q.key_facts))
    return out


def _overlaps(doc_id: str, start: int, end: int, span: tuple[str, int, int]) -> bool:
    return doc_id == span[0] and start < span[2] and span[1] < end


@dataclass
class Scored:
    """Per-question result."""

    id: str
    category: str
    answerable: bool
    answered: bool
    latency_ms: float
    recall_at_k: float | None
    mrr: float | None
    citations: int
    citations_valid: int
    citations_on_gold: int
    gold_cited: float | None
    any_gold_cited: bool | None
    key_fact_recall: float | None
    unsupported: int
    cited: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    question: str = ""
    answer: str = ""


def score(q: Question, a: Answer, latency_ms: float) -> Scored:
    """All per-question metrics for one answer."""
    gold = [span for ev in q.evidence for span in ev.spans]
    hits = [h.passage for h in a.hits]
    by_id = {p.passage_id: p for p in hits}
    valid = sum(1 for c in a.citations if c.passage_id in by_id and by_id[c.passage_id].text[c.quote_start : c.quote_end] == c.quote and c.quote)
    on_gold = sum(1 for c in a.citations if c.passage_id in by_id and any(_overlaps(c.doc_id, by_id[c.passage_id].start, by_id[c.passage_id].end, s) for s in gold))
    recall = mrr = gold_cited = any_cited = facts = None
    if q.answerable:
        covered = [any(any(_overlaps(p.doc_id, p.start, p.end, s) for s in ev.spans) for p in hits) for ev in q.evidence]
        recall = sum(covered) / len(covered)
        first = next((i for i, p in enumerate(hits) if any(_overlaps(p.doc_id, p.start, p.end, s) for s in gold)), None)
        mrr = 1.0 / (first + 1) if first is not None else 0.0
        cited_passages = [by_id[c.passage_id] for c in a.citations if c.passage_id in by_id]
        per_ev = [any(any(_overlaps(p.doc_id, p.start, p.end, s) for s in ev.spans) for p in cited_passages) for ev in q.evidence]
        gold_cited = sum(per_ev) / len(per_ev)
        any_cited = any(per_ev)
        if q.key_facts:
            answer_text = " ".join(a.text.split()).lower() if a.answered else ""
            facts = sum(1 for f in q.key_facts if " ".join(f.split()).lower() in answer_text) / len(q.key_facts)
    return Scored(
        id=q.id, category=q.category, answerable=q.answerable, answered=a.answered, latency_ms=latency_ms,
        recall_at_k=recall, mrr=mrr, citations=len(a.citations), citations_valid=valid, citations_on_gold=on_gold,
        gold_cited=gold_cited, any_gold_cited=any_cited, key_fact_recall=facts,
        unsupported=count_unsupported(a.flags),
        cited=[f"{c.doc_id} {c.section}" + (f" p.{c.page}" if c.page else "") for c in a.citations],
        expected=[f"{ev.doc}: “{ev.quote[:90]}”" for ev in q.evidence], question=q.question, answer=a.text,
    )


def _mean(values: Sequence[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def summarise(rows: Sequence[Scored]) -> dict[str, Any]:
    """Overall metrics for a group of questions."""
    answerable = [r for r in rows if r.answerable]
    unanswerable = [r for r in rows if not r.answerable]
    cites = sum(r.citations for r in rows)
    lat = sorted(r.latency_ms for r in rows)
    return {
        "questions": len(rows),
        "recall_at_k": _mean([r.recall_at_k for r in answerable]),
        "mrr": _mean([r.mrr for r in answerable]),
        "citation_integrity": (sum(r.citations_valid for r in rows) / cites) if cites else None,
        "citation_precision": (sum(r.citations_on_gold for r in rows) / cites) if cites else None,
        "citation_recall_questions": _mean([float(r.any_gold_cited) for r in answerable if r.any_gold_cited is not None]),
        "citation_recall_spans": _mean([r.gold_cited for r in answerable]),
        "key_fact_recall": _mean([r.key_fact_recall for r in answerable]),
        "abstention_accuracy": _mean([float(not r.answered) for r in unanswerable]),
        "false_abstention_rate": _mean([float(not r.answered) for r in answerable]),
        "unsupported_sentences": sum(r.unsupported for r in rows),
        "latency_p50_ms": statistics.median(lat) if lat else None,
        "latency_p95_ms": lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))] if lat else None,
    }


def run(assistant: Assistant, questions: Sequence[Question], *, engine: str | None = None, progress: bool = False) -> dict[str, Any]:
    """Ask every question through the chat's code path (with `engine`, else the assistant's) and score it."""
    from tqdm import tqdm

    rows, fallbacks = [], 0
    name = engine or assistant.engine
    for q in tqdm(questions, desc=f"Evaluating ({name})", unit="question", disable=not progress):
        t0 = time.perf_counter()
        a = assistant.ask(q.question, engine=name)
        fallbacks += a.engine != name
        rows.append(score(q, a, (time.perf_counter() - t0) * 1000))
    categories = {c: summarise([r for r in rows if r.category == c]) for c in CATEGORIES if any(r.category == c for r in rows)}
    overall = summarise(rows) | {"fallbacks": fallbacks}
    return {"overall": overall, "categories": categories, "questions": [asdict(r) for r in rows], "engine": name}


def side_by_side(runs: Sequence[dict[str, Any]]) -> str:
    """Markdown table comparing the overall metrics of several engines."""
    lines = ["| metric | " + " | ".join(r["engine"] for r in runs) + " |", "|---|" + "---|" * len(runs)]
    for key, label in {**METRIC_LABELS, "unsupported_sentences": "Unsupported sentences", "fallbacks": "Fallbacks to extractive"}.items():
        lines.append(f"| {label} | " + " | ".join(_fmt(r["overall"].get(key)) for r in runs) + " |")
    return "\n".join(lines)


def worst(results: dict[str, Any], n: int = 10) -> list[dict[str, Any]]:
    """The questions that went most wrong: wrong abstention first, then least gold cited."""

    def badness(r: dict[str, Any]) -> float:
        if not r["answerable"]:
            return 2.0 if r["answered"] else 0.0
        if not r["answered"]:
            return 1.5
        return 1.0 - (r["gold_cited"] or 0.0) + 0.5 * (1.0 - (r["key_fact_recall"] if r["key_fact_recall"] is not None else 1.0))

    return sorted(results["questions"], key=lambda r: -badness(r))[:n]


def check_gate(results: dict[str, Any], gate_file: Path) -> list[str]:
    """Metrics below (or, for rates to minimise, above) the thresholds in a TOML file."""
    gate = tomllib.loads(gate_file.read_text(encoding="utf-8"))
    failures = []
    overall = results["overall"]
    for name, floor in gate.get("min", {}).items():
        value = overall.get(name)
        if value is None or value < floor:
            failures.append(f"{name} = {_fmt(value)} < {floor}")
    for name, ceiling in gate.get("max", {}).items():
        value = overall.get(name)
        if value is None or value > ceiling:
            failures.append(f"{name} = {_fmt(value)} > {ceiling}")
    return failures


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


METRIC_LABELS = {
    "recall_at_k": "Recall@k",
    "mrr": "MRR",
    "citation_integrity": "Citation integrity",
    "citation_precision": "Citation precision",
    "citation_recall_questions": "Citation recall (questions)",
    "citation_recall_spans": "Citation recall (spans)",
    "key_fact_recall": "Key-fact recall",
    "abstention_accuracy": "Abstention accuracy",
    "false_abstention_rate": "False abstention rate",
    "latency_p50_ms": "Latency p50 (ms)",
    "latency_p95_ms": "Latency p95 (ms)",
}


def markdown_report(results: dict[str, Any], title: str = "ipqa citation-accuracy eval") -> str:
    """Readable Markdown: overall metrics, per-category table, worst questions."""
    lines = [f"# {title}", "", f"Engine: {results.get('engine', 'extractive')} — {results['overall']['questions']} questions", "", "## Overall", "", "| metric | value |", "|---|---|"]
    lines += [f"| {label} | {_fmt(results['overall'].get(key))} |" for key, label in METRIC_LABELS.items()]
    keys = ["recall_at_k", "mrr", "citation_precision", "citation_recall_questions", "key_fact_recall", "abstention_accuracy", "false_abstention_rate"]
    lines += ["", "## Per category", "", "| category | n | " + " | ".join(METRIC_LABELS[k] for k in keys) + " |", "|---|---|" + "---|" * len(keys)]
    for cat, m in results["categories"].items():
        lines.append(f"| {cat} | {m['questions']} | " + " | ".join(_fmt(m.get(k)) for k in keys) + " |")
    lines += ["", "## Worst 10 questions", ""]
    for r in worst(results):
        lines += [
            f"### {r['id']} ({r['category']}) — {r['question']}",
            f"- answered: {r['answered']}; gold cited: {_fmt(r['gold_cited'])}; key facts: {_fmt(r['key_fact_recall'])}",
            f"- cited: {', '.join(r['cited']) or '—'}",
            f"- expected: {'; '.join(r['expected']) or 'abstention'}",
            "",
        ]
    return "\n".join(lines)


def chart_png(results: dict[str, Any]) -> bytes:
    """Bar chart of the main metrics per category (PNG)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ["recall_at_k", "citation_precision", "citation_recall_questions", "key_fact_recall", "abstention_accuracy"]
    cats = list(results["categories"])
    fig, ax = plt.subplots(figsize=(11, 4.5), dpi=110)
    width = 0.8 / len(keys)
    for i, key in enumerate(keys):
        values = [results["categories"][c].get(key) or 0.0 for c in cats]
        ax.bar([x + i * width for x in range(len(cats))], values, width, label=METRIC_LABELS[key])
    ax.set_xticks([x + width * (len(keys) - 1) / 2 for x in range(len(cats))], cats)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    ax.set_title("Metrics per category")
    ax.legend(fontsize=8, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def html_report(results: dict[str, Any], title: str = "ipqa citation-accuracy eval", compare: Sequence[dict[str, Any]] = ()) -> str:
    """Self-contained HTML report with the chart embedded (and engines side by side, when several ran)."""
    import base64
    import html

    esc = html.escape
    labels = {**METRIC_LABELS, "unsupported_sentences": "Unsupported sentences", "fallbacks": "Fallbacks to extractive"}
    versus = ""
    if len(compare) > 1:
        cells = "".join(
            f"<tr><td>{esc(label)}</td>" + "".join(f"<td>{esc(_fmt(r['overall'].get(key)))}</td>" for r in compare) + "</tr>" for key, label in labels.items()
        )
        versus = "<h2>Engines side by side</h2><table><tr><th>metric</th>" + "".join(f"<th>{esc(r['engine'])}</th>" for r in compare) + f"</tr>{cells}</table>"
    overall = "".join(f"<tr><td>{esc(label)}</td><td>{esc(_fmt(results['overall'].get(key)))}</td></tr>" for key, label in METRIC_LABELS.items())
    keys = ["recall_at_k", "mrr", "citation_precision", "citation_recall_questions", "key_fact_recall", "abstention_accuracy", "false_abstention_rate"]
    head = "".join(f"<th>{esc(METRIC_LABELS[k])}</th>" for k in keys)
    cat_rows = "".join(
        f"<tr><td>{esc(c)}</td><td>{m['questions']}</td>" + "".join(f"<td>{esc(_fmt(m.get(k)))}</td>" for k in keys) + "</tr>"
        for c, m in results["categories"].items()
    )
    worst_rows = "".join(
        f"<tr><td>{esc(r['id'])}</td><td>{esc(r['category'])}</td><td>{esc(r['question'])}</td><td>{'yes' if r['answered'] else 'abstained'}</td>"
        f"<td>{'<br>'.join(esc(x) for x in r['cited']) or '—'}</td><td>{'<br>'.join(esc(x) for x in r['expected']) or 'abstention'}</td></tr>"
        for r in worst(results)
    )
    png = base64.b64encode(chart_png(results)).decode()
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:4px 8px;font-size:14px;vertical-align:top}}th{{background:#f3f3f3}}</style></head><body>
<h1>{esc(title)}</h1><p>Engine: {esc(results.get('engine', 'extractive'))} — {results['overall']['questions']} questions</p>{versus}
<h2>Overall</h2><table><tr><th>metric</th><th>value</th></tr>{overall}</table>
<h2>Per category</h2><table><tr><th>category</th><th>n</th>{head}</tr>{cat_rows}</table>
<img alt="metrics per category" src="data:image/png;base64,{png}" style="max-width:100%">
<h2>Worst 10 questions</h2><table><tr><th>id</th><th>category</th><th>question</th><th>answer</th><th>cited</th><th>expected</th></tr>{worst_rows}</table>
</body></html>"""
