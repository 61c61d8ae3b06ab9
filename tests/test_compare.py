"""Comparisons (issue #16): one question answered per jurisdiction or per document, each group with its own retrieval."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from test_cli import run

from ipqa.api import Assistant
from ipqa.compare import (
    BY_DOCUMENT,
    BY_JURISDICTION,
    CSV_COLUMNS,
    NO_JURISDICTION,
    CompareError,
    Group,
    answer_column,
    compare,
    comparison_filters,
    plan_groups,
    to_csv,
    to_markdown,
)
from ipqa.errors import UnknownDocumentError
from ipqa.prompts import NOTHING_FOR
from ipqa.retrieve import Filters
from ipqa.types import SourceInfo

WCT = "wipo-copyright-treaty-wct-1996"
COMMENTARY = "wipo-japan-ai-ip-2026-commentary"
PHONOGRAMS = "wipo-phonograms-convention-1971"
PROGRAMS = "Are computer programs protected as literary works?"
OFF_TOPIC = "What is the top speed of a quokka on sand?"


def info(doc_id: str, jurisdiction: str, short: str = "") -> SourceInfo:
    return SourceInfo(doc_id, f"Title of {doc_id}", short or doc_id.upper(), doc_id, jurisdiction=jurisdiction)


INFOS = {
    "us-a": info("us-a", "US"), "eu-a": info("eu-a", "EU"), "int-a": info("int-a", "International"), "jp-a": info("jp-a", "JP"),
    "jp-b": info("jp-b", "JP"), "cn-a": info("cn-a", "CN"), "kr-a": info("kr-a", "KR"), "x": info("x", ""),
}


def test_groups_by_jurisdiction_in_a_fixed_order() -> None:
    by, groups = plan_groups(INFOS)
    assert by == BY_JURISDICTION
    assert [g.label for g in groups] == ["EU", "JP", "US", "CN", "International", "KR", NO_JURISDICTION]
    assert groups[1] == Group("JP", ("JP",), ())
    assert groups[-1] == Group(NO_JURISDICTION, (), ("x",)), "documents without a jurisdiction are reached by id"


def test_groups_restricted_to_documents_and_jurisdictions() -> None:
    _, groups = plan_groups(INFOS, by=BY_JURISDICTION, documents=["jp-b", "us-a", "eu-a"])
    assert groups == [Group("EU", ("EU",), ("eu-a",)), Group("JP", ("JP",), ("jp-b",)), Group("US", ("US",), ("us-a",))]
    _, groups = plan_groups(INFOS, jurisdictions=["CN", "JP"])
    assert [g.label for g in groups] == ["JP", "CN"]


def test_groups_by_document_keep_the_given_order() -> None:
    by, groups = plan_groups(INFOS, documents=["jp-b", "us-a"])
    assert by == BY_DOCUMENT
    assert groups == [Group("JP-B", (), ("jp-b",)), Group("US-A", (), ("us-a",))]


def test_renditions_sharing_a_title_get_distinct_columns() -> None:
    infos = {"act-html": info("act-html", "EU", "AI Act"), "act-pdf": info("act-pdf", "EU", "AI Act"), "us-a": info("us-a", "US")}
    _, groups = plan_groups(infos, documents=["act-html", "act-pdf", "us-a"])
    assert [g.label for g in groups] == ["AI Act (act-html)", "AI Act (act-pdf)", "US-A"]


def test_an_empty_question_is_refused_before_any_search() -> None:
    def ask(*args: object, **kwargs: object) -> None:
        raise AssertionError("nothing is asked for an empty question")

    with pytest.raises(CompareError, match="Ask a question about the indexed sources."):
        compare("  ", ask=ask, infos=INFOS)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"by": "colour"}, CompareError, "Cannot compare by 'colour' — use one of: jurisdiction, document."),
        ({"documents": ["nope"]}, UnknownDocumentError, "No document 'nope' in the index — see `ipqa sources`."),
        ({"jurisdictions": ["FR"]}, CompareError, "No indexed document has jurisdiction 'FR' — known: CN, EU, International, JP, KR, US."),
        ({"by": "document"}, CompareError, "Comparing by document needs the documents to compare (`--doc ID`, repeatable)."),
    ],
)
def test_bad_comparisons_say_what_to_do(kwargs: dict, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as exc:
        plan_groups(INFOS, **kwargs)
    assert str(exc.value) == message


def test_each_jurisdiction_gets_its_own_answer(small: Assistant) -> None:
    infos = {r.doc_id: r.info for r in small.sources()}
    comparison = small.compare(PROGRAMS)
    assert [g.label for g in comparison.groups] == ["JP", "International"]
    for g in comparison.groups:
        # Its own retrieval and checks: the passages (then some more) and the verdict of the answer restricted to its
        # jurisdiction (the column then quotes each of its best documents, primary law first: test_compare_columns.py) ...
        alone = small.ask(PROGRAMS, jurisdictions=[g.label])
        assert g.answer.hits[: len(alone.hits)] == alone.hits and (g.answer.kind, g.answer.reason) == (alone.kind, alone.reason)
        assert {c.doc_id for c in alone.citations} <= {c.doc_id for c in g.answer.citations}
        # ... and nothing from another jurisdiction was retrieved or cited.
        assert {infos[h.passage.doc_id].jurisdiction for h in g.answer.hits} <= {g.label}
        assert g.text == (g.answer.text if g.answer.citations else NOTHING_FOR.format(label=g.label))
    international = comparison.groups[1]
    assert international.answered and {c.doc_id for c in international.answer.citations} == {WCT}


def test_a_group_with_nothing_says_so(small: Assistant) -> None:
    comparison = small.compare(OFF_TOPIC)
    assert [(g.answered, g.text) for g in comparison.groups] == [
        (False, "Nothing in the indexed sources for JP answers this question."),
        (False, "Nothing in the indexed sources for International answers this question."),
    ]


def test_compare_by_document(small: Assistant) -> None:
    comparison = small.compare(PROGRAMS, documents=[PHONOGRAMS, WCT])
    assert comparison.by == BY_DOCUMENT
    assert [g.group.doc_ids for g in comparison.groups] == [(PHONOGRAMS,), (WCT,)]
    for g in comparison.groups:
        assert {h.passage.doc_id for h in g.answer.hits} <= set(g.group.doc_ids)
    assert comparison.groups[1].answered


def test_markdown_and_csv_exports_carry_every_citation(small: Assistant) -> None:
    comparison = small.compare(PROGRAMS)
    md = to_markdown(comparison)
    assert md.startswith(f"# {PROGRAMS}\n")
    rows = list(csv.DictReader(io.StringIO(to_csv(comparison))))
    expected = 0
    for g in comparison.groups:
        assert f"## {g.label}\n\n{g.text}\n" in md
        cited = [r for r in rows if r["group"] == g.label]
        if g.answered:
            assert [r["quote"] for r in cited] == [c.quote for c in g.answer.citations]
            assert all(r["answered"] == "yes" and r["document"] for r in cited)
            expected += len(g.answer.citations)
        else:
            assert [(r["answered"], r["answer"]) for r in cited] == [("no", g.text)]
            expected += 1
    assert len(rows) == expected


@pytest.mark.slow  # several CLI runs, each loading the model
def test_cli_compare(small: Assistant, tmp_path: Path) -> None:
    data_dir = small.settings.data_dir
    out = run("compare", PROGRAMS, "--json", "--md", str(tmp_path / "c.md"), "--csv", str(tmp_path / "c.csv"), data_dir=data_dir)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [g["label"] for g in data["groups"]] == ["JP", "International"]
    assert data["groups"][1]["answer"]["citations"][0]["doc_id"] == WCT
    assert (tmp_path / "c.md").read_text().startswith(f"# {PROGRAMS}\n")
    assert (tmp_path / "c.csv").read_text().startswith(",".join(CSV_COLUMNS) + "\n")
    out = run("compare", OFF_TOPIC, data_dir=data_dir)
    assert out.returncode == 0, out.stderr
    assert out.stdout == (
        "== JP ==\nNothing in the indexed sources for JP answers this question.\n\n"
        "== International ==\nNothing in the indexed sources for International answers this question.\n\n"
    )
    out = run("compare", PROGRAMS, "--doc", "nope", data_dir=data_dir)
    assert out.returncode == 1
    assert out.stderr.strip() == "Error: No document 'nope' in the index — see `ipqa sources`."


# -- a comparison asked in the chat (answer.answer -> compare.answer_across) --------------------------------------------

ACROSS = "How do Japan and the WIPO Copyright Treaty treat computer programs?"


def test_a_question_comparing_jurisdictions_gets_one_filter_per_jurisdiction(small: Assistant) -> None:
    infos = {r.doc_id: r.info for r in small.sources()}
    # Named jurisdictions first, then those of named documents; a named document narrows its jurisdiction to itself.
    assert comparison_filters(ACROSS, infos) == [Filters(("JP",), ()), Filters((), (WCT,))]
    # One jurisdiction (or one the index lacks beside it) is no comparison.
    # Two countries named apart are no comparison; joined by a conjunction, or with a comparing word, they are.
    assert comparison_filters("Does a US developer need a representative in the EU?", INFOS) == []
    assert len(comparison_filters("Who enforces the rules in China, and who supervises models in Japan?", INFOS)) == 2
    assert len(comparison_filters("Does China limit exceptions the way Japan does?", INFOS)) == 2
    assert len(comparison_filters("How do China's and Japan's statutes define a work?", INFOS)) == 2
    # Columns in the order the question names them.
    assert comparison_filters("How do Japan and China treat software?", INFOS) == [Filters(("JP",), ()), Filters(("CN",), ())]
    assert comparison_filters("How do China and Japan treat software?", INFOS) == [Filters(("CN",), ()), Filters(("JP",), ())]
    assert comparison_filters(PROGRAMS, infos) == []
    assert comparison_filters("How does the WIPO Copyright Treaty treat computer programs?", infos) == []
    assert comparison_filters("How do Japan and Korea treat computer programs?", infos) == []
    # Works of one jurisdiction are compared work by work when the question asks for a comparison, not when one names the other.
    works = "Compare the WIPO Copyright Treaty and the Phonograms Convention on copying."
    assert sorted(comparison_filters(works, infos), key=str) == sorted([Filters((), (WCT,)), Filters((), (PHONOGRAMS,))], key=str)
    assert comparison_filters("Does the WIPO Copyright Treaty follow the Phonograms Convention on copying?", infos) == []


def test_a_comparison_in_the_chat_is_answered_column_by_column(small: Assistant) -> None:
    result = small.ask(ACROSS)
    infos = {r.doc_id: r.info for r in small.sources()}
    columns = [
        answer_column(ACROSS, store=small.store, embedder=small.embedder, settings=small.settings, filters=f) for f in comparison_filters(ACROSS, infos)
    ]
    assert result.kind == "answered" and len(columns) == 2
    # Each answered column's citations, in column order, numbered on: the text cites exactly them.
    expected = [c.quote for a in columns for c in a.citations]
    assert [c.quote for c in result.citations] == expected and expected
    assert [c.n for c in result.citations] == list(range(1, len(expected) + 1))
    assert sorted(int(n) for n in re.findall(r"\[(\d+)\]", result.text)) == [c.n for c in result.citations]
    assert WCT in {c.doc_id for c in result.citations}
    # Retrieval's own ranking is the whole question's; the columns' further passages are marked as such.
    whole = [h for h in result.hits if not h.via]
    assert whole and all(h.via in ("", "provision", "column") for h in result.hits)
    assert any(h.via == "column" for h in result.hits)


def test_a_follow_up_naming_one_jurisdiction_is_no_comparison(small: Assistant) -> None:
    first = "How does the WIPO Copyright Treaty treat computer programs?"
    follow = small.ask("And what about Japan?", history=[(first, small.ask(first).text)])
    assert not any(h.via == "column" for h in follow.hits)
