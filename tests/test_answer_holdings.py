"""A chat answer that quotes a court decision for what was decided quotes its holding, not its account of the facts
(issue #10): the decision's holdings in the court's own voice join the candidates (holdings.py, shared with compare)."""

from __future__ import annotations

import pytest
from conftest import catalogued_index

from ipqa.api import Assistant
from ipqa.holdings import asks_holding, is_holding

# The facts repeat the question's words; the holding, far down, shares only a few of them.
DECISION = """STATEMENT

The plaintiffs say the defendant trained its language models on lawfully purchased books, and lawfully purchased books
were scanned to train the language models. The defendant trained the models on the purchased books for years.

ANALYSIS

The plaintiffs also complain about the price of the scans and about many other matters raised at the hearing.
Those matters are set aside, and none of them is decided here.
This court holds that the training use was a fair use.
"""
CATALOG = """
[[source]]
id = "zz-ruling"
file = "zz-ruling.txt"
title = "Roe v. Doe"
jurisdiction = "ZZ"
kind = "decision"
"""
ASKED = "Is training language models on lawfully purchased books a fair use?"


@pytest.fixture(scope="module")
def zland(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return catalogued_index(tmp_path_factory.mktemp("zland"), {"zz-ruling.txt": DECISION}, CATALOG)


def test_the_court_voice_and_the_questions_that_ask_for_it() -> None:
    assert is_holding("This order grants summary judgment for Anthropic that the training use was a fair use.")
    assert is_holding("But it denies summary judgment for Anthropic that the pirated library copies must be treated as training copies.")
    assert is_holding("To summarize the analysis that now follows, the use was a fair use.")
    assert not is_holding("The plaintiffs say the defendant trained its models on the books.")
    assert asks_holding(ASKED) and asks_holding("What did the judge decide about the library copies?")
    assert not asks_holding("How do the sources treat text and data mining for AI training?")


def test_a_question_on_what_was_decided_quotes_the_holding(zland: Assistant) -> None:
    a = zland.ask(ASKED)
    assert a.answered, a.text
    quotes = [c.quote for c in a.citations]
    assert "This court holds that the training use was a fair use." in quotes, quotes
    assert all(c.doc_start >= 0 and c.quote for c in a.citations)


def test_without_the_question_asking_for_a_ruling_the_facts_are_quoted(zland: Assistant) -> None:
    a = zland.ask("Which books were scanned to train the language models?")
    assert a.answered, a.text
    assert "holds" not in " ".join(c.quote for c in a.citations)


# -- issue #10's two questions, over the whole shared corpus ----------------------------------------------------------------


BARTZ = "us-ndcal-bartz-v-anthropic-2025-fair-use-order"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "holding"),
    [
        ("Is training an AI model on lawfully purchased books fair use?", "the training use was a fair use"),
        ("What did Judge Alsup decide about the pirated library copies?", "pirated library copies must be treated as training copies"),
    ],
)
def test_bartz_is_quoted_by_its_holding(everything: Assistant, question: str, holding: str) -> None:
    a = everything.ask(question)
    assert a.answered, a.text
    assert any(c.doc_id == BARTZ and holding in " ".join(c.quote.split()) for c in a.citations), [(c.doc_id, c.quote) for c in a.citations]
