"""Chunk boundaries and labels: pure functions over real documents and small texts."""

from pathlib import Path

from conftest import shared_doc

from ipqa.chunking import chunk, cn_number, label_with_path, scan_markers, sections, structural_label
from ipqa.embedding import Embedder
from ipqa.loaders import load
from ipqa.types import Document, Heading


def test_structural_labels() -> None:
    assert structural_label("### Article  53  ") == ("Article 53", False)
    assert structural_label("Article 6bis") == ("Article 6bis", False)
    assert structural_label("#### § 107. Limitations on exclusive rights: Fair use") == ("§ 107", False)
    assert structural_label("第二十四条") == ("Article 24 (第二十四条)", False)
    assert structural_label("CHAPTER V") == ("Chapter V", True)
    assert structural_label("Combating Piracy and WIPO’s Role") is None
    assert cn_number("二十四") == 24 and cn_number("十") == 10 and cn_number("一百零五") == 105
    assert cn_number("二〇二三") == 2023 and cn_number("三万五千") == 35000 and cn_number("２４") == 24  # years digit by digit, 万


def test_marker_path_gives_paragraph_and_point() -> None:
    text = "1. Providers shall:\n(a) draw up documentation;\n(b) make information available;\n(c) put in place a policy to comply with Union law on copyright"
    path = scan_markers(text)
    assert label_with_path("Article 53", path) == "Article 53(1)(c)"
    assert label_with_path("Article 53", scan_markers(text + "\n2. The obligations")) == "Article 53(2)"
    assert label_with_path("Recital 105", path) == "Recital 105"


def test_sections_follow_markdown_articles() -> None:
    text = "# T\n\n### Article 1\n\nFirst.\n\n### Article 2\n\n#### Scope\n\nSecond."
    marks = [("# T", 1), ("### Article 1", 3), ("### Article 2", 3), ("#### Scope", 4)]
    doc = Document("t.md", text, "markdown", headings=tuple(Heading(text.find(m), level, m.lstrip("# ")) for m, level in marks))
    got = [(s.label, s.title) for s in sections(doc)]
    assert got == [("T", ""), ("Article 1", ""), ("Article 2", "Scope")]


def test_passages_fit_the_window_and_slice_the_text(embedder: Embedder) -> None:
    doc = load(shared_doc("wipo-berne-convention.md"))
    passages = chunk(doc, "berne", embedder.count_tokens, 200, 32)
    assert len(passages) > 50
    for p in passages:
        assert doc.text[p.start : p.end] == p.text
        assert embedder.count_tokens(p.text) <= 200
    labels = {p.section for p in passages}
    assert {"Article 7", "Article 9", "Article 6bis"} <= labels
    # Stable ids: chunking the same text again gives the same ids.
    assert [p.passage_id for p in chunk(doc, "berne", embedder.count_tokens, 200, 32)] == [p.passage_id for p in passages]


def test_eu_recitals_and_articles_are_labelled(embedder: Embedder) -> None:
    doc = load(shared_doc("eu-ai-act-2024-1689.html"))
    passages = chunk(doc, "ai-act", embedder.count_tokens, 200, 32)
    labels = {p.section for p in passages}
    assert {"Recital 105", "Article 53", "Article 50", "Annex XI"} <= labels
    art53 = [p for p in passages if p.section == "Article 53"]
    assert any("copyright" in p.text for p in art53)
    assert "Article 53(1)" in {p.meta["sub"] for p in art53} or any(p.meta["sub"].startswith("Article 53(1)") for p in art53)


def test_pdf_passages_carry_pages(embedder: Embedder) -> None:
    doc = load(shared_doc("us-ndcal-bartz-v-anthropic-2025-fair-use-order.pdf"))
    passages = chunk(doc, "bartz", embedder.count_tokens, 200, 32)
    pages = [p.page for p in passages]
    assert pages[0] == 1 and max(pages) >= 30 and pages == sorted(pages)


def test_chinese_articles(embedder: Embedder) -> None:
    doc = load(shared_doc("cn-copyright-law-2020-zh.md"))
    labels = {p.section for p in chunk(doc, "cn", embedder.count_tokens, 200, 32)}
    assert "Article 24 (第二十四条)" in labels


