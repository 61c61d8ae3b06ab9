"""Law XML (e-Gov and Japanese Law Translation): the two AI Promotion Act files, and XML that is not law XML."""

from pathlib import Path

import pytest
from conftest import shared_doc

from ipqa.chunking import chunk, label_with_path, scan_markers
from ipqa.errors import DocumentError
from ipqa.loaders import load, supported


def _count(text: str) -> int:
    """A cheap token count: words, and each CJK character as one."""
    return len(text.split()) + sum(1 for ch in text if ord(ch) >= 0x3000)


def test_egov_xml_has_articles_paragraphs_and_items() -> None:
    path = shared_doc("jp-ai-promotion-act-2025-ja.xml")
    assert supported(path)
    doc = load(path)
    assert doc.file_type == "xml"
    assert doc.headings[0].text == "人工知能関連技術の研究開発及び活用の推進に関する法律"
    assert "title:人工知能関連技術の研究開発及び活用の推進に関する法律" in doc.warnings
    heads = [h.text for h in doc.headings]
    assert "第一章　総則" in heads and "第十八条" in heads and "附則第一条　（施行期日）" in heads
    # Each heading's offset points at its own line in the text.
    for h in doc.headings:
        assert doc.text[h.start : h.start + len(h.text)] == h.text
    # Paragraph numbers and item numbers start their lines; the table of contents is left out.
    assert "\n２　人工知能関連技術の研究開発及び活用の推進は、人工知能関連技術が、" in doc.text
    assert "\n一　人工知能関連技術の研究開発及び活用の推進に関する施策についての基本的な方針\n" in doc.text
    assert "（第一条―第十条）" not in doc.text
    # A proviso (second Sentence) follows its main sentence in the same paragraph.
    assert "この法律は、公布の日から施行する。ただし、第三章及び第四章" in doc.text


def test_egov_passages_carry_article_paragraph_and_item() -> None:
    doc = load(shared_doc("jp-ai-promotion-act-2025-ja.xml"))
    passages = chunk(doc, "ja", _count, 120, 20)
    labels = {p.section for p in passages}
    assert {"Article 1 (第一条)", "Article 18 (第十八条)", "Article 28 (第二十八条)", "Chapter 4 (第四章 人工知能戦略本部)"} <= labels
    # Supplementary provisions restart at Article 1: labelled apart from the main Article 1.
    assert "Suppl. Article 1 (附則第一条)" in labels
    for p in passages:
        assert doc.text[p.start : p.end] == p.text
    start = doc.text.index("第十八条")

    def label_at(snippet: str) -> str:
        return label_with_path("Article 18 (第十八条)", scan_markers(doc.text[start : doc.text.index(snippet, start) + 4]))

    assert label_at("前二号に掲げるもののほか") == "Article 18, paragraph 2, item 3 (第十八条第二項第三号)"
    assert label_at("内閣総理大臣は、人工知能戦略本部") == "Article 18, paragraph 3 (第十八条第三項)"
    assert label_at("政府は、基本理念にのっとり") == "Article 18 (第十八条)"


def test_translation_xml_has_english_article_labels() -> None:
    doc = load(shared_doc("jp-ai-promotion-act-2025-en.xml"))
    assert doc.headings[0].text.startswith("Act on Promotion of Research and Development")
    assert "Article 3 (Basic Principles)" in [h.text for h in doc.headings]
    assert "\n(1) Promoting research and development, and utilization" in doc.text
    passages = chunk(doc, "en", _count, 150, 20)
    labels = {p.section for p in passages}
    assert {"Article 1", "Article 3", "Article 18", "Chapter IV", "Suppl. Article 1"} <= labels
    # Amending provisions of the supplementary provisions keep their text (new items included).
    assert "(xvii)-2 matters concerning the basic policies" in doc.text


def test_other_xml_is_skipped_with_the_file_named(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_text('<?xml version="1.0"?><rss><channel><title>News</title></channel></rss>', encoding="utf-8")
    with pytest.raises(DocumentError) as err:
        load(path)
    assert str(path) in str(err.value) and "not law XML" in err.value.reason


def test_broken_law_xml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "law.xml"
    path.write_text("<Law Lang='ja'><LawBody><LawTitle>法</LawTitle><MainProvision>", encoding="utf-8")
    with pytest.raises(DocumentError) as err:
        load(path)
    assert str(path) in str(err.value) and "malformed XML" in err.value.reason


def test_law_xml_does_not_expand_entities(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    path = tmp_path / "evil.xml"
    path.write_text(
        f'<?xml version="1.0"?><!DOCTYPE Law [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<Law Lang='en'><LawBody><LawTitle>Act</LawTitle><MainProvision><Article><ArticleTitle>Article 1</ArticleTitle>"
        "<Paragraph><ParagraphNum/><ParagraphSentence><Sentence>Text &x; here.</Sentence></ParagraphSentence></Paragraph>"
        "</Article></MainProvision></LawBody></Law>",
        encoding="utf-8",
    )
    doc = load(path)
    assert "TOP-SECRET" not in doc.text and "Article 1" in doc.text
