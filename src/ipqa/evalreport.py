"""Eval reports: Markdown, self-contained HTML (optional chart), JSON; written core-first so a missing extra loses nothing."""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import metrics as M
from .evaluate import fmt

HEADLINE = [m for m in M.METRICS if m.headline]
LABELS = {m.key: m.label for m in M.METRICS} | {
    "latency_p50_ms": "Latency p50 (ms)", "latency_p95_ms": "Latency p95 (ms)",
    "unsupported_sentences": "Unsupported sentences", "fallbacks": "Fallbacks to extractive",
}
# The columns of the per-category / language / document tables.
BREAKDOWN = [
    "citation_precision", "citation_recall_questions", "citation_precision_passage", "recall_at_k", "char_recall_at_k",
    "key_fact_recall", "false_abstention_rate", "refusal_f1_unanswerable", "refusal_f1_false_premise",
]
TITLE = "ipqa citation-accuracy eval"


def _ci(results: dict[str, Any], key: str) -> str:
    ci = (results["overall"].get("intervals") or {}).get(key)
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "—"


def _signed(v: float | None) -> str:
    return "n/a" if v is None else f"{v:+.3f}"


def overall_rows(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(label, value, 95% interval) for every headline metric, then the counts without intervals."""
    o = results["overall"]
    rows = [(m.label, fmt(o.get(m.key)), _ci(results, m.key)) for m in HEADLINE]
    rows.append((LABELS["citation_integrity"] + " — a failure stops the run", fmt(o.get("citation_integrity")), "—"))
    rows += [(LABELS[k], fmt(o.get(k)), "—") for k in ("latency_p50_ms", "latency_p95_ms", "unsupported_sentences", "fallbacks")]
    return rows


def breakdown_rows(table: dict[str, Any]) -> list[list[str]]:
    """One row per group (category, language, document): n and the breakdown metrics."""
    return [[name, str(m["questions"]), *(fmt(m.get(k)) for k in BREAKDOWN)] for name, m in table.items()]


def group_rows(results: dict[str, Any], key: str = "groups") -> list[list[str]]:
    """Per jurisdiction of comparison questions: gold span retrieved / quoted (chat answer, or `ipqa compare`)."""
    return [[g, str(s["questions"]), f"{s['retrieved']} ({s['retrieved_rate']:.2f})", f"{s['cited']} ({s['cited_rate']:.2f})"]
            for g, s in results.get(key, {}).items()]


def comparison_questions(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(id, 'EU ✓ · JP ✗' in the chat answer, the same per `ipqa compare` group) for each comparison question."""

    def marks(groups: list[dict[str, Any]]) -> str:
        return " · ".join(f"{g['group']} {'✓' if g['cited'] else '✗'}" for g in groups) or "—"

    return [(r["id"], marks(r["groups"]), marks(r.get("compare_groups", []))) for r in results["questions"] if r.get("groups")]


def baseline_rows(cmp: dict[str, Any]) -> list[list[str]]:
    """Metric, old, new, change, paired 95% interval of the change, flag."""
    out = []
    for row in cmp["metrics"]:
        ci = row["delta_interval"]
        flag = ("REGRESSION" if row["regression"] else "improved") if row["flagged"] else ""
        out.append([row["label"], fmt(row["old"]), fmt(row["new"]), _signed(row["delta"]), f"[{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else "—", flag])
    return out


def baseline_text(cmp: dict[str, Any]) -> str:
    """Plain lines for the terminal: each metric's change, flagged ones marked."""
    lines = [f"against the baseline ({cmp['paired_questions']} questions paired):"]
    for label, old, new, delta, ci, flag in baseline_rows(cmp):
        lines.append(f"  {'!!' if flag == 'REGRESSION' else '++' if flag else '  '} {label}: {old} -> {new} ({delta}, 95% CI {ci}){' ' + flag if flag else ''}")
    lines.append(f"  {len(cmp['changed'])} question(s) changed outcome")
    return "\n".join(lines)


def worst(results: dict[str, Any], n: int = 10) -> list[dict[str, Any]]:
    """The questions that went most wrong: answered when it should not have, refused when it should not, least gold quoted."""

    def badness(r: dict[str, Any]) -> float:
        if not r["answerable"]:
            return 2.0 if r["answered"] else (1.0 if r.get("premise_caught") is False and r["kind"] != "refused" else 0.0)
        if not r["answered"]:
            return 1.5
        return 1.0 - (r["gold_cited"] or 0.0) + 0.5 * (1.0 - (r["key_fact_recall"] if r["key_fact_recall"] is not None else 1.0))

    return sorted(results["questions"], key=lambda r: -badness(r))[:n]


def _md_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head), *("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows)]


def side_by_side(runs: Sequence[dict[str, Any]]) -> str:
    """Markdown table comparing the overall metrics of several engines."""
    keys = [*(m.key for m in HEADLINE), "citation_integrity", "latency_p50_ms", "latency_p95_ms", "unsupported_sentences", "fallbacks"]
    return "\n".join(_md_table(["metric", *(r["engine"] for r in runs)], [[LABELS[k], *(fmt(r["overall"].get(k)) for r in runs)] for k in keys]))


def markdown_report(results: dict[str, Any], title: str = TITLE) -> str:
    """Readable Markdown: overall metrics with intervals, breakdowns, baseline changes, worst questions."""
    o = results["overall"]
    b = results.get("bootstrap", {})
    lines = [f"# {title}", "", f"Engine: {results.get('engine', 'extractive')} — {o['questions']} questions. "
             f"Intervals: bootstrap {b.get('level', 0.95):.0%} over questions ({b.get('reps', '?')} resamples, seed {b.get('seed', '?')}).", "", "## Overall", ""]
    lines += _md_table(["metric", "value", "95% interval"], overall_rows(results))
    lines += ["", "Outcomes: " + ", ".join(f"{k} {v}" for k, v in results.get("outcomes", {}).items()), ""]
    head = [LABELS[k] for k in BREAKDOWN]
    for name, key in (("category", "categories"), ("language", "languages"), ("document", "documents")):
        if results.get(key):
            lines += ["", f"## Per {name}", "", *_md_table([name, "n", *head], breakdown_rows(results[key]))]
    if results.get("groups"):
        head = ["jurisdiction", "questions", "gold retrieved", "gold quoted"]
        lines += ["", "## Comparison questions per jurisdiction", "", "In the chat's single answer:", "", *_md_table(head, group_rows(results)), ""]
        if results.get("compare_groups"):
            lines += ["In `ipqa compare` (one answer per jurisdiction of the gold evidence):", "", *_md_table(head, group_rows(results, "compare_groups")), ""]
        lines += [f"- {qid}: {chat} (compare: {cmp})" for qid, chat, cmp in comparison_questions(results)]
    cmp = results.get("baseline")
    if cmp:
        lines += ["", "## Against the baseline", "", f"{cmp['paired_questions']} questions in both runs; a change is flagged when its paired 95% interval excludes 0.", ""]
        lines += _md_table(["metric", "baseline", "now", "change", "95% interval of the change", "flag"], baseline_rows(cmp))
        lines += ["", f"### Questions whose outcome changed ({len(cmp['changed'])})", ""]
        lines += [f"- {c['id']} ({c['category']}): {c['old']} → {c['new']} — {c['question']}" for c in cmp["changed"]] or ["none"]
    lines += ["", "## Worst 10 questions", ""]
    for r in worst(results):
        lines += [
            f"### {r['id']} ({r['category']}, {r['language']}) — {r['question']}",
            f"- outcome: {r['outcome']}; gold quoted: {fmt(r['gold_cited'])}; key facts: {fmt(r['key_fact_recall'])}"
            + (f" (missing: {', '.join(r['facts_missing'])})" if r.get("facts_missing") else ""),
            f"- cited: {'; '.join(r['cited']) or '—'}",
            f"- expected: {'; '.join(r['expected']) or 'refusal'}",
            "",
        ]
    return "\n".join(lines)


def chart_png(results: dict[str, Any]) -> bytes:
    """Bar chart of the main metrics per category (PNG); needs the `eval` extra (matplotlib)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ["citation_precision", "citation_recall_questions", "recall_at_k", "key_fact_recall", "abstention_accuracy"]
    cats = list(results["categories"])
    fig, ax = plt.subplots(figsize=(11, 4.5), dpi=110)
    width = 0.8 / len(keys)
    for i, key in enumerate(keys):
        values = [results["categories"][c].get(key) or 0.0 for c in cats]
        ax.bar([x + i * width for x in range(len(cats))], values, width, label=LABELS[key])
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


def _html_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    esc = html.escape
    return ("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{esc(str(c)).replace(chr(10), '<br>')}</td>" for c in r) + "</tr>" for r in rows) + "</table>")


def html_report(results: dict[str, Any], title: str = TITLE, compare: Sequence[dict[str, Any]] = (), chart: bytes | None = None) -> str:
    """Self-contained HTML report (chart embedded when given; engines side by side when several ran)."""
    import base64

    esc = html.escape
    o = results["overall"]
    parts = [f"<h1>{esc(title)}</h1><p>Engine: {esc(results.get('engine', 'extractive'))} — {o['questions']} questions; "
             "intervals: bootstrap 95% over questions.</p>"]
    if len(compare) > 1:
        keys = [*(m.key for m in HEADLINE), "citation_integrity", "latency_p50_ms", "unsupported_sentences", "fallbacks"]
        parts.append("<h2>Engines side by side</h2>" + _html_table(["metric", *(r["engine"] for r in compare)],
                                                                     [[LABELS[k], *(fmt(r["overall"].get(k)) for r in compare)] for k in keys]))
    parts.append("<h2>Overall</h2>" + _html_table(["metric", "value", "95% interval"], overall_rows(results)))
    parts.append("<p>Outcomes: " + esc(", ".join(f"{k} {v}" for k, v in results.get("outcomes", {}).items())) + "</p>")
    cmp = results.get("baseline")
    if cmp:
        parts.append(f"<h2>Against the baseline</h2><p>{cmp['paired_questions']} questions in both runs; flagged when the paired 95% interval of the change excludes 0.</p>")
        parts.append(_html_table(["metric", "baseline", "now", "change", "95% interval of the change", "flag"], baseline_rows(cmp)))
        parts.append(f"<h3>Questions whose outcome changed ({len(cmp['changed'])})</h3>"
                     + _html_table(["id", "category", "question", "baseline", "now"], [[c["id"], c["category"], c["question"], c["old"], c["new"]] for c in cmp["changed"]]))
    head = [LABELS[k] for k in BREAKDOWN]
    for name, key in (("category", "categories"), ("language", "languages"), ("document", "documents")):
        if results.get(key):
            parts.append(f"<h2>Per {name}</h2>" + _html_table([name, "n", *head], breakdown_rows(results[key])))
    if chart:
        parts.append(f'<img alt="metrics per category" src="data:image/png;base64,{base64.b64encode(chart).decode()}" style="max-width:100%">')
    if results.get("groups"):
        head = ["jurisdiction", "questions", "gold retrieved", "gold quoted"]
        parts.append("<h2>Comparison questions per jurisdiction</h2><p>In the chat's single answer:</p>" + _html_table(head, group_rows(results)))
        if results.get("compare_groups"):
            parts.append("<p>In <code>ipqa compare</code> (one answer per jurisdiction):</p>" + _html_table(head, group_rows(results, "compare_groups")))
        parts.append(_html_table(["question", "gold quoted per group (chat)", "gold quoted per group (compare)"], comparison_questions(results)))
    parts.append("<h2>Worst 10 questions</h2>" + _html_table(
        ["id", "category", "question", "outcome", "cited", "expected"],
        [[r["id"], r["category"], r["question"], r["outcome"], "\n".join(r["cited"]) or "—", "\n".join(r["expected"]) or "refusal"] for r in worst(results)],
    ))
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:4px 8px;font-size:14px;vertical-align:top}}th{{background:#f3f3f3}}</style></head><body>
{''.join(parts)}
</body></html>"""


def write_reports(runs: Sequence[dict[str, Any]], json_out: Path, md_out: Path, html_out: Path, note: Callable[[str], None] = print) -> None:
    """Write JSON and Markdown first, then the HTML; the chart is optional and its absence costs one line."""
    results = runs[0]
    data = results if len(runs) == 1 else {"engines": {r["engine"]: r for r in runs}}
    md = "\n\n".join(markdown_report(r, f"{TITLE} — {r['engine']}") for r in runs)
    if len(runs) > 1:
        md = "# Engines side by side\n\n" + side_by_side(runs) + "\n\n" + md
    for out, text in ((json_out, json.dumps(data, ensure_ascii=False, indent=1)), (md_out, md)):
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    try:
        chart = chart_png(results)
    except ImportError:
        chart = None
        note("chart skipped: matplotlib is not installed (pip install 'ipqa[eval]' for the chart in the HTML report)")
    html_out.parent.mkdir(parents=True, exist_ok=True)
    html_out.write_text(html_report(results, f"{TITLE} — {results['engine']}", compare=runs, chart=chart), encoding="utf-8")
