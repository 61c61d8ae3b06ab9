"""The eval runner: set validation, quote resolution against our own loaders, scoring, reports, gate."""

import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, ROOT, SHARED

from ipqa import evalreport, evaluate, metrics
from ipqa.api import Assistant
from ipqa.catalog import Catalog
from ipqa.types import Answer, Citation, Hit, Passage, SourceInfo

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
        for ev in q.evidence + q.contradiction:
            assert ev.spans, (q.id, ev.doc)
    # False premises carry the passage that refutes them (verbatim, resolved like evidence).
    refuted = [q for q in resolved if q.contradiction]
    assert len(refuted) >= 20 and all(q.category == "false-premise" and not q.answerable for q in refuted)
    # An AI Act quote taken from the HTML is also found in the Official Journal PDF: either rendition counts.
    both = [ev for q in resolved for ev in q.evidence if ev.doc == "eu-ai-act-2024-1689" and len(ev.spans) == 2]
    assert len(both) >= 10


def test_train_and_test_sets_share_no_question() -> None:
    """The engine is tuned on train.jsonl only: a test question repeated there (up to case and punctuation) leaks."""
    def key(text: str) -> str:
        return " ".join("".join(ch if ch.isalnum() else " " for ch in text.casefold()).split())

    test = {key(q.question): q.id for q in evaluate.load_set(EVAL_SET)}
    shared = [(q.id, test[key(q.question)]) for q in evaluate.load_set(ROOT / "eval" / "train.jsonl") if key(q.question) in test]
    assert not shared, shared


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


def test_a_gold_quote_also_stands_in_the_same_article_of_a_translation(tmp_path: Path) -> None:
    ja, en = tmp_path / "ja.txt", tmp_path / "en.txt"
    ja.write_text("第一条 目的を定める。第二条 定義を定める。")
    en.write_text("Article 1 This Act sets its purpose. Article 2 This Act defines terms.")
    infos = {
        "ja": SourceInfo("ja", "JA", "JA", "act", language="ja"),
        "en": SourceInfo("en", "EN", "EN", "act", language="en", authoritative=False),
        "other": SourceInfo("other", "O", "O", "other", language="en"),
    }
    passages = {
        "ja": [Passage("ja1", "ja", "第一条 目的を定める。", "Article 1 (第一条)", 0, 11), Passage("ja2", "ja", "第二条 定義を定める。", "Article 2 (第二条)", 11, 22)],
        "en": [Passage("en1", "en", "Article 1 This Act sets its purpose.", "Article 1", 0, 36), Passage("en2", "en", "Article 2 This Act defines terms.", "Article 2", 37, 70)],
        "other": [Passage("o2", "other", "Article 2 Unrelated.", "Article 2", 0, 20)],
    }
    q = evaluate.Question("q1", "?", "lookup", True, (evaluate.Evidence("ja", "定義を定める"),), ())
    q = evaluate.resolve_in({"ja": (ja, "act"), "en": (en, "act")}, [q])[0]
    assert [s[0] for s in q.evidence[0].spans] == ["ja"]  # the words differ: the quote is found in its own text only
    widened = evaluate.in_translations([q], infos, passages.__getitem__)[0]
    # Article 2 of the translation counts; its Article 1 and another work's Article 2 do not.
    assert widened.evidence[0].spans == (*q.evidence[0].spans, ("en", 37, 70))
    for p, credited in ((passages["en"][1], True), (passages["en"][0], False)):
        assert evaluate.score(widened, _answer(p, (_cite(p, p.text[10:]),)), 1.0).any_gold_cited is credited


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
    # Whether the engine quotes the gold sentence is the engine's quality, not the runner's: check the record is consistent.
    assert by_id["a1"]["outcome"] == ("answered, gold quoted" if by_id["a1"]["any_gold_cited"] else "answered, no gold quote")
    assert by_id["u1"]["answered"] is False and by_id["u1"]["outcome"] == "refused"
    assert results["languages"].keys() == {"en"} and results["categories"]["unanswerable"]["refusal_recall_unanswerable"] == 1.0
    lo, hi = results["overall"]["intervals"]["recall_at_k"]
    assert lo <= 1.0 <= hi
    md = evalreport.markdown_report(results)
    assert "| lookup | 1 |" in md and "## Worst 10 questions" in md and "## Per language" in md
    html = evalreport.html_report(results, chart=evalreport.chart_png(results))
    assert html.count("data:image/png;base64,") == 1 and "<script" not in html
    gate = tmp_path / "gate.toml"
    gate.write_text("[min]\ncitation_integrity = 1.0\nrecall_at_k = 0.5\n[max]\nfalse_abstention_rate = 0.0\n")
    assert evaluate.check_gate(results, gate) == []
    gate.write_text("[min]\nkey_fact_recall = 1.01\n")
    assert evaluate.check_gate(results, gate) == [f"key_fact_recall = {evaluate.fmt(overall['key_fact_recall'])} < 1.01"]


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
    table = evalreport.side_by_side(runs)
    assert table.splitlines()[0] == "| metric | extractive | openai |"
    assert "| Fallbacks to extractive | 0 | 1 |" in table
    assert "<h2>Engines side by side</h2>" in evalreport.html_report(runs[0], compare=runs)