def test_plain_text_headings_become_sections(embedder: Embedder) -> None:
    doc = load(Path(__file__).parents[1] / "corpus" / "wipo-japan-ai-ip-2026-commentary.txt")
    labels = [p.section for p in chunk(doc, "c", embedder.count_tokens, 200, 32)]
    assert "Combating Piracy and WIPO’s Role" in labels


def test_a_rule_runs_on_over_the_line_break_into_the_next_passage_to_its_proviso(embedder: Embedder) -> None:
    """The chunker drops the whitespace between two passages cut at a line break; it stores it with the first (meta
    "after"), so that the answer can quote on from one into the next verbatim: Article 30-4's rule ends its passage,
    and the proviso qualifying it ("ただし、…この限りでない。") opens the next one."""
    from ipqa.evidence import _Neighbours, complete
    from ipqa.types import Hit

    doc = load(shared_doc("jp-copyright-act-ja.md"))
    passages = chunk(doc, "jp", embedder.count_tokens, 200, 32)
    for a, b in zip(passages, passages[1:]):
        after = a.meta["after"]
        assert doc.text[a.end : a.end + len(after)] == after and not after.strip()
        if a.end < b.start and not doc.text[a.end : b.start].strip():
            assert a.end + len(after) == b.start  # all of what lies between them
    rule = next(p for p in passages if p.section.startswith("Article 30-4") and p.text.rstrip().endswith("利用することができる。"))
    assert "ただし" not in rule.text
    (hit,), _ = complete([Hit(rule, 1.0)], _Neighbours(passages))
    got = hit.passage
    assert got.text == doc.text[got.start : got.end] and got.start == rule.start
    assert got.text.endswith("この限りでない。") and "\n- 一" not in got.text


def test_an_article_knows_the_title_of_the_part_it_sits_in(embedder: Embedder) -> None:
    # TRIPS Article 33 never says "patent": its place does ("SECTION 5", "PATENTS"); the innermost title only.
    trips = {s.label: s.within for s in sections(load(shared_doc("wto-trips-agreement.md")))}
    assert trips["Article 33"] == "PATENTS" and trips["Article 39"] == "PROTECTION OF UNDISCLOSED INFORMATION"
    assert trips["Article 8"] == "GENERAL PROVISIONS AND BASIS PRINCIPLES"
    assert trips["Article 51"] == "SPECIAL REQUIREMENTS RELATED TO BORDER MEASURES"  # its footnote cut off
    # A chapter's title on its own line (第三节 权利的保护期), and a dash before it (Title 17's "— DURATION OF COPYRIGHT").
    china = {s.label: s.within for s in sections(load(shared_doc("cn-copyright-law-2020-zh.md")))}
    assert china["Article 23 (第二十三条)"] == "权利的保护期" and china["Article 1 (第一条)"] == ""
    us = {s.label: s.within for s in sections(load(shared_doc("us-17usc-title17-copyright.md")))}
    assert us["§ 302"] == "DURATION OF COPYRIGHT"
    # A part closes the chapters of the one before; supplementary provisions stand outside every chapter.
    text = "# Act\n\n## Part I Rights\n\n## Chapter 1 Economic rights\n\n### Article 1\n\nOne.\n\n## Part II Remedies\n\n### Article 2\n\nTwo.\n\n## 附則\n\n### 第一条\n\n施行する。"
    marks = [line for line in text.split("\n") if line.startswith("#")]
    doc = Document("act.md", text, "markdown", headings=tuple(Heading(text.find(m), m.count("#"), m.lstrip("# ")) for m in marks))
    within = {s.label: s.within for s in sections(doc)}
    assert within["Article 1"] == "Economic rights" and within["Article 2"] == "Remedies"
    assert within["Suppl. Article 1 (附則第一条)"] == ""
    passages = chunk(load(shared_doc("wto-trips-agreement.md")), "trips", embedder.count_tokens, 200, 20)
    article_33 = next(p for p in passages if p.section == "Article 33")
    assert article_33.meta["within"] == "PATENTS" and article_33.headings == "PATENTS Term of Protection"
