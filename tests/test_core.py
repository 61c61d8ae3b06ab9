"""The questions of issue #2 over a real index of the AI Act, Berne, Title 17 and the Bartz PDF."""

import pytest

from ipqa.api import Assistant
from ipqa.prompts import REFUSAL
from ipqa.store import Store
from ipqa.types import Answer

pytestmark = pytest.mark.slow  # embeds the AI Act, Berne, Title 17 and the Bartz PDF (about 2,300 passages) with the real model


def _check_citations(answer: Answer, store: Store) -> None:
    """Every citation resolves to a retrieved passage, or (a court's holding quoted from elsewhere in the decision,
    holdings.py) to a stored passage of its document, and quotes it verbatim."""
    retrieved = {h.passage.passage_id: h.passage for h in answer.hits}
    assert answer.citations
    for c in answer.citations:
        if c.passage_id not in retrieved:
            # The stored passages join, never replacing a retrieved one: that one may be completed (a sentence or a list a
            # passage boundary cut), and the citation quotes the completed text.
            for p in store.doc_passages(c.doc_id):
                retrieved.setdefault(p.passage_id, p)
        assert c.passage_id in retrieved
        assert retrieved[c.passage_id].text == c.passage
        assert c.passage[c.quote_start : c.quote_end] == c.quote
        assert c.quote in answer.text or " ".join(c.quote.split()) in " ".join(answer.text.split())
        assert f"[{c.n}]" in answer.text


def test_article_53_question_cites_article_53(core: Assistant) -> None:
    a = core.ask("What does Article 53 of the AI Act require of general-purpose AI model providers regarding copyright?")
    assert a.answered
    _check_citations(a, core.store)
    art53 = [c for c in a.citations if c.work_id == "eu-ai-act-2024-1689" and c.section.startswith("Article 53")]
    assert art53, [(c.doc_id, c.section) for c in a.citations]
    assert any("copyright" in c.quote.lower() for c in art53)
    assert "Under the EU AI Act, Article 53" in a.text
    assert art53[0].url.startswith("https://eur-lex.europa.eu/")


def test_fair_use_question_cites_section_107(core: Assistant) -> None:
    a = core.ask("What factors does § 107 list for deciding whether a use is fair use?")
    assert a.answered
    _check_citations(a, core.store)
    assert any(c.doc_id == "us-17usc-title17-copyright" and c.section.startswith("§ 107") for c in a.citations)


def test_pdf_citation_carries_its_page(core: Assistant) -> None:
    a = core.ask("Did the court in Bartz v. Anthropic hold that training LLMs on the books was fair use?")
    assert a.answered
    _check_citations(a, core.store)
    bartz = [c for c in a.citations if c.doc_id == "us-ndcal-bartz-v-anthropic-2025-fair-use-order"]
    assert bartz and all(isinstance(c.page, int) and 1 <= c.page <= 32 for c in bartz)


def test_exact_references_find_their_passage(core: Assistant) -> None:
    hits = core.ask("Berne Convention Article 9 reproduction right").hits
    assert any(h.passage.doc_id == "wipo-berne-convention" and h.passage.section == "Article 9" for h in hits[:3])
    hits = core.ask("§ 107").hits
    assert hits[0].passage.section == "§ 107"


def test_unrelated_question_gets_the_refusal(core: Assistant) -> None:
    a = core.ask("What is the boiling point of water?")
    assert not a.answered
    assert a.text == REFUSAL
    assert a.citations == ()


def test_provision_that_does_not_exist_is_not_answered(core: Assistant) -> None:
    a = core.ask("What does Article 99 of the Berne Convention provide?")
    assert not a.answered and a.citations == ()
    assert "Article 99" in a.text


def test_answer_json_lists_everything_per_citation(core: Assistant) -> None:
    data = core.ask("What must providers of general-purpose AI models publish about training content?").to_dict()
    c = data["citations"][0]
    for key in ("title", "section", "page", "quote", "quote_start", "quote_end", "doc_start", "doc_end", "passage", "url", "file"):
        assert key in c
    assert any(h["cited"] for h in data["hits"])