# --- quote-level scoring, answerability, key facts, intervals: small synthetic answers over a tiny real document ---

TERM = "The term of protection shall be fifty years after the death of the author. "
OTHER = "Member States may provide for a shorter term for photographic works. "
PASSAGE_TEXT = "Article 7\n\n" + TERM + OTHER + "Translations are protected as original works."


def _doc(tmp_path: Path) -> tuple[Path, Passage]:
    path = tmp_path / "treaty.txt"
    path.write_text("Preamble of a small treaty.\n\n" + PASSAGE_TEXT, encoding="utf-8")
    start = path.read_text(encoding="utf-8").index("Article 7")
    return path, Passage("p1", "treaty", PASSAGE_TEXT, "Article 7", start, start + len(PASSAGE_TEXT))


def _cite(p: Passage, sentence: str, n: int = 1, *, quote: str | None = None) -> Citation:
    at = p.text.index(sentence.strip())
    q = sentence.strip()
    return Citation(n=n, passage_id=p.passage_id, doc_id=p.doc_id, work_id=p.doc_id, title="Treaty", section=p.section, page=None,
                    quote=quote or q, quote_start=at, quote_end=at + len(q), doc_start=p.start + at, doc_end=p.start + at + len(q),
                    passage=p.text, url="", file="")


def _answer(p: Passage, cites: tuple[Citation, ...], kind: str = "answered", text: str | None = None) -> Answer:
    body = text if text is not None else " ".join(f"“{c.quote}” [{c.n}]" for c in cites)
    return Answer("?", body, kind == "answered", cites, (Hit(p, 1.0),), kind=kind)


def _question(path: Path, qid: str = "t1", *, category: str = "lookup", facts: tuple[str, ...] = (), contradiction: str = "") -> evaluate.Question:
    answerable = category not in ("unanswerable", "false-premise")
    evidence = (evaluate.Evidence("treaty", "shall be fifty years after the death of the author"),) if answerable else ()
    contra = (evaluate.Evidence("treaty", contradiction),) if contradiction else ()
    q = evaluate.Question(qid, "How long is the term of protection?", category, answerable, evidence, facts, contra)
    return evaluate.resolve_in({"treaty": (path, "treaty")}, [q], {"treaty": "International"})[0]


