"""A comparison column (issue #16): what a jurisdiction's sources say, led by its primary law.

Each of the group's best documents is quoted (a commentary does not crowd out the statute), primary law comes first,
a court decision is quoted by its holding, and an English question reaches a group's documents in another language
through the glossary."""

from __future__ import annotations

import re

import pytest
from conftest import catalogued_index

from ipqa.api import Assistant
from ipqa.compare import DOCUMENT_FLOOR, column_quotes, is_primary
from ipqa.evidence import Evidence, Quote
from ipqa.glossary import translations
from ipqa.retrieve import Filters, scope_languages
from ipqa.types import Hit, Passage, SourceInfo

# -- the column's choice of sentences, on evidence built by hand ---------------------------------------------------------


def _info(doc_id: str, kind: str, work: str = "") -> SourceInfo:
    return SourceInfo(doc_id, f"Title of {doc_id}", doc_id, work or doc_id, jurisdiction="XX", kind=kind)


INFOS = {
    "comment": _info("comment", "article"),
    "act": _info("act", "statute"),
    "act-pdf": _info("act-pdf", "statute", work="act"),  # another rendition of the same act
    "ruling": _info("ruling", "decision"),
    "faint": _info("faint", "regulation"),
}


def _evidence(rows: list[tuple[str, float, float]], texts: dict[int, str] | None = None) -> Evidence:
    """One hit per row (document, score, words score), one sentence per hit, best first as gather orders them."""
    hits, quotes = [], []
    for i, (doc, score, lexical) in enumerate(rows):
        text = (texts or {}).get(i, f"Sentence {i} of {doc}.")
        hits.append(Hit(Passage(f"{doc}-{i}", doc, text, "Article 1", 100 * i, 100 * i + len(text)), 1.0 / (i + 1)))
        quotes.append(Quote(i, 0, len(text), score, lexical, score))
    return Evidence(tuple(hits), tuple(sorted(quotes, key=lambda q: -q.score)))


def _docs(evidence: Evidence, quotes: list[Quote]) -> list[str]:
    return [evidence.hits[q.hit_index].passage.doc_id for q in quotes]


def test_each_top_document_is_quoted_and_primary_law_leads() -> None:
    # The commentary holds the two best sentences; alone it would fill the column.
    ev = _evidence([("comment", 0.50, 0.40), ("comment", 0.45, 0.40), ("act", 0.35, 0.30), ("ruling", 0.32, 0.30)])
    chosen = list(ev.quotes[:2])  # what a plain answer would cite: the two commentary sentences
    picked = column_quotes(ev, chosen, INFOS, limit=3)
    assert _docs(ev, picked) == ["act", "ruling", "comment"], "one sentence per document, the statute and the decision first"
    assert ev.quotes[0] in picked and ev.quotes[1] not in picked


def test_remaining_room_goes_to_the_answers_own_sentences() -> None:
    ev = _evidence([("comment", 0.50, 0.40), ("comment", 0.45, 0.40), ("act", 0.40, 0.30)])
    picked = column_quotes(ev, list(ev.quotes[:2]), INFOS, limit=3)
    assert _docs(ev, picked) == ["act", "comment", "comment"]


def test_renditions_of_one_work_count_as_one_document() -> None:
    ev = _evidence([("act", 0.50, 0.40), ("act-pdf", 0.48, 0.40), ("comment", 0.40, 0.30)])
    picked = column_quotes(ev, [ev.quotes[0]], INFOS, limit=2)
    assert _docs(ev, picked) == ["act", "comment"]


def test_a_document_far_below_the_best_is_left_out() -> None:
    low = DOCUMENT_FLOOR * 0.5 * 0.9  # under the floor by score and by shared words
    ev = _evidence([("comment", 0.50, 0.50), ("faint", low, low)])
    assert _docs(ev, column_quotes(ev, [ev.quotes[0]], INFOS, limit=3)) == ["comment"]
    # A sentence in another language scores little by meaning but may match as many words (glossary terms) as the best.
    ev = _evidence([("comment", 0.50, 0.30), ("faint", 0.20, 0.28)], {1: "著作物は、利用することができる。"})
    assert _docs(ev, column_quotes(ev, [ev.quotes[0]], INFOS, limit=3, question="May works be mined?")) == ["faint", "comment"]
    # In the question's own language it needs the score and the meaning (shared words alone may be the question's framing).
    ev = _evidence([("comment", 0.50, 0.30), ("faint", 0.20, 0.28)])
    assert _docs(ev, column_quotes(ev, [ev.quotes[0]], INFOS, limit=3, question="May works be mined?")) == ["comment"]


