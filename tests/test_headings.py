"""A passage that is only a heading ("SECTION 5 / PATENTS", stored apart from the articles under it) has no sentence to
quote: retrieval gives the passage that follows it instead (real store, hashing embedder)."""

from __future__ import annotations

import pytest
from conftest import catalogued_index

from ipqa.api import Assistant
from ipqa.retrieve import heading_only, retrieve

ACT = """# Trade Agreement

## PART II

### SECTION 5

#### PATENTS

### Article 27

#### Patentable Subject Matter

1. Patents shall be available for any inventions, provided that they are new, involve an inventive step and are capable of industrial application.

### Article 33

#### Term of Protection

The term of protection available shall not end before the expiration of a period of twenty years counted from the filing date.

### SECTION 6

#### LAYOUT-DESIGNS

### Article 35

Members agree to provide protection to the layout-designs of integrated circuits.
"""
CATALOG = """
[[source]]
id = "trade"
file = "trade.md"
title = "Trade Agreement"
jurisdiction = "International"
kind = "treaty"
"""


@pytest.fixture(scope="module")
def trade(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return catalogued_index(tmp_path_factory.mktemp("trade"), {"trade.md": ACT}, CATALOG)


def test_the_document_has_passages_that_are_only_headings(trade: Assistant) -> None:
    labels = {p.section for p in trade.store.doc_passages("trade") if heading_only(p)}
    assert {"§ 5", "§ 6"} <= labels
    assert not any(heading_only(p) for p in trade.store.doc_passages("trade") if p.section.startswith("Article"))


def test_a_heading_is_retrieved_as_the_provision_under_it(trade: Assistant) -> None:
    hits = retrieve("What does the section on patents cover?", store=trade.store, embedder=trade.embedder, settings=trade.settings)
    assert hits and not any(heading_only(h.passage) for h in hits)
    assert hits[0].passage.section == "Article 27"  # what "SECTION 5 / PATENTS", BM25's first, stands for
    assert len({h.passage.passage_id for h in hits}) == len(hits)


@pytest.mark.parametrize(
    ("text", "heading"),
    [
        ("CHAPTER V\nGENERAL-PURPOSE AI MODELS", True),  # HTML and PDF renderings: no Markdown marks
        ("第六条\u3000（研究開発機関の責務等）", True),
        ("Article 25 (Submission of Materials and Other Forms of Cooperation)", True),
        ("### Article 7\n\n#### Term of Protection", True),
        ("- 三 前二号に掲げるもののほか、条約によりわが国が保護の義務を負う著作物", False),  # a Japanese item: no full stop
        ("(a) draw up and keep up-to-date the technical documentation of the model", False),
        ("には、適用しない。", False),
        ("HAVE ADOPTED THIS REGULATION:", False),
        ("### Article 7\n\n(1) The term of protection shall be the life of the author and fifty years after his death.", False),
    ],
)
def test_what_counts_as_a_heading_alone(text: str, heading: bool) -> None:
    from ipqa.types import Passage

    assert heading_only(Passage("p", "d", text, "Article 1", 0, len(text))) is heading
