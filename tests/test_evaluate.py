"""The eval runner: set validation, quote resolution against our own loaders, scoring, reports, gate."""

import json
from pathlib import Path

import pytest
from conftest import ROOT, SHARED

from ipqa import evaluate
from ipqa.api import Assistant
from ipqa.catalog import Catalog

EVAL_SET = ROOT / "eval" / "questions.jsonl"


def test_shipped_eval_set_is_valid_and_every_quote_resolves() -> None:
    questions = evaluate.load_set(EVAL_SET)
    assert len(questions) >= 120
    unanswerable = [q for q in questions if not q.answerable]
    assert len(unanswerable) / len(questions) >= 0.2
    catalog = Catalog.builtin()
    docs = {info.doc_id: (SHARED / name, info.work_id) for name, info in catalog.by_file.items()}
    resolved = evaluate.resolve_in(docs, questions)
    used = {ev.doc for q in resolved for ev in q.evidence}
    assert used == set(docs), set(docs) - used  # every shared document is asked about
    for q in resolved:
        for ev in q.evidence:
            assert ev.spans, (q.id, ev.doc)
    # An AI Act quote taken from the HTML is also found in the Official Journal PDF: either rendition counts.
    both = [ev for q in resolved for ev in q.evidence if ev.doc == "eu-ai-act-2024-1689" and len(ev.spans) == 2]
    assert len(both) >= 10


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "x"}', "missing field(s) question, category, answerable, evidence, key_facts"),
        ('{"id": "x", "question": "q", "category": "trivia", "answerable": false, "evidence": [], "key_facts": []}', "field 'category' is 'trivia'"),
        ('{"id": "x", "question": "q", "category": "lookup", "answerable": true, "evidence": [], "key_facts": []}', "answerable=True but 0 evidence item(s)"),
        ('{"id": "x", "question": "q", "category": "lookup", "answerable": true, "evidence": [{"doc": "d", "quote": "short"}], "key_facts": []}', "evidence[0].quote is 5 characters"),
        ("{not json", "not valid JSON"),
    ],
)
def test_bad_eval_lines_name_file_line_and_field(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(evaluate.EvalSetError) as err:
        evaluate.load_set(path)
    assert str(err.value).startswith(f"{path}:1: ") and message in str(err.value)


def test_quote_not_in_document_fails_loudly(tmp_path: Path) -> None:
    doc = tmp_path / "a.txt"
    doc.write_text("The term of protection shall be fifty years after the death of the author.")
    q = evaluate.Question("q1", "?", "lookup", True, (evaluate.Evidence("a", "seventy years after the death of the author"),), ())
    with pytest.raises(evaluate.EvalSetError, match="q1: quote not found in a"):
        evaluate.resolve_in({"a": (doc, "a")}, [q])
    q = evaluate.Question("q1", "?", "lookup", True, (evaluate.Evidence("a", "fifty   years after\nthe death"),), ())
    start = doc.read_text().find("fifty")
    assert evaluate.resolve_in({"a": (doc, "a")}, [q])[0].evidence[0].spans == (("a", start, start + len("fifty years after the death")),)


def test_run_scores_and_reports_on_a_real_index(small: Assistant, tmp_path: Path) -> None:
    rows = [
        {"id": "a1", "question": "Which right does the WIPO Copyright Treaty give authors to communicate their works to the public?", "category": "lookup",
         "answerable": True, "evidence": [{"doc": "wipo-copyright-treaty-wct-1996", "quote": "shall enjoy the exclusive right of authorizing any communication to the public of their works"}],
         "key_facts": ["communication to the public"]},
        {"id": "u1", "question": "What is the boiling point of water at sea level?", "category": "unanswerable", "answerable": False, "evidence": [], "key_facts": []},
    ]
    path = tmp_path / "mini.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    questions = evaluate.resolve(evaluate.load_set(path), small)
    results = evaluate.run(small, questions)
    overall = results["overall"]
    assert overall["questions"] == 2
    assert overall["citation_integrity"] == 1.0
    assert overall["recall_at_k"] == 1.0 and overall["abstention_accuracy"] == 1.0
    by_id = {r["id"]: r for r in results["questions"]}
    assert by_id["a1"]["any_gold_cited"] is True and by_id["u1"]["answered"] is False
    md = evaluate.markdown_report(results)
    assert "| lookup | 1 |" in md and "## Worst 10 questions" in md
    html = evaluate.html_report(results)
    assert html.count("data:image/png;base64,") == 1 and "<script" not in html
    gate = tmp_path / "gate.toml"
    gate.write_text("[min]\ncitation_integrity = 1.0\nrecall_at_k = 0.5\n[max]\nfalse_abstention_rate = 0.0\n")
    assert evaluate.check_gate(results, gate) == []
    gate.write_text("[min]\nkey_fact_recall = 1.01\n")
    assert evaluate.check_gate(results, gate) == ["key_fact_recall = 1.000 < 1.01"]


def test_engines_side_by_side_count_fallbacks(small: Assistant, tmp_path: Path) -> None:
    rows = [{"id": "a1", "question": "Which right does the WIPO Copyright Treaty give authors to communicate their works to the public?", "category": "lookup",
             "answerable": True, "evidence": [{"doc": "wipo-copyright-treaty-wct-1996", "quote": "exclusive right of authorizing any communication to the public of their works"}],
             "key_facts": []}]
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(rows[0]))
    questions = evaluate.resolve(evaluate.load_set(path), small)
    # No LLM server is configured here: the openai engine falls back to extractive, and the run says so.
    runs = [evaluate.run(small, questions, engine="extractive"), evaluate.run(small, questions, engine="openai")]
    assert [r["engine"] for r in runs] == ["extractive", "openai"]
    assert runs[0]["overall"]["fallbacks"] == 0 and runs[1]["overall"]["fallbacks"] == 1
    table = evaluate.side_by_side(runs)
    assert table.splitlines()[0] == "| metric | extractive | openai |"
    assert "| Fallbacks to extractive | 0 | 1 |" in table
    assert "<h2>Engines side by side</h2>" in evaluate.html_report(runs[0], compare=runs)