def test_a_document_is_quoted_by_a_sentence_stating_what_the_question_asks_for() -> None:
    # "How long…" asks for a period: the act's second sentence states one, its best one does not.
    texts = {0: "This Act applies to works of foreign authors.", 1: "The copyright shall endure for seventy years after the death of the author."}
    ev = _evidence([("act", 0.50, 0.40), ("act", 0.45, 0.40)], texts)
    picked = column_quotes(ev, [], INFOS, limit=1, question="How long does copyright last?")
    assert [ev.text(q) for q in picked] == [texts[1]]
    # A question asking for nothing in particular gets the best sentence.
    picked = column_quotes(ev, [], INFOS, limit=1, question="What does the act say about foreign authors?")
    assert [ev.text(q) for q in picked] == [texts[0]]


def test_primary_law_is_told_by_the_catalog_kind() -> None:
    assert [is_primary(INFOS[d]) for d in ("act", "ruling", "faint", "comment")] == [True, True, True, False]
    assert not is_primary(None) and not is_primary(_info("x", ""))


# -- the language of a group's documents ---------------------------------------------------------------------------------


def test_a_search_among_japanese_documents_gets_the_japanese_terms() -> None:
    question = "How do the sources treat text and data mining for AI training?"
    # No country named: no Japanese or Chinese terms (the phrase's English synonyms only).
    assert translations(question) and not any(re.search(r"[\u3040-\u9fff]", t) for t in translations(question))
    infos = {
        "jp-act": SourceInfo("jp-act", "t", "t", "jp-act", jurisdiction="JP", language="ja"),
        "jp-comment": SourceInfo("jp-comment", "t", "t", "jp-comment", jurisdiction="JP"),
        "eu-act": SourceInfo("eu-act", "t", "t", "eu-act", jurisdiction="EU", language="en"),
    }
    assert scope_languages(Filters(), infos) == frozenset()
    assert scope_languages(Filters(("JP",)), infos) == {"ja", "en"}
    assert scope_languages(Filters(("EU",)), infos) == {"en"}
    assert scope_languages(Filters((), ("eu-act",)), infos) == {"en"}
    assert "情報解析" in translations(question, scope_languages=scope_languages(Filters(("JP",)), infos))
    assert not any(re.search(r"[\u3040-\u9fff]", t) for t in translations(question, scope_languages=scope_languages(Filters(("EU",)), infos)))


# -- a whole comparison over a small index (real store, deterministic embedder) -------------------------------------------

STATUTE = """# Article 1

Text and data mining of works for AI training is permitted, whatever the sources of the works.
"""
COMMENTARY = """Notes on how the sources treat text and data mining for AI training.

How the sources treat text and data mining for AI training is widely discussed. The sources treat text and data
mining for AI training in many ways. Observers follow text and data mining for AI training closely.
"""
DECISION = """STATEMENT

The plaintiffs say the defendant used text and data mining of their books for AI training of its models.
The defendant bought the books and scanned them into a library for data mining.

ANALYSIS

The plaintiffs also complain about the price of the books and the quality of the scans.
Many other matters were raised at the hearing, none of them decided here, and they are set aside.
This court holds that using the books to train the models was a fair use.
"""
CATALOG = """
[[source]]
id = "xx-act"
file = "xx-act.md"
title = "Data Act of Xland"
jurisdiction = "XX"
kind = "statute"

[[source]]
id = "xx-notes"
file = "xx-notes.txt"
title = "Notes"
jurisdiction = "XX"
kind = "article"

[[source]]
id = "yy-ruling"
file = "yy-ruling.txt"
title = "Smith v. Jones"
jurisdiction = "YY"
kind = "decision"
"""
TDM = "How do the sources treat text and data mining for AI training?"


