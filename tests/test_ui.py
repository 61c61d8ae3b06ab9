"""The web UI: built without launching; handlers over a real small index return what the page shows."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import pytest

from ipqa import ui
from ipqa.api import Assistant
from ipqa.embedding import Embedder
from ipqa.errors import ConfigError
from ipqa.settings import Settings
from ipqa.types import Answer, Citation, Hit, Passage, SourceInfo
from ipqa.webauth import ADMIN, load_users

DATA = Path(__file__).parent / "data"
WCT_QUESTION = "Are computer programs protected as literary works?"
WCT_QUOTE = "Computer programs are protected as literary works within the meaning of Article 2 of the Berne Convention."


class RecordingAssistant(Assistant):
    """A real Assistant that also records the history each question was asked with."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        super().__init__(settings, embedder=embedder)
        self.histories: list[list[tuple[str, str]]] = []

    def stream(self, question: str, **kwargs):  # type: ignore[no-untyped-def, override]
        self.histories.append(list(kwargs.get("history", ())))
        return super().stream(question, **kwargs)


def final(outputs: Iterator[tuple]) -> tuple:  # type: ignore[type-arg]
    """Last yield of a streaming handler."""
    return list(outputs)[-1]


@pytest.fixture(scope="module")
def answered(small: Assistant) -> tuple:  # type: ignore[type-arg]
    """One answered question over the small index (WCT, phonograms convention, commentary)."""
    return final(ui.respond(small, WCT_QUESTION, [], []))


def test_build_app_constructs_without_launching(small: Assistant) -> None:
    demo = ui.build_app(small.settings, small)
    assert isinstance(demo, gr.Blocks)
    assert not demo.is_running
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    for elem_id in ("ipqa-chat", "ipqa-question", "ipqa-panel", "ipqa-copy", "ipqa-upload", "ipqa-docs-table", "ipqa-remove", "ipqa-reingest", "ipqa-topk"):
        assert elem_id in ids, elem_id
    assert demo.analytics_enabled is False


def test_launch_options_bind_loopback_without_share(small: Assistant) -> None:
    options = ui.launch_options(Settings(data_dir=small.settings.data_dir), small)
    assert options["server_name"] == "127.0.0.1" and options["server_port"] == 7860
    assert options["share"] is False and options["auth"] is None and options["ssr_mode"] is False
    assert options["max_file_size"] == "20mb"
    assert all(not p.endswith((".html", ".htm")) for p in options["allowed_paths"])
    assert ui.exposure_warning(Settings()) is None


def test_auth_and_public_host_warning() -> None:
    (ann,) = load_users("ann:s3cr:et", None).values()
    assert ann.name == "ann" and ann.role == ADMIN and ann.check("s3cr:et") and not ann.check("s3cr")
    assert load_users(None, None) == {}
    with pytest.raises(ConfigError, match="user:password"):
        load_users("nopassword", None)
    assert ui.is_loopback("127.0.0.1") and ui.is_loopback("localhost") and ui.is_loopback("::1")
    assert not ui.is_loopback("0.0.0.0") and not ui.is_loopback("192.168.1.10")
    warning = ui.exposure_warning(Settings(host="0.0.0.0"))
    assert warning and "without a password" in warning and "IPQA_AUTH" in warning
    assert ui.exposure_warning(Settings(host="0.0.0.0", auth="ann:secret")) is None


def test_respond_streams_then_answers_with_clickable_citations(small: Assistant) -> None:
    outputs = list(ui.respond(small, WCT_QUESTION, [], []))
    first_chat = outputs[0][0]
    assert first_chat[0] == {"role": "user", "content": WCT_QUESTION}
    assert first_chat[1]["content"] == ui.SEARCHING
    chat, turns, panel, box, copied = outputs[-1]
    assert box == ""
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert '<a class="ipqa-cite" href="#ipqa-src-0-1"' in chat[1]["content"]
    assert len(turns) == 1 and turns[0].answer.answered
    c = turns[0].answer.citations[0]
    assert c.doc_id == "wipo-copyright-treaty-wct-1996" and c.section == "Article 4"
    # the side panel: title, jurisdiction, date, section, highlighted quote, official URL, local file
    assert "WIPO Copyright Treaty (WCT)" in panel
    assert "International" in panel and "1996-12-20" in panel and "Article 4" in panel
    assert f"<mark>{WCT_QUOTE}</mark>" in panel
    assert 'href="https://www.wipo.int/treaties/en/ip/wct/"' in panel
    assert 'href="ipqa/document/' in panel and "wipo-copyright-treaty-wct-1996.md" in panel
    assert "Retrieved, not cited" in panel
    assert copied.startswith(turns[0].answer.text) and "[1] WIPO Copyright Treaty" in copied


