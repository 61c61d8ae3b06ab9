"""Web chat, Compare tab: one column per jurisdiction (or document), citations clickable into a source panel, exports."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from .api import Assistant
from .compare import BY_DOCUMENT, BY_JURISDICTION, Comparison, to_csv, to_markdown
from .errors import IpqaError
from .markers import marker_spans
from .memo import to_html as memo_html
from .memo import to_markdown as memo_markdown
from .types import Citation
from .ui import _esc, _links, _paragraphs, highlighted_passage, notice_html

COMPARE_EMPTY = (
    '<div class="ipqa-panel ipqa-empty"><p><strong>Sources</strong></p>'
    "<p>Click a citation in any column to see its passage here, with the quoted words highlighted.</p></div>"
)
COMPARE_HINT = '<div class="ipqa-muted">Ask one question; each jurisdiction (or each chosen document) answers from its own sources.</div>'
COMPARING = '<span class="ipqa-pending">Comparing the sources…</span>'

# The columns are plain HTML (not the chatbot), but their links use their own href scheme so the chat tab's
# listener (which looks for #ipqa-src-T-N) ignores them; this one turns #ipqa-cmp-G-N into the panel's click event.
COMPARE_PANEL_JS = """
window.__ipqaCompareSelect = (group, n) => { trigger('click', {group: Number(group), n: Number(n)}); };
if (!window.__ipqaCompareListening) {
  window.__ipqaCompareListening = true;
  document.addEventListener('click', (event) => {
    const link = event.target.closest ? event.target.closest('a.ipqa-cmp-cite') : null;
    const found = link ? /ipqa-cmp-(\\d+)-(\\d+)/.exec(link.getAttribute('href') || '') : null;
    if (!found) return;
    event.preventDefault();
    event.stopPropagation();
    window.__ipqaCompareSelect(found[1], found[2]);
  }, true);
}
watch('value', () => {
  const card = element.querySelector('.ipqa-card.selected');
  if (card) card.scrollIntoView({block: 'nearest', behavior: 'smooth'});
});
"""

COMPARE_CSS = """
.ipqa-columns { display: flex; gap: .8rem; align-items: stretch; overflow-x: auto; }
.ipqa-column { flex: 1 1 0; min-width: 240px; border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .6rem .8rem; }
.ipqa-column h3 { margin: 0 0 .4rem 0; font-size: 1rem; }
.ipqa-column.ipqa-nothing { color: var(--body-text-color-subdued); background: var(--background-fill-secondary); }
"""


def compare_link(group_index: int, c: Citation) -> str:
    """A clickable `[n]` of one column that opens its passage in the compare panel."""
    where = f"{c.title} — {c.section}" + (f", p. {c.page}" if c.page else "")
    return f'<a class="ipqa-cite ipqa-cmp-cite" href="#ipqa-cmp-{group_index}-{c.n}" title="{_esc(where)}">[{c.n}]</a>'


def columns_html(comparison: Comparison) -> str:
    """One column per group: its cited answer with clickable markers and its sources, or the explicit 'nothing'."""
    columns = []
    for i, g in enumerate(comparison.groups):
        if not g.answered:
            columns.append(f'<div class="ipqa-column ipqa-nothing" data-group="{_esc(g.label)}"><h3>{_esc(g.label)}</h3><p>{_esc(g.text)}</p></div>')
            continue
        by_n = {c.n: c for c in g.answer.citations}
        parts, pos = [], 0
        for start, end, n in marker_spans(g.text, g.answer.citations):  # ipqa's own markers only, as in the chat
            parts += [_esc(g.text[pos:start]), compare_link(i, by_n[n])]
            pos = end
        body = "".join(parts) + _esc(g.text[pos:])
        sources = "".join(
            f"<li>{compare_link(i, c)} {_esc(c.title)} — {_esc(c.section)}{f', p. {c.page}' if c.page else ''}</li>" for c in g.answer.citations
        )
        notice = f'<div class="ipqa-notice">{_esc(g.answer.notice)}</div>' if g.answer.notice else ""
        columns.append(
            f'<div class="ipqa-column" data-group="{_esc(g.label)}"><h3>{_esc(g.label)}</h3>{_paragraphs(body)}{notice}'
            f'<ul class="ipqa-msg-sources">{sources}</ul></div>'
        )
    return f'<div class="ipqa-columns">{"".join(columns)}</div>'


def compare_card(c: Citation, group_index: int, selected: bool) -> str:
    """A cited passage in the compare panel (same look as the chat's source cards)."""
    meta = [("Jurisdiction", c.jurisdiction), ("Date", c.date), ("Section", c.section), ("Page", str(c.page) if c.page else "")]
    meta_html = "".join(f'<span><span class="ipqa-k">{k}</span> {_esc(v)}</span>' for k, v in meta if v)
    return (
        f'<div class="ipqa-card{" selected" if selected else ""}" id="ipqa-cmp-{group_index}-{c.n}" data-n="{c.n}">'
        f'<div class="ipqa-card-head">{compare_link(group_index, c)}<span class="ipqa-title">{_esc(c.title)}</span></div>'
        f'<div class="ipqa-meta">{meta_html}</div>'
        f'<blockquote class="ipqa-passage">{highlighted_passage(c)}</blockquote>'
        f"{_links(c.url, c.file)}</div>"
    )


def compare_panel(comparison: Comparison | None, group_index: int, n: int) -> str:
    """The sources of one column, citation n selected."""
    if comparison is None or not 0 <= group_index < len(comparison.groups):
        return COMPARE_EMPTY
    g = comparison.groups[group_index]
    cards = "".join(compare_card(c, group_index, c.n == n) for c in g.answer.citations)
    return f'<div class="ipqa-panel"><div class="ipqa-panel-q">Sources for {_esc(g.label)}: “{_esc(comparison.question)}”</div>{cards}</div>'


def _write_files(files: dict[str, str]) -> list[str]:
    folder = Path(tempfile.mkdtemp(prefix="ipqa-export-"))
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return [str(folder / name) for name in files]


def export_files(assistant: Assistant, comparison: Comparison) -> list[str]:
    """Markdown, CSV and memo (Markdown and HTML) files of a comparison, in a fresh temporary folder, for download."""
    record = assistant.memo(comparison)
    return _write_files({"comparison.md": to_markdown(comparison), "comparison.csv": to_csv(comparison),
                         "memo.md": memo_markdown(record), "memo.html": memo_html(record)})


def chat_memo(assistant: Assistant, turns: Sequence[Any] | None) -> Any:
    """The Chat tab's 'Export memo': the latest answer as a memo (Markdown and HTML) to download; hidden when there is none."""
    if not turns:
        return gr.File(value=None, visible=False)
    try:
        record = assistant.memo(turns[-1].answer)
    except IpqaError:
        return gr.File(value=None, visible=False)
    return gr.File(value=_write_files({"memo.md": memo_markdown(record), "memo.html": memo_html(record)}), visible=True)


def run_compare(
    assistant: Assistant, question: str, by: str, doc_ids: Sequence[str] | None, top_k: float | None
) -> tuple[Comparison | None, str, str, list[str] | None]:
    """Compare and render: (state, columns, panel, export files); an error is shown in place of the columns."""
    question = (question or "").strip()
    if not question:
        return None, notice_html("Ask a question to compare."), COMPARE_EMPTY, None
    try:
        comparison = assistant.compare(question, by=by, documents=list(doc_ids or ()), top_k=int(top_k) if top_k else None)
    except IpqaError as exc:
        return None, notice_html(str(exc)), COMPARE_EMPTY, None
    return comparison, columns_html(comparison), COMPARE_EMPTY, export_files(assistant, comparison)


def compare_tab(assistant: Assistant, top_k_default: int, docs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The Compare tab's components and events (call inside `gr.Tabs()`); returns the document picker to refresh."""
    with gr.Tab("Compare", id="compare"):
        state = gr.State(None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                with gr.Row():
                    box = gr.Textbox(show_label=False, placeholder="Compare — e.g. “How do the sources treat text and data mining for AI training?”",
                                     scale=8, elem_id="ipqa-compare-question", max_length=2000)
                    go = gr.Button("Compare", variant="primary", scale=1, min_width=100, elem_id="ipqa-compare")
                with gr.Row():
                    by = gr.Radio([("By jurisdiction", BY_JURISDICTION), ("By document", BY_DOCUMENT)], value=BY_JURISDICTION,
                                  label="Columns", elem_id="ipqa-compare-by")
                    pick = gr.Dropdown(list(docs), multiselect=True, label="Documents (by document: one column each)", elem_id="ipqa-compare-docs")
                    top_k = gr.Slider(1, 20, value=top_k_default, step=1, label="Passages per column (top-k)", elem_id="ipqa-compare-topk")
                columns = gr.HTML(COMPARE_HINT, elem_id="ipqa-compare-columns", js_on_load=None, css_template=COMPARE_CSS)
                exports = gr.File(label="Export: comparison (Markdown, CSV) and verifiable memo (Markdown, HTML)", file_count="multiple",
                                  interactive=False, elem_id="ipqa-compare-export")
            with gr.Column(scale=2, min_width=340):
                panel = gr.HTML(COMPARE_EMPTY, js_on_load=COMPARE_PANEL_JS, elem_id="ipqa-compare-panel", max_height=720, padding=True)

        def _compare(question: str, by_value: str, doc_ids: list[str], k: float) -> tuple[Any, ...]:
            return run_compare(assistant, question, by_value, doc_ids, k)

        def _select(comparison: Comparison | None, evt: gr.EventData) -> str:
            data = getattr(evt, "_data", None) or {}
            try:
                return compare_panel(comparison, int(data.get("group", -1)), int(data.get("n", 0)))
            except (TypeError, ValueError):
                return COMPARE_EMPTY

        inputs, outputs = [box, by, pick, top_k], [state, columns, panel, exports]
        go.click(lambda: COMPARING, None, columns, queue=False, api_visibility="private").then(_compare, inputs, outputs, api_visibility="private")
        box.submit(lambda: COMPARING, None, columns, queue=False, api_visibility="private").then(_compare, inputs, outputs, api_visibility="private")
        panel.click(_select, [state], [panel], show_progress="hidden", api_visibility="private")
    return {"docs": pick}