@pytest.fixture(scope="module")
def xland(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    files = {"xx-act.md": STATUTE, "xx-notes.txt": COMMENTARY, "yy-ruling.txt": DECISION}
    return catalogued_index(tmp_path_factory.mktemp("xland"), files, CATALOG)


def test_a_column_quotes_the_statute_beside_the_commentary_statute_first(xland: Assistant) -> None:
    groups = {g.label: g for g in xland.compare(TDM).groups}
    xx = groups["XX"].answer
    assert xx.answered, xx.text
    assert [c.doc_id for c in xx.citations][0] == "xx-act", [(c.doc_id, c.quote) for c in xx.citations]
    assert "xx-notes" in {c.doc_id for c in xx.citations}
    assert xx.text.startswith("Under Data Act of Xland")


def test_a_decision_is_quoted_by_its_holding(xland: Assistant) -> None:
    yy = {g.label: g for g in xland.compare(TDM).groups}["YY"].answer
    assert yy.answered, yy.text
    assert [c.quote for c in yy.citations] == ["This court holds that using the books to train the models was a fair use."]
    # The plain answer for the same group quotes the decision's account of the facts instead.
    alone = xland.ask(TDM, jurisdictions=["YY"])
    assert "holds" not in " ".join(c.quote for c in alone.citations)


# -- issue #16's done-when, over the whole shared corpus ------------------------------------------------------------------


ACCEPTED = {
    "EU": {
        ("eu-ai-act-2024-1689", "Article 53(1)(c)"),
        ("eu-ai-act-2024-1689", "Recital 105"),
        ("eu-ai-act-2024-1689-oj-pdf", "Article 53(1)(c)"),
        ("eu-ai-act-2024-1689-oj-pdf", "Recital 105"),
    },
    "JP": {("jp-copyright-act-ja", "Article 30-4 (第三十条の四)")},
    "US": {("us-17usc-title17-copyright", "§ 107"), ("us-ndcal-bartz-v-anthropic-2025-fair-use-order", "holding")},
    "CN": {("cn-genai-interim-measures-2023-en-casi", "Article 7"), ("cn-genai-interim-measures-2023-zh", "Article 7 (第七条)")},
}
# The Bartz order's holding on training, in its own words (pages 9 and 31 of the order).
BARTZ_HOLDINGS = ("was exceedingly transformative and was a fair use under Section 107", "the training use was a fair use")


@pytest.mark.slow
def test_text_and_data_mining_compared_across_four_jurisdictions(everything: Assistant) -> None:
    comparison = everything.compare(TDM)
    groups = {g.label: g for g in comparison.groups}
    for label, accepted in ACCEPTED.items():
        answer = groups[label].answer
        cited = set()
        for c in answer.citations:
            cited.add((c.doc_id, c.section))
            if c.doc_id == "us-ndcal-bartz-v-anthropic-2025-fair-use-order" and any(h in " ".join(c.quote.split()) for h in BARTZ_HOLDINGS):
                cited.add((c.doc_id, "holding"))
        assert cited & accepted, (label, sorted(cited))
    # The Japanese statute leads its column; the commentary, if quoted, follows it.
    assert groups["JP"].answer.citations[0].doc_id == "jp-copyright-act-ja"


@pytest.mark.slow
def test_a_column_asked_for_a_period_quotes_the_sentence_stating_it(everything: Assistant) -> None:
    # The deeper column search buried Berne's Article 7(1) below the sentences searched for a period, and the Berne
    # column was refused ("no retrieved passage states a period"); it now answers from what `ipqa ask` reads.
    answer = everything.ask("Compare the copyright term for natural persons under China's Copyright Law and the Berne Convention.")
    cited = {(c.doc_id, c.section) for c in answer.citations}
    assert ("wipo-berne-convention", "Article 7(1)") in cited, sorted(cited)
    assert any(c.doc_id == "cn-copyright-law-2020-zh" and c.section.startswith("Article 23") for c in answer.citations), sorted(cited)


@pytest.mark.slow
def test_a_comparison_s_hits_hold_the_text_its_citations_quote(everything: Assistant) -> None:
    # With 16 passages retrieved, the whole question's evidence brought China's Article 7 in as a lead-in, its column's
    # evidence completed it over the next passage to its list's end and quoted that: the answer's hits held the passage
    # id with the shorter text, which the citation's offsets overran.
    wide = Assistant(everything.settings.model_copy(update={"top_k": 16}), embedder=everything.embedder)
    a = wide.ask("How do China and Japan position themselves on shaping international AI rules?")
    assert a.answered and a.citations, a.text
    texts: dict[str, set[str]] = {}
    for h in a.hits:
        texts.setdefault(h.passage.passage_id, set()).add(h.passage.text)
    assert all(len(t) == 1 for t in texts.values()), "one passage id, one text"
    for c in a.citations:
        (text,) = texts[c.passage_id]
        assert text[c.quote_start : c.quote_end] == c.quote, (c.n, c.section)