def test_follow_up_passes_the_conversation(small: Assistant, answered: tuple) -> None:  # type: ignore[type-arg]
    chat, turns = answered[0], answered[1]
    recorder = RecordingAssistant(small.settings, small.embedder)
    chat2, turns2, panel2, _, _ = final(ui.respond(recorder, "And what about compilations of data?", chat, turns))
    assert recorder.histories == [[(WCT_QUESTION, turns[0].answer.text)]]
    assert len(chat2) == 4 and len(turns2) == 2
    assert turns2[1].answer.answered
    assert "#ipqa-src-1-1" in chat2[3]["content"] and 'data-turn="1"' in panel2
    assert len(turns) == 1 and len(chat) == 2  # the caller's state is not mutated


def test_refusal_is_a_clear_state_without_citations(small: Assistant) -> None:
    chat, turns, panel, _, _ = final(ui.respond(small, "What is the boiling point of mercury?", [], []))
    assert not turns[0].answer.answered
    assert 'class="ipqa-refusal"' in chat[1]["content"] and "do not answer" in chat[1]["content"]
    assert "ipqa-cite" not in chat[1]["content"]
    assert "Nothing is cited" in panel and "Cited sources" not in panel


def test_filters_restrict_jurisdiction_documents_and_top_k(small: Assistant) -> None:
    turns_jp = final(ui.respond(small, WCT_QUESTION, [], [], jurisdictions=["JP"]))[1]
    hits = turns_jp[0].answer.hits
    assert hits and {h.passage.doc_id for h in hits} == {"wipo-japan-ai-ip-2026-commentary"}
    turns_doc = final(ui.respond(small, WCT_QUESTION, [], [], doc_ids=["wipo-phonograms-convention-1971"], top_k=2))[1]
    assert {h.passage.doc_id for h in turns_doc[0].answer.hits} == {"wipo-phonograms-convention-1971"}
    assert len(turns_doc[0].answer.hits) <= 2
    jurisdictions, docs = ui.filter_choices(small)
    assert jurisdictions == ["International", "JP"]
    assert ("the WIPO Copyright Treaty (WCT)", "wipo-copyright-treaty-wct-1996") in docs


def test_select_citation_marks_the_card(answered: tuple) -> None:  # type: ignore[type-arg]
    turns = answered[1]
    panel = ui.select_citation(turns, 0, 1)
    assert '<div class="ipqa-card selected" id="ipqa-src-0-1"' in panel
    assert ui.select_citation(turns, 7, 1) == ui.current_panel(turns)
    assert ui.clear_chat() == ([], [], ui.EMPTY_PANEL, "", "")


def test_empty_question_changes_nothing(small: Assistant, answered: tuple) -> None:  # type: ignore[type-arg]
    chat, turns, panel, box, copied = final(ui.respond(small, "   ", answered[0], answered[1]))
    assert chat == answered[0] and turns == answered[1] and panel == ui.current_panel(answered[1])


def _citation(passage: str, quote: str, **extra: object) -> Citation:
    start = passage.index(quote)
    fields = dict(
        n=1, passage_id="p1", doc_id="d", work_id="d", title="Doc <i>title</i>", section="Article 1", page=3, quote=quote,
        quote_start=start, quote_end=start + len(quote), doc_start=start, doc_end=start + len(quote), passage=passage,
        url="https://example.org/act", file="/tmp/corpus/doc.html", jurisdiction="EU", date="2024-06-13",
    )
    fields.update(extra)
    return Citation(**fields)  # type: ignore[arg-type]


def test_document_text_is_always_escaped() -> None:
    passage = "Intro <script>window.__pwned=1</script> text. The rule {{value}} ${value} <img src=x onerror=alert(1)> applies & holds."
    quote = "The rule {{value}} ${value} <img src=x onerror=alert(1)> applies & holds."
    c = _citation(passage, quote)
    card = ui.citation_card(c, 0, selected=True)
    assert "<script" not in card and "<img" not in card and "<i>" not in card
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in card
    assert "<mark>The rule &#123;&#123;value&#125;&#125; &#36;&#123;value&#125; &lt;img src=x onerror=alert(1)&gt; applies &amp; holds.</mark>" in card
    assert "Page</span> 3" in card and "EU" in card and "2024-06-13" in card
    assert "ipqa/document" not in card and "<code>doc.html</code>" in card and "/tmp/corpus" not in card  # HTML files are not served; no server path
    answer = Answer("q?", f"Under Doc, Article 1: “{quote}” [1]", True, (c,), ())
    bubble = ui.answer_html(answer.text, 0, answer)
    assert "<img" not in bubble and "&lt;img" in bubble and bubble.count('class="ipqa-cite"') == 2
    hit = Hit(Passage("p2", "d", passage, "Article 2", 0, len(passage)), 0.5)
    item = ui.hit_item(hit, SourceInfo("d", "T<b>", "T", "d", url="javascript:alert(1)"))
    assert "<script" not in item and "T&lt;b&gt;" in item and "javascript:" not in item


def test_only_real_markers_become_links() -> None:
    passage = "Footnote [2] stays text. The owner may act."
    c = _citation(passage, "Footnote [2] stays text.")
    answer = Answer("q", "Under Doc: “Footnote [2] stays text.” [1]", True, (c,), ())
    bubble = ui.answer_html(answer.text, 4, answer)
    assert "Footnote [2] stays text." in bubble and "#ipqa-src-4-2" not in bubble and "#ipqa-src-4-1" in bubble
    streaming = ui.answer_html("Under Doc: “Footnote", 4)
    assert "ipqa-cite" not in streaming and "ipqa-streaming" in streaming