def test_quoting_the_wrong_sentence_of_the_right_passage_lowers_quote_precision(tmp_path: Path) -> None:
    path, p = _doc(tmp_path)
    q = _question(path)
    right = evaluate.score(q, _answer(p, (_cite(p, TERM),)), 1.0)
    wrong = evaluate.score(q, _answer(p, (_cite(p, OTHER),)), 1.0)
    both = evaluate.score(q, _answer(p, (_cite(p, TERM), _cite(p, OTHER, 2))), 1.0)
    summary = {name: metrics.summarise([r.components]) for name, r in (("right", right), ("wrong", wrong), ("both", both))}
    # The passage holds the gold span in all three, so passage-level credit cannot tell them apart.
    assert [summary[k]["citation_precision_passage"] for k in ("right", "wrong", "both")] == [1.0, 1.0, 1.0]
    assert [summary[k]["citation_precision"] for k in ("right", "wrong", "both")] == [1.0, 0.0, 0.5]
    assert (right.any_gold_cited, wrong.any_gold_cited) == (True, False)
    assert (right.outcome, wrong.outcome) == ("answered, gold quoted", "answered, no gold quote")
    assert summary["wrong"]["answered_wrong_rate"] == 1.0 and summary["right"]["answered_wrong_rate"] == 0.0
    # Character-level retrieval: all gold characters were retrieved, and they are a small share of the retrieved text.
    assert right.char_recall_at_k == 1.0 and 0 < right.char_precision_at_k == len("shall be fifty years after the death of the author") / len(PASSAGE_TEXT)


@pytest.mark.parametrize(
    ("fact", "text", "found"),
    [
        ("fifty years", "The term is 50 years after the death of the author.", True),
        ("50 years", "for fifty  Years after", True),
        ("twenty-five years", "lasts 25 years", True),
        ("EUR 35 000 000", "fines of up to EUR 35,000,000 or", True),
        ("“making available”", 'the "making available" right', True),
        ("Article 30–4", "Article 30-4 allows", True),
        ("十年", "保護期間は10年とする", True),
        ("第三十条の四", "第30条の4に基づき", True),
        ("二〇二三年", "2023年に公布", True),
        ("三万五千", "35000", True),
        ("5 years", "50 years", False),
        ("fifty years", "fifteen years", False),
    ],
)
def test_key_facts_match_after_normalisation(fact: str, text: str, found: bool) -> None:
    assert metrics.fact_in(fact, text) is found


def test_key_fact_recall_counts_numbers_written_as_digits(tmp_path: Path) -> None:
    path, p = _doc(tmp_path)
    q = _question(path, facts=("fifty years", "death of the author"))
    a = _answer(p, (_cite(p, TERM),), text="Protection lasts 50 years after the death of the author [1].")
    r = evaluate.score(q, a, 1.0)
    assert r.key_fact_recall == 1.0 and r.facts_missing == []
    refused = evaluate.score(q, _answer(p, (), kind="refused", text="The sources do not say; fifty years is not stated."), 1.0)
    assert refused.key_fact_recall == 0.0  # a refusal earns no key facts, whatever its wording


def test_answerability_separates_refusals_false_premises_and_wrong_answers(tmp_path: Path) -> None:
    path, p = _doc(tmp_path)
    fp = _question(path, "fp", category="false-premise", contradiction=TERM.strip())
    un = _question(path, "un", category="unanswerable")
    ans = _question(path, "a1")
    rows = {
        "caught": evaluate.score(fp, _answer(p, (_cite(p, TERM),), kind="premise_contradicted"), 1.0),
        "wrong quote": evaluate.score(fp, _answer(p, (_cite(p, OTHER),), kind="premise_contradicted"), 1.0),
        "fp refused": evaluate.score(fp, _answer(p, (), kind="refused"), 1.0),
        "fp answered": evaluate.score(fp, _answer(p, (_cite(p, TERM),)), 1.0),
        "un refused": evaluate.score(un, _answer(p, (), kind="refused"), 1.0),
        "un answered": evaluate.score(un, _answer(p, (_cite(p, OTHER),)), 1.0),
        "a refused": evaluate.score(ans, _answer(p, (), kind="refused"), 1.0),
        "a right": evaluate.score(ans, _answer(p, (_cite(p, TERM),)), 1.0),
    }
    assert rows["caught"].outcome == "premise contradicted, right quote" and rows["caught"].premise_caught is True
    assert rows["wrong quote"].outcome == "premise contradicted, wrong quote" and rows["wrong quote"].premise_caught is False
    m = metrics.summarise([r.components for r in rows.values()])
    # false premise: handled = caught or refused (2 of 4); declined in the pool = 3 fp + 1 answerable refusal.
    assert m["refusal_recall_false_premise"] == 0.5 and m["refusal_precision_false_premise"] == 0.5
    assert m["premise_caught_rate"] == 0.25
    # unanswerable: 1 of 2 refused; declined in that pool = 1 unanswerable + 1 answerable.
    assert m["refusal_recall_unanswerable"] == 0.5 and m["refusal_precision_unanswerable"] == 0.5
    assert m["refusal_f1_unanswerable"] == 0.5
    assert m["false_abstention_rate"] == 0.5 and m["answered_wrong_rate"] == 0.0
    assert m["answered_f1_unanswerable"] == pytest.approx(2 * (1 / 2) * (1 / 2) / 1)  # P = 1/(1+1), R = 1/2
    assert m["abstention_accuracy"] == 4 / 6  # legacy: not answered, unanswerable and false premise together


