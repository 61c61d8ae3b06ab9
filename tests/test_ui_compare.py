"""Compare tab (issue #16 item 2), without a browser: columns, clickable citations into the panel, exports."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import gradio as gr

from ipqa import ui, ui_api, ui_compare
from ipqa.api import Assistant
from ipqa.memo import VERBATIM, verify_memo

PROGRAMS = "Are computer programs protected as literary works?"


def test_columns_link_every_citation_into_the_panel(small: Assistant) -> None:
    comparison, columns, panel, files = ui_compare.run_compare(small, PROGRAMS, "jurisdiction", [], 6)
    assert comparison is not None and panel == ui_compare.COMPARE_EMPTY
    labels = re.findall(r'<div class="ipqa-column[^"]*" data-group="([^"]+)"><h3>', columns)
    assert labels == [g.label for g in comparison.groups] == ["JP", "International"]
    for i, g in enumerate(comparison.groups):
        if not g.answered:
            assert f"<p>{g.text}</p>" in columns
            continue
        for c in g.answer.citations:
            # The marker after the quote and the source line both open this citation.
            assert columns.count(f'href="#ipqa-cmp-{i}-{c.n}"') == 2
            card = ui_compare.compare_panel(comparison, i, c.n)
            assert f'<div class="ipqa-card selected" id="ipqa-cmp-{i}-{c.n}"' in card
            assert f"<mark>{ui._esc(c.quote)}</mark>" in card
    assert 'href="#ipqa-src-' not in columns, "the chat tab's listener must not take these clicks"
    assert ui_compare.compare_panel(comparison, 99, 1) == ui_compare.COMPARE_EMPTY

    names = [Path(f).name for f in files or []]
    assert names == ["comparison.md", "comparison.csv", "memo.md", "memo.html"]
    text = {Path(f).name: Path(f).read_text(encoding="utf-8") for f in files or []}
    assert text["comparison.md"].startswith(f"# {PROGRAMS}\n")
    rows = list(csv.DictReader(text["comparison.csv"].splitlines()))
    assert {r["group"] for r in rows} == {"JP", "International"}
    cited = sum(len(g.answer.citations) for g in comparison.groups)
    assert [c.status for c in verify_memo(Path(files[3]))] == [VERBATIM] * cited


def test_compare_errors_show_in_place_of_the_columns(small: Assistant) -> None:
    state, columns, _, files = ui_compare.run_compare(small, PROGRAMS, "document", ["nope"], None)
    assert state is None and files is None
    assert columns == ui.notice_html("No document 'nope' in the index — see `ipqa sources`.")
    assert ui_compare.run_compare(small, "   ", "jurisdiction", [], None)[1] == ui.notice_html("Ask a question to compare.")


def test_app_has_the_compare_tab_and_named_endpoints(small: Assistant) -> None:
    demo = ui.build_app(small.settings, small)
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    for elem_id in ("ipqa-memo", "ipqa-memo-files", "ipqa-compare-question", "ipqa-compare", "ipqa-compare-columns", "ipqa-compare-panel", "ipqa-compare-export"):
        assert elem_id in ids, elem_id
    api = {d.api_name for d in demo.fns.values() if d.api_visibility == "public"}
    assert api == {"ask", "compare", "sources"}, api
    assert isinstance(demo, gr.Blocks) and not demo.is_running


def test_chat_exports_a_memo_of_the_latest_answer(small: Assistant) -> None:
    hidden = ui_compare.chat_memo(small, [])
    assert hidden.visible is False and hidden.value is None
    *_, (chat, turns, *_rest) = ui.respond(small, PROGRAMS, [], [])
    shown = ui_compare.chat_memo(small, turns)
    files = [Path(f["path"] if isinstance(f, dict) else f) for f in shown.value]
    assert shown.visible is True and [f.name for f in files] == ["memo.md", "memo.html"]
    assert PROGRAMS in files[0].read_text(encoding="utf-8")
    assert [c.status for c in verify_memo(files[1])] == [VERBATIM] * len(turns[-1].answer.citations)


def test_ui_modules_use_only_the_library_api() -> None:
    for module in (ui_compare, ui_api):
        source = Path(module.__file__).read_text()
        for forbidden in ("chromadb", "from .store", "import store", "llama_index", ".store"):
            assert forbidden not in source, (module.__name__, forbidden)
