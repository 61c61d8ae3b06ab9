"""Renditions of one work: a cited article of the AI Promotion Act shows the same article of the other language."""

import json

import pytest
from conftest import shared_doc

from ipqa.catalog import Catalog
from ipqa.chunking import chunk
from ipqa.loaders import load
from ipqa.renditions import article_key, counterpart_for
from ipqa.types import Answer, Citation, Passage


def _count(text: str) -> int:
    return len(text.split()) + sum(1 for ch in text if ord(ch) >= 0x3000)


@pytest.fixture(scope="module")
def passages() -> dict[str, list[Passage]]:
    out = {}
    for doc_id in ("jp-ai-promotion-act-2025-ja", "jp-ai-promotion-act-2025-en"):
        doc = load(shared_doc(doc_id + ".xml"))
        out[doc_id] = chunk(doc, doc_id, _count, 150, 20)
    return out


def _citation(p: Passage, section: str) -> Citation:
    return Citation(1, p.passage_id, p.doc_id, "jp-ai-promotion-act-2025", p.doc_id, section, None, p.text[:30], 0, 30, p.start, p.start + 30, p.text, "", "")


def test_article_keys_ignore_refinements_and_the_japanese_label() -> None:
    assert article_key("Article 18, paragraph 2, item 3 (第十八条第二項第三号)") == ("", "18") == article_key("Article 18(2)(i)")
    assert article_key("Suppl. Article 1 (附則第一条)") == ("Suppl. ", "1") == article_key("Suppl. Article 1")
    assert article_key("Article 30-4 (第三十条の四)") == ("", "30-4")
    assert article_key("Chapter I") is None


def test_japanese_article_shows_the_english_translation_marked_as_such(passages: dict[str, list[Passage]]) -> None:
    infos = Catalog.builtin().by_id
    ja = next(p for p in passages["jp-ai-promotion-act-2025-ja"] if p.section == "Article 13 (第十三条)")
    other = counterpart_for(_citation(ja, "Article 13 (第十三条)"), infos, passages.__getitem__)
    assert other is not None and other.doc_id == "jp-ai-promotion-act-2025-en" and other.section == "Article 13"
    assert "establish guidelines in accordance with the purport of the international norms" in other.text
    assert not other.authoritative and "without legal effect" in other.note and "Japanese text is authoritative" in other.note


def test_english_article_names_the_authoritative_japanese_one(passages: dict[str, list[Passage]]) -> None:
    infos = Catalog.builtin().by_id
    en = next(p for p in passages["jp-ai-promotion-act-2025-en"] if p.section == "Article 22")
    citation = _citation(en, "Article 22(1)")
    other = counterpart_for(citation, infos, passages.__getitem__)
    assert other is not None and other.section == "Article 22 (第二十二条)" and other.authoritative
    assert "内閣総理大臣をもって充てる" in other.text and "authoritative Japanese text" in other.note
    # It travels in the answer's JSON form (`ipqa ask --json`).
    from dataclasses import replace

    data = Answer("q", "t", True, (replace(citation, counterpart=other),), ()).to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False))["citations"][0]["counterpart"]["section"] == "Article 22 (第二十二条)"


def test_a_work_with_one_rendition_has_no_counterpart(passages: dict[str, list[Passage]]) -> None:
    infos = {k: v for k, v in Catalog.builtin().by_id.items() if k != "jp-ai-promotion-act-2025-en"}
    ja = passages["jp-ai-promotion-act-2025-ja"][3]
    assert counterpart_for(_citation(ja, ja.section), infos, passages.__getitem__) is None


def test_source_panel_shows_the_counterpart_and_its_status(passages: dict[str, list[Passage]]) -> None:
    from dataclasses import replace

    from ipqa.ui import citation_card

    infos = Catalog.builtin().by_id
    ja = next(p for p in passages["jp-ai-promotion-act-2025-ja"] if p.section == "Article 13 (第十三条)")
    citation = _citation(ja, "Article 13 (第十三条)")
    html = citation_card(replace(citation, counterpart=counterpart_for(citation, infos, passages.__getitem__)), 0)
    assert "Article 13 — Act on Promotion of Research and Development" in html
    assert "without legal effect" in html and "establish guidelines" in html
    assert "without legal effect" not in citation_card(citation, 0)