def test_a_citation_that_is_not_verbatim_stops_the_run_naming_the_question(tmp_path: Path) -> None:
    path, p = _doc(tmp_path)
    q = _question(path, "q042")
    text = path.read_text(encoding="utf-8")
    good = _answer(p, (_cite(p, TERM),))
    assert evaluate.check_citations(q, good, lambda d: text if d == "treaty" else None) == 1
    forged = _answer(p, (_cite(p, TERM, quote=TERM.strip().replace("fifty", "seventy")),))
    with pytest.raises(evaluate.CitationIntegrityError, match=r"^q042: citation \[1\] \(treaty Article 7, engine extractive\) is not verbatim"):
        evaluate.check_citations(q, forged, lambda d: text)
    with pytest.raises(evaluate.CitationIntegrityError, match="q042: .* does not resolve: document 'treaty' is not in the index"):
        evaluate.check_citations(q, good, lambda d: None)
    stray = Answer("?", "x", True, (_cite(p, TERM),), ())  # cites a passage that exists nowhere
    with pytest.raises(evaluate.CitationIntegrityError, match="does not resolve: no passage 'p1'"):
        evaluate.check_citations(q, stray, lambda d: text)


def _synthetic_run(tmp_path: Path, n: int, gold_from: int) -> dict:
    """n answerable questions: those with index >= gold_from quote their gold sentence, the others a wrong sentence."""
    path, p = _doc(tmp_path)
    q = _question(path)
    rows = [
        dataclasses.asdict(evaluate.score(dataclasses.replace(q, id=f"s{i:03d}"), _answer(p, (_cite(p, TERM if i >= gold_from else OTHER),)), 1.0))
        for i in range(n)
    ]
    return evaluate.aggregate(rows, "extractive")


def test_baseline_flags_a_real_regression_and_not_noise(tmp_path: Path) -> None:
    base = _synthetic_run(tmp_path, 120, gold_from=30)  # 0.75 quoted
    noise = _synthetic_run(tmp_path, 120, gold_from=31)  # one question changed
    drop = _synthetic_run(tmp_path, 120, gold_from=60)  # 30 questions lost their gold quote
    quiet = {m["metric"]: m for m in evaluate.compare_baseline(noise, base)["metrics"]}
    loud = evaluate.compare_baseline(drop, base)
    flagged = {m["metric"]: m for m in loud["metrics"]}
    assert not quiet["citation_precision"]["flagged"] and quiet["citation_precision"]["delta"] == pytest.approx(-1 / 120)
    assert flagged["citation_precision"]["flagged"] and flagged["citation_precision"]["regression"]
    assert flagged["citation_precision"]["delta"] == pytest.approx(-0.25) and flagged["citation_precision"]["delta_interval"][1] < 0
    assert not flagged["recall_at_k"]["flagged"]  # unchanged metric
    assert [c["id"] for c in loud["changed"]] == [f"s{i:03d}" for i in range(30, 60)]
    drop["baseline"] = loud
    assert "REGRESSION" in evalreport.baseline_text(loud) and "Questions whose outcome changed (30)" in evalreport.markdown_report(drop)
    assert "s045" in evalreport.html_report(drop)
    # A report from before per-question components: compared against this run's own interval instead.
    legacy = evaluate.compare_baseline(base, {"overall": {"citation_precision": 0.9, "recall_at_k": 1.0}, "questions": [{"id": "s000"}]})
    by_key = {m["metric"]: m for m in legacy["metrics"]}
    assert legacy["paired_questions"] == 0 and legacy["changed"] == []
    assert by_key["citation_precision"]["regression"] and not by_key["recall_at_k"]["flagged"]
    # Intervals: resampling questions with a fixed seed gives the same interval twice, around the point estimate.
    lo, hi = base["overall"]["intervals"]["citation_precision"]
    assert lo < 0.75 < hi and (lo, hi) == tuple(_synthetic_run(tmp_path, 120, gold_from=30)["overall"]["intervals"]["citation_precision"])