def test_pdf_line_breaks_are_joined_for_reading() -> None:
    c = _citation("Page text\nwraps here.\n\nThe quoted\nsentence ends.", "The quoted\nsentence ends.")
    assert ui.highlighted_passage(c) == "Page text wraps here.\n\n<mark>The quoted sentence ends.</mark>"
    assert "\n" in ui.highlighted_passage(_citation("Markdown\n(i) item", "(i) item", page=None)).split("<mark>")[0]


def test_highlight_falls_back_to_finding_the_quote() -> None:
    c = _citation("Alpha beta. Gamma delta.", "Gamma delta.", quote_start=0, quote_end=3)
    assert ui.highlighted_passage(c) == "Alpha beta. <mark>Gamma delta.</mark>"


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\evil.MD", "evil.md"),
        (".hidden.pdf", "hidden.pdf"),
        ("a/b/c.pdf", "c.pdf"),
        ("..", "upload"),
        ("my report (final).PDF", "my report _final.pdf"),
        ("x" * 300 + ".txt", "x" * 100 + ".txt"),
        ("résumé 第1条.md", "résumé 第1条.md"),
    ],
)
def test_safe_filename(name: str, safe: str) -> None:
    assert ui.safe_filename(name) == safe


def test_sources_tab_upload_remove_and_reingest(tmp_path: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(DATA / "ui-script-passage.txt", corpus)
    settings = Settings(data_dir=tmp_path / "index", corpus_dir=corpus, max_file_mb=1)
    assistant = Assistant(settings, embedder=embedder)
    assert ui.documents_table(assistant) == [] and "No documents indexed yet" in ui.index_summary(assistant)
    assert ui.example_questions(assistant) == []
    notice = final(ui.respond(assistant, "Anything?", [], []))[0][1]["content"]
    assert 'class="ipqa-notice"' in notice and "No index yet" in notice and "Sources tab" in notice

    incoming = tmp_path / "incoming"
    incoming.mkdir()
    odd = incoming / "..zephyr<note>.md"
    shutil.copy(DATA / "ui-upload-note.md", odd)
    (incoming / "notes.docx").write_bytes(b"PK\x03\x04")
    (incoming / "big.txt").write_text("word " * 300_000)
    steps: list[object] = []
    report = ui.upload_files(assistant, [str(odd), str(incoming / "notes.docx"), str(incoming / "big.txt"), str(DATA / "empty.txt")], progress=lambda *a, **k: steps.append(a))
    assert "added" in report and "document id upload:zephyr_note" in report
    assert "unsupported file type &#x27;.docx&#x27;" in report and "over the 1 MB limit" in report
    assert report.count('class="ipqa-failed"') == 3, report
    assert sorted(p.name for p in (settings.data_dir / "uploads").iterdir()) == ["empty.txt", "zephyr_note.md"]
    assert len(steps) == 2  # one progress step per accepted file
    rows = ui.documents_table(assistant)
    assert [r[:3] for r in rows] == [["Zephyr Registry Guidance Note", "upload:zephyr_note", "markdown"]] and rows[0][4] == 3
    assert rows[0][-1] == "uploaded"
    chat, turns, panel, _, _ = final(ui.respond(assistant, "What does the Zephyr Registry record?", [], []))
    assert turns[0].answer.citations and turns[0].answer.citations[0].doc_id == "upload:zephyr_note"
    assert "ipqa/document/" in panel and "zephyr_note.md" in panel and 'class="ipqa-uploaded"' in panel
    assert str(assistant.settings.data_dir.resolve()) not in panel, "documents are linked by key, not by server path"

    again = ui.upload_files(assistant, [str(odd)])
    assert "unchanged" in again
    assert "Choose one or more files" in ui.upload_files(assistant, [])

    assert "Removed upload:zephyr_note (3 passages)" in ui.remove_document(assistant, "upload:zephyr_note")
    assert "No document" in ui.remove_document(assistant, "upload:zephyr_note")
    assert ui.documents_table(assistant) == []

    result = ui.reingest_corpus(assistant)
    assert "1 added" in result and "ui-script-passage" in result
    assert [r[1] for r in ui.documents_table(assistant)] == ["ui-script-passage"]
    assert ui.index_summary(assistant).startswith("1 document, 1 passage indexed.")


def test_example_questions_follow_the_index(small: Assistant) -> None:
    questions = ui.example_questions(small)
    assert ui.EXAMPLES["wipo-copyright-treaty-wct-1996"] in questions
    assert ui.EXAMPLES["wipo-japan-ai-ip-2026-commentary"] in questions
    assert len(questions) <= ui.N_EXAMPLES


def test_ui_module_uses_only_the_library_api() -> None:
    source = Path(ui.__file__).read_text()
    for forbidden in ("chromadb", "from .store", "import store", "llama_index"):
        assert forbidden not in source
