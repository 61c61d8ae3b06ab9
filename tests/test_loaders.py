"""Loaders on real files and on broken ones: each failure names the file and the reason."""

import re
from pathlib import Path

import pytest
from conftest import DATA, shared_doc

from ipqa.errors import DocumentError
from ipqa.loaders import load


def test_html_keeps_headings_and_drops_scripts() -> None:
    doc = load(shared_doc("eu-ai-act-2024-1689.html"))
    assert any(h.text == "Article 53" for h in doc.headings)
    assert "<script" not in doc.text and "function(" not in doc.text
    # A table row "(a)" + its text is one line.
    assert "\n(a) draw up and keep up-to-date the technical documentation of the model" in doc.text



def test_html_drops_page_furniture_marked_by_role_class_or_id(tmp_path: Path) -> None:
    page = tmp_path / "measures.html"
    page.write_text(
        '<html><body><div class="header"><a>设为首页</a></div><div class="top-nav"><h3><a>首 页</a></h3></div>'
        '<ul id="main_menu"><li>Home</li></ul><div role="navigation">Skip to</div>'
        '<div class="article-body"><h2>第一章 总 则</h2><p>第一条 为了促进生成式人工智能健康发展，制定本办法。</p></div>'
        '<div class="right-nav"><h6>微信</h6></div><div class="navigator">kept: not a furniture word</div>'
        '<div class="current-path"><p>当前位置：<a href="/">首页</a></p></div><a id="print" href="javascript:window.print()">【打印】</a>'
        '<a class="btnCheck">【纠错】</a><p><a href="https://www.cac.gov.cn/">kept: a link</a></p></body></html>',
        encoding="utf-8",
    )
    doc = load(page)
    assert doc.text == "第一章 总 则\n第一条 为了促进生成式人工智能健康发展，制定本办法。\nkept: not a furniture word\nkept: a link"
    # The CAC's own page: the articles stay, its navigation labels do not.
    measures = load(shared_doc("cn-genai-interim-measures-2023-zh.html")).text
    assert "第二十四条 本办法自2023年8月15日起施行。" in measures
    assert "设为首页" not in measures and "学习强国" not in measures and "\n首 页\n" not in measures
    assert "当前位置" not in measures and "【打印】" not in measures and "【纠错】" not in measures

def test_pdf_keeps_pages_and_drops_line_numbers() -> None:
    doc = load(shared_doc("eu-ai-act-2024-1689.pdf"))
    assert len(doc.page_starts) == 144
    at = doc.text.find("Obligations for providers of general-purpose AI models\nArticle 53")
    assert at > 0 and doc.page_at(at) == 84


def test_pdf_drops_running_heads_whatever_their_page_numbers_and_sides() -> None:
    """The Official Journal alternates its running head and folio on facing pages ("EN OJ L, 12.7.2024" / "OJ L,
    12.7.2024 EN", "62/144 ELI: …" / "ELI: … 63/144"), and a court filing numbers its header ("… Page 3 of 32"): no
    such line is text, so a sentence running over a page break is quoted without them."""
    act = load(shared_doc("eu-ai-act-2024-1689.pdf"))
    assert len(act.page_starts) == 144
    lines = {line.strip() for line in act.text.splitlines()}
    assert not {"EN OJ L, 12.7.2024", "OJ L, 12.7.2024 EN"} & lines
    assert not any(re.fullmatch(r"(\d+/144 )?ELI: http://data\.europa\.eu/eli/reg/2024/1689/oj( \d+/144)?", line) for line in lines)
    at = act.text.find("and the frequency with which they have to be carried out;")
    assert at > 0 and re.match(r"\s*\(e\) technical specifications", act.text[at + 57 :])
    assert "(OJ L, 2024/1689, 12.7.2024, ELI: http://data.europa.eu/eli/reg/" in act.text  # a citation in the text stays
    order = load(shared_doc("us-ndcal-bartz-v-anthropic-2025-fair-use-order.pdf"))
    assert len(order.page_starts) == 32 and "Case 3:24-cv-05417-WHA" not in order.text


def test_pdf_keeps_a_heading_that_opens_some_pages() -> None:
    """Only lines at the top or bottom of most pages count as furniture by their words alone: "Article N" on most
    pages, but heading only two of them, is text; the folio alternating sides is not."""
    from ipqa.loaders import _strip_page_furniture

    words = "alpha beta gamma delta epsilon".split()
    bodies = [[f"The {w} rule, {c}." for c in "abcdef"] for w in words]
    pages = [
        "\n".join([f"Article {n}", *body, f"OJ L {n}/5"] if n < 3 else [*body[:3], f"Article {n}", *body[3:], f"{n}/5 OJ L"])
        for n, body in enumerate(bodies, 1)
    ]
    kept = [page.splitlines() for page in _strip_page_furniture(pages)]
    assert kept[0] == ["Article 1", *bodies[0]] and kept[4] == [*bodies[4][:3], "Article 5", *bodies[4][3:]]


def test_markdown_offsets_match_the_file() -> None:
    path = shared_doc("wto-trips-agreement.md")
    doc = load(path)
    raw = path.read_text(encoding="utf-8")
    assert len(doc.text) == len(raw)
    i = raw.find("### Article  13")
    assert doc.text[i : i + 15] == "### Article  13"


def test_markdown_inline_tags_are_markup_not_text() -> None:
    """TRIPS sets its footnotes inline ("…industrial application.<sup> 1)  For the purpose of this Article…</sup>"): the
    tags are blanked in place, so Article 27(1)'s sentence ends where the treaty's does and the footnote is a sentence
    of its own; offsets still match the file, and text that merely holds "<" is untouched."""
    from ipqa.sentences import sentence_spans

    path = shared_doc("wto-trips-agreement.md")
    doc, raw = load(path), path.read_text(encoding="utf-8")
    assert "<sup>" in raw and "<sup" not in doc.text and "</sup>" not in doc.text and len(doc.text) == len(raw)
    at = doc.text.find("are capable of industrial application.")
    region = doc.text[at - 400 : at + 400]
    sentences = [region[s:e] for s, e in sentence_spans(region)]
    assert any(t.endswith("are capable of industrial application.") for t in sentences)
    assert any(t.startswith("1)  For the purpose of this Article") for t in sentences)


def test_markdown_keeps_angle_brackets_that_are_no_tags(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text("# Note\n\nA fine of <b>no more</b> than 5 <em>per</em> cent where x < y and <<page 3>> marks a page.\n", encoding="utf-8")
    text = load(path).text
    assert "x < y" in text and "<<page 3>>" in text and "<b>" not in text and "</em>" not in text
    assert text.index("no more") == path.read_text(encoding="utf-8").index("no more")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.txt", "empty file (no text)"),
        ("corrupt.pdf", "corrupt or unreadable PDF"),
        ("binary.txt", "binary file, not text"),
    ],
)
def test_bad_files_name_the_reason(name: str, reason: str) -> None:
    with pytest.raises(DocumentError) as err:
        load(DATA / name)
    assert str(DATA / name) in str(err.value)
    assert reason in err.value.reason


def test_unsupported_type(tmp_path: Path) -> None:
    path = tmp_path / "memo.docx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(DocumentError, match=r"memo.docx: unsupported file type '.docx'"):
        load(path)


def test_latin1_is_decoded_and_reported() -> None:
    doc = load(DATA / "latin1.txt")
    assert "protège" in doc.text
    assert any("not UTF-8" in w for w in doc.warnings)