def test_comparison_questions_are_scored_per_jurisdiction(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("The term of protection shall be fifty years after the death of the author.", encoding="utf-8")
    b.write_text("著作権の存続期間は、著作者の死後七十年を経過するまでの間、存続する。", encoding="utf-8")
    q = evaluate.Question("c1", "Compare the terms of protection in the two laws.", "comparison", True,
                          (evaluate.Evidence("a", "fifty years after the death of the author"), evaluate.Evidence("b", "著作者の死後七十年を経過するまで")), ())
    q = evaluate.resolve_in({"a": (a, "a"), "b": (b, "b")}, [q], {"a": "International", "b": "JP"})[0]
    pa = Passage("pa", "a", a.read_text(encoding="utf-8"), "Art. 7", 0, len(a.read_text(encoding="utf-8")))
    pb = Passage("pb", "b", b.read_text(encoding="utf-8"), "第五十一条", 0, len(b.read_text(encoding="utf-8")))
    cite = _cite(pa, pa.text)
    r = evaluate.score(q, Answer("?", "x", True, (cite,), (Hit(pa, 1.0), Hit(pb, 0.5))), 1.0)
    assert r.groups == [{"group": "International", "retrieved": True, "cited": True}, {"group": "JP", "retrieved": True, "cited": False}]
    results = evaluate.aggregate([dataclasses.asdict(r)], "extractive")
    assert results["groups"]["JP"]["cited_rate"] == 0.0 and results["groups"]["International"]["cited_rate"] == 1.0
    assert "c1: International ✓ · JP ✗ (compare: —)" in evalreport.markdown_report(results)
    # `ipqa compare` answers per jurisdiction: each group is credited only for its own gold span.
    jp_cite = _cite(pb, "著作者の死後七十年を経過するまでの間、存続する。")
    per_group = [("International", Answer("?", "x", True, (cite,), (Hit(pa, 1.0),))), ("JP", Answer("?", "x", True, (jp_cite,), (Hit(pb, 1.0),))),
                 ("EU", Answer("?", "", False, (), ()))]
    r.compare_groups = evaluate.score_groups(q, per_group)
    assert [(g["group"], g["cited"]) for g in r.compare_groups] == [("International", True), ("JP", True)]  # EU has no gold: not scored
    results = evaluate.aggregate([dataclasses.asdict(r)], "extractive")
    assert results["compare_groups"]["JP"]["cited_rate"] == 1.0
    assert "c1: International ✓ · JP ✗ (compare: International ✓ · JP ✓)" in evalreport.markdown_report(results)


def test_f1_is_undefined_without_positives_and_zero_when_none_is_found() -> None:
    assert math.isnan(metrics.f1(0.0, math.nan))  # a group with no unanswerable question: no refusal F1
    assert metrics.f1(math.nan, 0.0) == 0.0  # nothing declined, none of the positives found
    assert metrics.f1(0.5, 0.5) == 0.5 and metrics.f1(0.0, 0.0) == 0.0


def test_language_comes_from_the_question_script() -> None:
    assert metrics.language_of("著作権法第三十条の四は何を認めていますか") == "ja"
    assert metrics.language_of("生成式人工智能服务提供者应当履行哪些义务？") == "zh"
    assert metrics.language_of("Which services fall within China's Interim Measures (生成式人工智能服务)?") == "en"


def test_a_core_install_writes_every_report_without_matplotlib(tmp_path: Path) -> None:
    results = _synthetic_run(tmp_path, 20, gold_from=5)
    (tmp_path / "results.json").write_text(json.dumps(results))
    # matplotlib made unimportable for the child process only (a None in sys.modules makes `import` fail).
    code = (
        "import sys, json; from pathlib import Path; sys.modules['matplotlib'] = None\n"
        "from ipqa import evalreport\n"
        "d = Path(sys.argv[1]); r = json.loads((d / 'results.json').read_text())\n"
        "evalreport.write_reports([r], d / 'out.json', d / 'out.md', d / 'out.html')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines() == ["chart skipped: matplotlib is not installed (pip install 'ipqa[eval]' for the chart in the HTML report)"]
    assert "Traceback" not in proc.stderr
    assert json.loads((tmp_path / "out.json").read_text())["overall"]["questions"] == 20
    assert "| Citation precision (quote) | 0.750 |" in (tmp_path / "out.md").read_text()
    page = (tmp_path / "out.html").read_text()
    assert "<h2>Overall</h2>" in page and "data:image/png" not in page


def test_contradiction_only_on_non_answerable_questions(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    row = {"id": "x", "question": "q", "category": "lookup", "answerable": True, "evidence": [{"doc": "d", "quote": "a quote of twenty chars"}],
           "key_facts": [], "contradiction": [{"doc": "d", "quote": "a quote of twenty chars"}]}
    path.write_text(json.dumps(row))
    with pytest.raises(evaluate.EvalSetError, match=r":1: field 'contradiction' is only allowed on answerable=false"):
        evaluate.load_set(path)
    row |= {"category": "false-premise", "answerable": False, "evidence": [], "contradiction": [{"doc": "d", "quote": "short"}]}
    path.write_text(json.dumps(row))
    with pytest.raises(evaluate.EvalSetError, match=r"contradiction\[0\]\.quote is 5 characters"):
        evaluate.load_set(path)


@pytest.mark.slow  # two `ipqa eval` processes, each loading the model and one of them ingesting
def test_cli_eval_writes_reports_compares_with_a_baseline_and_gates(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "treaty_sample.md").write_text((DATA / "treaty_sample.md").read_text(encoding="utf-8"), encoding="utf-8")
    rows = [
        {"id": "t1", "question": "For how many years shall Contracting Parties protect sample works?", "category": "lookup", "answerable": True,
         "evidence": [{"doc": "treaty_sample", "quote": "shall protect sample works for a term of seventy-three years"}], "key_facts": ["73 years"]},
        {"id": "t2", "question": "What is the boiling point of water at sea level?", "category": "unanswerable", "answerable": False, "evidence": [], "key_facts": []},
    ]
    qset = tmp_path / "set.jsonl"
    qset.write_text("\n".join(json.dumps(r) for r in rows))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT / "src")}

    def ipqa_eval(*extra: str, out: str) -> subprocess.CompletedProcess[str]:
        args = ["--set", str(qset), "--corpus", str(corpus), "--index-dir", str(tmp_path / "idx")]
        args += ["--json", str(tmp_path / f"{out}.json"), "--md", str(tmp_path / f"{out}.md"), "--html", str(tmp_path / f"{out}.html")]
        return subprocess.run([sys.executable, "-m", "ipqa", "eval", *args, *extra], capture_output=True, text=True, env=env, timeout=600)

    first = ipqa_eval(out="first")
    assert first.returncode == 0, first.stderr
    results = json.loads((tmp_path / "first.json").read_text())
    assert results["overall"]["questions"] == 2 and set(results["overall"]["intervals"]) >= {"citation_precision", "refusal_f1_unanswerable"}
    gate = tmp_path / "gate.toml"
    gate.write_text("[min]\ncitation_integrity = 1.0\nkey_fact_recall = 1.01\n")
    second = ipqa_eval("--baseline", str(tmp_path / "first.json"), "--gate", str(gate), out="second")
    assert second.returncode == 1
    assert "against the baseline (2 questions paired):" in second.stdout and "0 question(s) changed outcome" in second.stdout
    assert "REGRESSION" not in second.stdout  # the same run twice is not a change
    assert second.stderr.strip().endswith("below threshold: key_fact_recall = " + evaluate.fmt(results["overall"]["key_fact_recall"]) + " < 1.01")
    assert "## Against the baseline" in (tmp_path / "second.md").read_text()
