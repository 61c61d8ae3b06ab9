"""A Japanese or Chinese question that names no document and no place is about the law where its language is spoken:
its English rendering (glossary terms) does not bring in a treaty's or another country's sentences, unless it speaks of
a treaty. Real store, hashing embedder, the real glossary."""

from __future__ import annotations

import pytest
from conftest import catalogued_index

from ipqa.api import Assistant
from ipqa.retrieve import retrieve

JP_ACT = """# 著作権振興法

### 第一条

著作権の存続期間は、著作物の創作の時に始まる。

### 第二条

著作権を侵害した者は、十年以下の拘禁刑若しくは千万円以下の罰金に処する。
"""
TREATY = """# Convention on Works

### Article 7

The term of protection granted by this Convention shall be the life of the author and fifty years after his death.

### Article 61

Members shall provide for criminal procedures and penalties to be applied at least in cases of wilful copyright piracy.
"""
US_CODE = """# Title 99

### § 506

Any person who willfully infringes a copyright shall be punished, and penalties shall include imprisonment and fines.
"""
CATALOG = """
[[source]]
id = "jp-act"
file = "jp-act.md"
title = "著作権振興法"
jurisdiction = "JP"
kind = "statute"
language = "ja"

[[source]]
id = "treaty"
file = "treaty.md"
title = "Convention on Works"
jurisdiction = "International"
kind = "treaty"

[[source]]
id = "us-code"
file = "us-code.md"
title = "Title 99"
jurisdiction = "US"
kind = "statute"
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    files = {"jp-act.md": JP_ACT, "treaty.md": TREATY, "us-code.md": US_CODE}
    return catalogued_index(tmp_path_factory.mktemp("home"), files, CATALOG)


def _docs(index: Assistant, question: str) -> set[str]:
    return {h.passage.doc_id for h in retrieve(question, store=index.store, embedder=index.embedder, settings=index.settings)}


def test_a_japanese_question_naming_no_place_is_answered_from_japan(index: Assistant) -> None:
    assert _docs(index, "著作権の侵害に対する刑罰はどのくらいですか。") == {"jp-act"}
    assert _docs(index, "著作権の保護期間はどのくらいですか。") == {"jp-act"}


def test_a_treaty_or_a_place_the_question_names_is_searched(index: Assistant) -> None:
    assert "treaty" in _docs(index, "条約では著作権の保護期間はどのくらいですか。")
    assert "us-code" in _docs(index, "アメリカでは著作権の侵害に対する刑罰はどのくらいですか。")
    # An English question is not confined: the same concepts find every document.
    assert {"treaty", "us-code"} <= _docs(index, "What penalties apply to copyright infringement?")


def test_without_documents_in_the_questions_language_nothing_is_confined(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An index holding no Japanese document (the bundled starter corpus: one English commentary on Japan) still answers
    a Japanese question from what it holds."""
    catalog = CATALOG.split("[[source]]")
    english = "[[source]]" + catalog[2] + "[[source]]" + catalog[3]
    index = catalogued_index(tmp_path, {"treaty.md": TREATY, "us-code.md": US_CODE}, english)
    assert _docs(index, "著作権の侵害に対する刑罰はどのくらいですか。")
