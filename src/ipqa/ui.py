"""Web chat: `build_app()` constructs the Gradio UI over the library API, `launch()` serves it."""

from __future__ import annotations

import hashlib
import html
import ipaddress
import os
import re
import shutil
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

# Before gradio is imported: no usage analytics and no version check, ever.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import gradio as gr  # noqa: E402

from .api import Assistant  # noqa: E402
from .catalog import is_upload  # noqa: E402
from .errors import ConfigError, IpqaError, NoIndexError  # noqa: E402
from .loaders import SUPPORTED  # noqa: E402
from .markers import marker_spans  # noqa: E402
from .settings import Settings  # noqa: E402
from .types import PREMISE_CONTRADICTED, Answer, Citation, Hit, SourceInfo  # noqa: E402
from .webauth import READ_ONLY_MESSAGE, READER, AuthGate, LoginThrottle, load_users  # noqa: E402

Chat = list[dict[str, str]]
Progress = Callable[..., Any]

TITLE = "ipqa — IP-policy questions, verifiable answers"
EMPTY_PANEL = (
    '<div class="ipqa-panel ipqa-empty"><p><strong>Sources</strong></p>'
    "<p>Every <span class=\"ipqa-chip\">[n]</span> in an answer links to the exact passage it quotes. "
    "Click one to see the passage here, with the quoted words highlighted.</p></div>"
)
NO_SOURCE_HINT = "Nothing is cited. The closest passages that were retrieved are listed beside the chat."
SEARCHING = '<span class="ipqa-pending">Searching the sources…</span>'
# Files served inline from the app's own origin must not be able to run script there.
LINKABLE_TYPES = {".pdf", ".txt", ".md", ".markdown"}
EXAMPLES = {
    "wipo-copyright-treaty-wct-1996": "Are computer programs protected as literary works?",
    "wipo-japan-ai-ip-2026-commentary": "What did Japan and WIPO discuss about AI and intellectual property?",
    "eu-ai-act-2024-1689": "What does Article 53 of the AI Act require of general-purpose AI model providers regarding copyright?",
    "us-17usc-title17-copyright": "What are the fair use factors in § 107?",
    "wipo-berne-convention": "How long does copyright protection last under the Berne Convention?",
    "wto-trips-agreement": "What does TRIPS Article 13 say about limitations and exceptions?",
    "us-ndcal-bartz-v-anthropic-2025-fair-use-order": "Was training on lawfully purchased books fair use in Bartz v. Anthropic?",
    "wipo-phonograms-convention-1971": "What does the Phonograms Convention protect producers of phonograms against?",
}
N_EXAMPLES = 4
DOC_HEADERS = ["Title", "Document id", "Type", "Jurisdiction", "Passages", "Ingested at", "Origin"]


@dataclass(frozen=True)
class Turn:
    """One answered question, with what is needed to redraw its sources later."""

    question: str
    answer: Answer
    infos: dict[str, SourceInfo] = field(default_factory=dict, compare=False, hash=False)


# -- rendering (pure functions; all document text goes through `_esc`) ----------------------


def _esc(text: str) -> str:
    """HTML-escape document or user text; braces and `$` too, so no template engine sees them."""
    return html.escape(text, quote=True).replace("{", "&#123;").replace("}", "&#125;").replace("$", "&#36;")


def _paragraphs(escaped: str) -> str:
    parts = [p.strip() for p in escaped.split("\n\n") if p.strip()]
    return "".join(f"<p>{' '.join(p.split(chr(10)))}</p>" for p in parts)


def cite_link(turn_index: int, c: Citation) -> str:
    """A clickable `[n]` that selects citation n of this turn in the sources panel."""
    where = f"{c.title} — {c.section}" + (f", p. {c.page}" if c.page else "")
    return (
        f'<a class="ipqa-cite" href="#ipqa-src-{turn_index}-{c.n}" '
        f'title="{_esc(where)}">[{c.n}]</a>'
    )


def answer_html(text: str, turn_index: int, answer: Answer | None = None, infos: dict[str, SourceInfo] | None = None) -> str:
    """Chat bubble of an answer: escaped text, `[n]` as links (once the answer is complete)."""
    if answer is not None and answer.kind == PREMISE_CONTRADICTED:
        # A premise correction: neither an answer nor a refusal; it quotes, with citations, what the sources say instead.
        body = _linked(text, turn_index, answer)
        return (
            f'<div class="ipqa-premise"><div class="ipqa-premise-tag">Premise not supported</div>{_paragraphs(body)}'
            f"{_source_list(answer.citations, turn_index, infos or {})}</div>"
        )
    if answer is not None and not answer.answered:
        return (
            f'<div class="ipqa-refusal"><strong>{_esc(answer.text)}</strong>'
            f'<div class="ipqa-refusal-hint">{_esc(answer.notice or NO_SOURCE_HINT)}</div></div>'
        )
    body = _esc(text)
    if answer is None:
        return f'<div class="ipqa-answer ipqa-streaming">{_paragraphs(body)}</div>'
    body = _linked(text, turn_index, answer)
    notice = f'<div class="ipqa-notice">{_esc(answer.notice)}</div>' if answer.notice else ""
    return f'<div class="ipqa-answer">{_paragraphs(body)}{notice}{_source_list(answer.citations, turn_index, infos or {})}</div>'


def _linked(text: str, turn_index: int, answer: Answer) -> str:
    """Escaped answer text with ipqa's markers (found by position, never by a regex over quoted text) as links."""
    by_n = {c.n: c for c in answer.citations}
    out, pos = [], 0
    for start, end, n in marker_spans(text, answer.citations):
        out.append(_esc(text[pos:start]))
        out.append(cite_link(turn_index, by_n[n]))
        pos = end
    out.append(_esc(text[pos:]))
    return "".join(out)


def _source_list(citations: Sequence[Citation], turn_index: int, infos: dict[str, SourceInfo]) -> str:
    """Under an answer, one line per cited document: its markers, name and provisions."""
    docs: dict[str, list[Citation]] = {}
    for c in citations:
        docs.setdefault(c.doc_id, []).append(c)
    lines = []
    for doc_id, cs in docs.items():
        info = infos.get(doc_id)
        name = (info.short_title if info else "") or cs[0].title
        sections = list(dict.fromkeys(c.section + (f", p. {c.page}" if c.page else "") for c in cs if len(c.section) <= 48))
        where = f" — {_esc('; '.join(sections))}" if sections else ""
        lines.append(f"<li>{''.join(cite_link(turn_index, c) for c in cs)} {_esc(name)}{_uploaded(doc_id)}{where}</li>")
    return f'<ul class="ipqa-msg-sources">{"".join(lines)}</ul>' if lines else ""


def _uploaded(doc_id: str) -> str:
    """A badge on an uploaded document: not from the catalog, whatever its title says."""
    return ' <span class="ipqa-uploaded" title="Uploaded through the web app, not a catalog source">uploaded</span>' if is_upload(doc_id) else ""


def _unwrap(text: str) -> str:
    """PDF text keeps the page's line breaks; for reading, a single break is a space."""
    return re.sub(r"(?<!\n)\n(?!\n)", " ", text)


def highlighted_passage(c: Citation) -> str:
    """The cited passage, escaped, with the quoted span in `<mark>` (PDF line breaks joined)."""
    start, end = c.quote_start, c.quote_end
    if not (0 <= start <= end <= len(c.passage)) or c.passage[start:end] != c.quote:
        found = c.passage.find(c.quote)
        start, end = (found, found + len(c.quote)) if found >= 0 else (len(c.passage), len(c.passage))
    show = _unwrap if c.page is not None else str
    return f"{_esc(show(c.passage[:start]))}<mark>{_esc(show(c.passage[start:end]))}</mark>{_esc(show(c.passage[end:]))}"


DOCUMENT_ROUTE = "ipqa/document"
_MEDIA_TYPES = {".pdf": "application/pdf", ".txt": "text/plain; charset=utf-8", ".md": "text/plain; charset=utf-8",
                ".markdown": "text/plain; charset=utf-8"}


def file_key(path: str) -> str:
    """An opaque key for an indexed file: links name it without showing the server's path."""
    return hashlib.sha256(path.encode()).hexdigest()[:24]


def file_href(path: str) -> str | None:
    """Link to a local document through ipqa's document route (None for types that could run script)."""
    if not path or Path(path).suffix.lower() not in LINKABLE_TYPES:
        return None
    return f"{DOCUMENT_ROUTE}/{file_key(path)}/{quote(Path(path).name)}"


def document_route(assistant: Assistant) -> Any:
    """The route behind `file_href`: serves an indexed file of a linkable type by its key, as PDF or plain text."""
    from starlette.responses import FileResponse, PlainTextResponse
    from starlette.routing import Route

    def serve(request: Any) -> Any:
        key = request.path_params["key"]
        try:
            records = assistant.sources()
        except IpqaError:
            records = []
        for record in records:
            if file_href(record.path) and file_key(record.path) == key and Path(record.path).is_file():
                media = _MEDIA_TYPES[Path(record.path).suffix.lower()]
                return FileResponse(record.path, media_type=media, headers={"X-Content-Type-Options": "nosniff"}, content_disposition_type="inline")
        return PlainTextResponse("No such document.", status_code=404)

    return Route(f"/{DOCUMENT_ROUTE}/{{key}}/{{name}}", serve, methods=["GET"])


def _links(url: str, file: str) -> str:
    parts = []
    if urlparse(url).scheme in ("http", "https"):
        parts.append(f'<a href="{_esc(url)}" target="_blank" rel="noopener noreferrer">Official source ↗</a>')
    else:
        parts.append('<span class="ipqa-muted">No official URL in the catalog</span>')
    href = file_href(file)
    if href:
        parts.append(f'<a href="{_esc(href)}" target="_blank" rel="noopener noreferrer">Local file: {_esc(Path(file).name)}</a>')
    elif file:  # the file's name only: the page shows no server paths
        parts.append(f'<span class="ipqa-muted">Local file: <code>{_esc(Path(file).name)}</code></span>')
    return '<div class="ipqa-links">' + " · ".join(parts) + "</div>"


def citation_card(c: Citation, turn_index: int, selected: bool = False) -> str:
    """Side-panel card: title, jurisdiction, date, section, page, highlighted passage, links."""
    meta = [("Jurisdiction", c.jurisdiction), ("Date", c.date), ("Section", c.section), ("Page", str(c.page) if c.page else "")]
    meta_html = "".join(f'<span><span class="ipqa-k">{k}</span> {_esc(v)}</span>' for k, v in meta if v)
    return (
        f'<div class="ipqa-card{" selected" if selected else ""}" id="ipqa-src-{turn_index}-{c.n}" data-n="{c.n}">'
        f'<div class="ipqa-card-head">{cite_link(turn_index, c)}<span class="ipqa-title">{_esc(c.title)}</span>{_uploaded(c.doc_id)}</div>'
        f'<div class="ipqa-meta">{meta_html}</div>'
        f'<blockquote class="ipqa-passage">{highlighted_passage(c)}</blockquote>'
        f"{_links(c.url, c.file)}{_counterpart(c)}</div>"
    )


def _counterpart(c: Citation) -> str:
    """The same article in the work's other rendition, its legal status said (renditions.py)."""
    o = c.counterpart
    if o is None:
        return ""
    return (
        f'<details class="ipqa-counterpart" open><summary>{_esc(o.section)} — {_esc(o.title)}</summary>'
        f'<div class="ipqa-muted">{_esc(o.note)}</div><blockquote class="ipqa-passage">{_esc(o.text)}</blockquote></details>'
    )


def hit_item(hit: Hit, info: SourceInfo | None) -> str:
    """A retrieved-but-uncited passage: where it is, and its text on demand."""
    p = hit.passage
    title = info.title if info else p.doc_id
    where = _esc(p.section) + (f", p. {p.page}" if p.page else "")
    return (
        f'<details class="ipqa-hit"><summary><span class="ipqa-title">{_esc(title)}</span>{_uploaded(p.doc_id)} — {where}</summary>'
        f'<blockquote class="ipqa-passage">{_esc(_unwrap(p.text) if p.page is not None else p.text)}</blockquote>'
        f"{_links(info.url if info else '', info.file if info else '')}</details>"
    )


def render_panel(turn: Turn, turn_index: int, selected: int | None = None) -> str:
    """Sources of one answer: cited passages first, then those retrieved but not cited."""
    a = turn.answer
    cited_ids = {c.passage_id for c in a.citations}
    out = [f'<div class="ipqa-panel" data-turn="{turn_index}">', f'<div class="ipqa-panel-q">Sources for “{_esc(turn.question)}”</div>']
    if a.answered or a.kind == PREMISE_CONTRADICTED:
        out.append(f'<h4 class="ipqa-h">Cited sources <span class="ipqa-count">{len(a.citations)}</span></h4>')
        out.extend(citation_card(c, turn_index, c.n == selected) for c in a.citations)
    else:
        out.append(f'<div class="ipqa-refusal"><strong>{_esc(a.text)}</strong><div class="ipqa-refusal-hint">Nothing is cited.</div></div>')
    uncited = [h for h in a.hits if h.passage.passage_id not in cited_ids]
    if uncited:
        out.append(f'<h4 class="ipqa-h">Retrieved, not cited <span class="ipqa-count">{len(uncited)}</span></h4>')
        out.extend(hit_item(h, turn.infos.get(h.passage.doc_id)) for h in uncited)
    out.append("</div>")
    return "".join(out)


def notice_html(text: str) -> str:
    """An error or hint in the chat (never an exception's repr)."""
    return f'<div class="ipqa-notice">{_esc(text)}</div>'


def copy_text(answer: Answer) -> str:
    """Plain text of an answer with its sources, for the clipboard."""
    lines = [answer.text]
    if answer.citations:
        lines.append("\nSources:")
    for c in answer.citations:
        where = f", p. {c.page}" if c.page else ""
        lines.append(f"[{c.n}] {c.title} — {c.section}{where} — {c.url or c.file}")
    return "\n".join(lines)


# -- handlers (plain functions over the assistant: testable without a browser) -------------------


def _infos(assistant: Assistant) -> dict[str, SourceInfo]:
    try:
        return {r.doc_id: r.info for r in assistant.sources()}
    except IpqaError:
        return {}


def current_panel(turns: Sequence[Turn]) -> str:
    """The panel for the latest answer (or the empty panel)."""
    return render_panel(turns[-1], len(turns) - 1) if turns else EMPTY_PANEL


def respond(
    assistant: Assistant,
    question: str,
    chat: Chat | None,
    turns: Sequence[Turn] | None,
    jurisdictions: Sequence[str] = (),
    doc_ids: Sequence[str] = (),
    top_k: float | None = None,
) -> Iterator[tuple[Chat, list[Turn], str, str, str]]:
    """Stream one answer; yields (chat messages, turns, sources panel, question box, copy text)."""
    chat, turns = list(chat or []), list(turns or [])
    last_copy = copy_text(turns[-1].answer) if turns else ""
    question = (question or "").strip()
    if not question:
        yield chat, turns, current_panel(turns), "", last_copy
        return
    index = len(turns)
    chat = [*chat, {"role": "user", "content": _esc(question)}]
    yield [*chat, {"role": "assistant", "content": SEARCHING}], turns, current_panel(turns), "", last_copy
    history = [(t.question, t.answer.text) for t in turns]
    try:
        for text, result in assistant.stream(
            question, history=history, jurisdictions=list(jurisdictions or ()), doc_ids=list(doc_ids or ()), top_k=int(top_k) if top_k else None
        ):
            if result is None:
                yield [*chat, {"role": "assistant", "content": answer_html(text, index)}], turns, current_panel(turns), "", last_copy
                continue
            turn = Turn(question, result, _infos(assistant))
            turns = [*turns, turn]
            message = {"role": "assistant", "content": answer_html(result.text, index, result, turn.infos)}
            yield [*chat, message], turns, render_panel(turn, index), "", copy_text(result)
    except IpqaError as exc:
        hint = " Or add documents in the Sources tab." if isinstance(exc, NoIndexError) else ""
        yield [*chat, {"role": "assistant", "content": notice_html(f"{exc}{hint}")}], turns, current_panel(turns), "", last_copy


def select_citation(turns: Sequence[Turn], turn_index: int, n: int) -> str:
    """The panel of one turn's answer with citation n selected."""
    if 0 <= turn_index < len(turns):
        return render_panel(turns[turn_index], turn_index, selected=n)
    return current_panel(turns)


def clear_chat() -> tuple[Chat, list[Turn], str, str, str]:
    """A new conversation: empty chat, no turns, the empty panel."""
    return [], [], EMPTY_PANEL, "", ""


def documents_table(assistant: Assistant) -> list[list[Any]]:
    """Rows of the Sources tab: title, id, type, jurisdiction, passages, ingested at, origin (uploaded or ingested)."""
    try:
        docs = assistant.sources()
    except IpqaError:
        return []
    return [
        [d.info.title, d.doc_id, d.file_type, d.info.jurisdiction, d.n_passages, datetime.fromtimestamp(d.ingested_at).strftime("%Y-%m-%d %H:%M"),
         "uploaded" if is_upload(d.doc_id) else "ingested"]
        for d in docs
    ]


def documents_html(rows: Sequence[Sequence[Any]]) -> str:
    """The Sources tab's table of indexed documents (escaped)."""
    if not rows:
        return notice_html("No documents indexed yet. Upload files here, or run `ipqa ingest corpus/`.")
    head = "".join(f"<th>{h}</th>" for h in DOC_HEADERS)
    body = "".join("<tr>" + "".join(f"<td>{_esc(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f'<table class="ipqa-docs"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def filter_choices(assistant: Assistant) -> tuple[list[str], list[tuple[str, str]]]:
    """Jurisdictions and (title, doc id) pairs to restrict a question to."""
    infos = _infos(assistant)
    jurisdictions = sorted({i.jurisdiction for i in infos.values() if i.jurisdiction})
    docs = sorted(((i.short_title or i.title)[:80], doc_id) for doc_id, i in infos.items())
    return jurisdictions, docs


def example_questions(assistant: Assistant) -> list[str]:
    """A few questions that indexed catalogue documents answer (none for an empty index)."""
    infos = _infos(assistant)
    return [q for doc_id, q in EXAMPLES.items() if doc_id in infos][:N_EXAMPLES]


def index_summary(assistant: Assistant) -> str:
    """One line under the title: what is indexed."""
    rows = documents_table(assistant)
    if not rows:
        return "No documents indexed yet — add some in the **Sources** tab or run `ipqa ingest corpus/`."
    docs, passages = len(rows), sum(r[4] for r in rows)
    return (
        f"{docs:,} document{'s' * (docs != 1)}, {passages:,} passage{'s' * (passages != 1)} indexed. "
        "Answers quote the sources verbatim; click a citation to check it."
    )


def safe_filename(name: str) -> str:
    """A bare, harmless file name for an upload: no folders, no leading dots, no odd characters."""
    base = unicodedata.normalize("NFKC", name).replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^\w.\- ]+", "_", base, flags=re.UNICODE)
    base = re.sub(r"\.{2,}", ".", base).strip(" ._-")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = stem[:100].strip(" ._-") or "upload"
    return f"{stem}.{suffix.lower()}" if suffix else stem


def upload_files(assistant: Assistant, files: Sequence[Any] | None, progress: Progress | None = None) -> str:
    """Copy uploads into `<data_dir>/uploads` under safe names and ingest them one by one; HTML report."""
    settings = assistant.settings
    if not files:
        return notice_html("Choose one or more files to upload first.")
    folder = (settings.data_dir / "uploads").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    limit = settings.max_file_mb * 1024 * 1024
    rows: list[tuple[str, str, str]] = []
    staged: list[tuple[str, Path]] = []
    for item in files:
        source = Path(getattr(item, "name", None) or str(item))
        try:
            staged_one = _stage(source, folder, limit, settings.max_file_mb)
        except (OSError, ValueError) as exc:  # one odd name or unreadable upload fails that file only
            rows.append((source.name, "failed", f"cannot store the upload ({type(exc).__name__})"))
            continue
        if isinstance(staged_one, str):
            rows.append((source.name, "failed", staged_one))
        else:
            staged.append((source.name, staged_one))
    for i, (original, target) in enumerate(staged):
        if progress:
            progress((i, len(staged)), desc=f"Ingesting {target.name}")
        try:
            report = assistant.ingest([target], prune=False)
        except IpqaError as exc:
            rows.append((original, "failed", str(exc)))
            continue
        except Exception as exc:  # whatever goes wrong with one upload fails that upload only (type only: no internals shown)
            rows.append((original, "failed", f"cannot be ingested ({type(exc).__name__})"))
            continue
        for _, reason in report.failed + report.skipped:
            rows.append((original, "failed", reason))
        for status, ids in (("added", report.added), ("changed", report.changed), ("unchanged", report.unchanged)):
            rows.extend((original, status, f"document id {doc_id}") for doc_id in ids)
        for _, note in report.warnings + report.collisions:
            rows.append((original, "warning", note))
    return _report_html(rows)


def _stage(source: Path, folder: Path, limit: int, limit_mb: int) -> Path | str:
    """Copy one upload into the uploads folder under a safe name; the reason as a string when it is refused."""
    name = safe_filename(source.name)
    if Path(name).suffix.lower() not in SUPPORTED:
        return f"unsupported file type '{Path(name).suffix or '(none)'}' — supported: {', '.join(sorted(SUPPORTED))}"
    try:
        size = source.stat().st_size
    except OSError as exc:
        return f"cannot read the upload ({exc.strerror or exc})"
    if size > limit:
        return f"file is {size / 2**20:.1f} MB, over the {limit_mb} MB limit"
    target = folder / name
    if target.resolve().parent != folder:  # belt and braces: the name cannot leave the folder
        return "invalid file name"
    shutil.copyfile(source, target)
    return target


def _report_html(rows: Sequence[tuple[str, str, str]]) -> str:
    if not rows:
        return notice_html("Nothing to do.")
    body = "".join(f'<tr class="ipqa-{_esc(s)}"><td>{_esc(f)}</td><td><span class="ipqa-status">{_esc(s)}</span></td><td>{_esc(d)}</td></tr>' for f, s, d in rows)
    return f'<table class="ipqa-report"><thead><tr><th>File</th><th>Result</th><th>Details</th></tr></thead><tbody>{body}</tbody></table>'


def remove_document(assistant: Assistant, doc_id: str | None) -> str:
    """Remove a document from the index; HTML message."""
    if not doc_id:
        return notice_html("Choose a document to remove.")
    try:
        n = assistant.remove(doc_id)
    except IpqaError as exc:
        return notice_html(str(exc))
    return notice_html(f"Removed {doc_id} ({n} passages).")


def reingest_corpus(assistant: Assistant, progress: Progress | None = None) -> str:
    """Bring the index in line with the corpus folder (as `ipqa ingest corpus/`); HTML report."""
    folder = assistant.settings.corpus_dir
    if not folder.is_dir():
        return notice_html("The corpus folder does not exist (set IPQA_CORPUS_DIR on the server).")
    if progress:
        progress(None, desc="Ingesting the corpus folder")
    try:
        report = assistant.ingest([folder])
    except IpqaError as exc:
        return notice_html(str(exc))
    shown = _in_folder(folder)  # file names relative to the corpus folder: the page shows no server paths
    rows = [(shown(p), "failed", r) for p, r in report.failed] + [(shown(p), "skipped", r) for p, r in report.skipped]
    rows += [(shown(p), "warning", r) for p, r in report.collisions]
    for status, ids in (("added", report.added), ("changed", report.changed), ("removed", report.removed)):
        rows.extend((doc_id, status, "") for doc_id in ids)
    return notice_html(report.summary()) + (_report_html(rows) if rows else "")


def _in_folder(folder: Path) -> Callable[[str], str]:
    """A path shown relative to `folder` (or by its name when outside it)."""
    base = folder.resolve()

    def shown(path: str) -> str:
        where = Path(path)
        try:
            return str(where.resolve().relative_to(base))
        except (ValueError, OSError, RuntimeError):
            return where.name

    return shown


# -- the app ------------------------------------------------------------------------------------

CSS = """
.gradio-container { max-width: 1480px !important; }
#ipqa-header h1 { margin: 0 0 .1rem 0; font-size: 1.45rem; }
#ipqa-header p { margin: 0; color: var(--body-text-color-subdued); }
.ipqa-answer p, .ipqa-refusal p { margin: 0 0 .6em 0; }
.ipqa-answer p:last-of-type { margin-bottom: .3em; }
a.ipqa-cite, .ipqa-chip { display: inline-block; padding: 0 .38em; margin: 0 .08em; border-radius: .45em; font-size: .82em;
  font-weight: 600; line-height: 1.45; text-decoration: none !important; color: #1d4ed8 !important; background: #dbeafe;
  border: 1px solid #bfdbfe; cursor: pointer; vertical-align: baseline; }
a.ipqa-cite:hover { background: #bfdbfe; }
.ipqa-msg-sources { list-style: none; padding: .45em 0 0 0 !important; margin: .2em 0 0 0 !important; border-top: 1px solid var(--border-color-primary);
  font-size: .85em; color: var(--body-text-color-subdued); }
.ipqa-msg-sources li { margin: .15em 0; }
.ipqa-refusal { border-left: 4px solid #d97706; background: rgba(217, 119, 6, .08); padding: .55em .8em; border-radius: .4em; }
.ipqa-premise { border-left: 4px solid #7c3aed; background: rgba(124, 58, 237, .08); padding: .55em .8em; border-radius: .4em; }
.ipqa-premise-tag { font-size: .8em; font-weight: bold; text-transform: uppercase; letter-spacing: .04em; color: #7c3aed; margin-bottom: .3em; }
.ipqa-refusal-hint { font-size: .88em; margin-top: .25em; color: var(--body-text-color-subdued); }
.ipqa-notice { border-left: 4px solid #64748b; background: rgba(100, 116, 139, .08); padding: .5em .8em; border-radius: .4em; margin: .3em 0; }
.ipqa-pending { color: var(--body-text-color-subdued); font-style: italic; }
.ipqa-panel { font-size: .93rem; }
.ipqa-empty { color: var(--body-text-color-subdued); padding: .4em .2em; }
.ipqa-panel-q { font-weight: 600; margin-bottom: .5em; }
.ipqa-h { margin: .9em 0 .45em 0 !important; font-size: .8rem !important; text-transform: uppercase; letter-spacing: .05em;
  color: var(--body-text-color-subdued); }
.ipqa-count { display: inline-block; min-width: 1.4em; text-align: center; border-radius: 1em; background: var(--background-fill-secondary);
  border: 1px solid var(--border-color-primary); font-size: .9em; padding: 0 .3em; }
.ipqa-card { border: 1px solid var(--border-color-primary); border-left: 4px solid #93c5fd; border-radius: .5em; padding: .6em .75em;
  margin-bottom: .65em; background: var(--background-fill-primary); transition: box-shadow .2s, border-color .2s; }
.ipqa-card.selected { border-color: #2563eb; border-left-color: #2563eb; box-shadow: 0 0 0 3px rgba(37, 99, 235, .18); }
.ipqa-card-head { display: flex; gap: .45em; align-items: baseline; }
.ipqa-title { font-weight: 600; }
.ipqa-meta { display: flex; flex-wrap: wrap; gap: .2em .9em; margin: .3em 0 .4em 0; font-size: .85em; }
.ipqa-k { color: var(--body-text-color-subdued); font-size: .88em; text-transform: uppercase; letter-spacing: .03em; }
blockquote.ipqa-passage { margin: .3em 0; padding: .45em .65em; border-left: 3px solid var(--border-color-primary);
  background: var(--background-fill-secondary); white-space: pre-wrap; font-size: .88em; line-height: 1.5; max-height: 22em; overflow: auto; }
.ipqa-passage mark { background: #fde68a; color: #1f2937; padding: 0 .1em; border-radius: .2em; }
.ipqa-links { font-size: .85em; display: flex; flex-wrap: wrap; gap: .2em .4em; }
.ipqa-links code { font-size: .9em; word-break: break-all; }
.ipqa-muted { color: var(--body-text-color-subdued); }
.ipqa-uploaded { font-size: .75em; padding: 0 .4em; margin-left: .3em; border-radius: .4em; border: 1px solid currentColor; color: #9a5b00; }
.ipqa-hit { border: 1px dashed var(--border-color-primary); border-radius: .45em; padding: .35em .6em; margin-bottom: .45em; font-size: .92em; }
.ipqa-hit summary { cursor: pointer; }
.ipqa-hit .ipqa-title { font-weight: 500; }
.ipqa-report { width: 100%; border-collapse: collapse; font-size: .9em; margin-top: .4em; }
.ipqa-report th, .ipqa-report td { text-align: left; padding: .3em .5em; border-bottom: 1px solid var(--border-color-primary); vertical-align: top; }
.ipqa-status { font-weight: 600; }
.ipqa-failed .ipqa-status { color: #b91c1c; }
.ipqa-added .ipqa-status, .ipqa-changed .ipqa-status { color: #15803d; }
.ipqa-warning .ipqa-status { color: #b45309; }
#ipqa-examples, #ipqa-actions { gap: .4em; align-items: center; flex-wrap: wrap; }
#ipqa-examples::before { content: "Try"; font-weight: 600; font-size: .85em; color: var(--body-text-color-subdued); margin-right: .2em; }
#ipqa-examples button, #ipqa-actions button { flex: 0 1 auto !important; width: auto !important; font-weight: 400; }
#ipqa-panel-box { position: sticky; top: .5rem; }
.ipqa-docs { width: 100%; border-collapse: collapse; font-size: .9rem; margin: 0 !important; border: none !important; }
.ipqa-docs tr, .ipqa-report tr { border: none !important; }
.ipqa-docs th, .ipqa-docs td, .ipqa-report th, .ipqa-report td { border: none !important; border-bottom: 1px solid var(--border-color-primary) !important; }
.ipqa-docs th { text-align: left; font-size: .78rem; text-transform: uppercase; letter-spacing: .04em; color: var(--body-text-color-subdued);
  padding: .45em .6em; border-bottom: 2px solid var(--border-color-primary); }
.ipqa-docs td { padding: .45em .6em; border-bottom: 1px solid var(--border-color-primary); vertical-align: top; }
.ipqa-docs td:first-child { font-weight: 500; }
.ipqa-docs td:nth-child(2) { font-family: var(--font-mono); font-size: .85em; word-break: break-all; }
.ipqa-docs td:nth-child(5) { text-align: right; }
.ipqa-docs tbody tr:hover { background: var(--background-fill-secondary); }
#ipqa-sources-help p { color: var(--body-text-color-subdued); font-size: .9rem; }
"""

# Citation markers live inside the chatbot, whose sanitizer drops data-* attributes, so turn and
# number travel in the href. One document-level listener turns a click on any marker into this
# panel's `click` event with {turn, n}, and marks the card at once in the browser.
PANEL_JS = """
window.__ipqaSelect = (turn, n) => {
  element.querySelectorAll('.ipqa-card.selected').forEach(c => c.classList.remove('selected'));
  const card = element.querySelector(`[id="ipqa-src-${turn}-${n}"]`);
  if (card) { card.classList.add('selected'); card.scrollIntoView({block: 'nearest', behavior: 'smooth'}); }
  trigger('click', {turn: Number(turn), n: Number(n)});
};
if (!window.__ipqaListening) {
  window.__ipqaListening = true;
  document.addEventListener('click', (event) => {
    const link = event.target.closest ? event.target.closest('a.ipqa-cite') : null;
    const found = link ? /ipqa-src-(\\d+)-(\\d+)/.exec(link.getAttribute('href') || '') : null;
    if (!found) return;
    event.preventDefault();
    event.stopPropagation();
    window.__ipqaSelect(found[1], found[2]);
  }, true);
}
watch('value', () => {
  const card = element.querySelector('.ipqa-card.selected');
  if (card) card.scrollIntoView({block: 'nearest', behavior: 'smooth'});
});
"""

COPY_JS = """
(text) => {
  if (text && navigator.clipboard) { navigator.clipboard.writeText(text); }
  const button = document.querySelector('#ipqa-copy');
  if (button) { const label = button.textContent; button.textContent = text ? 'Copied ✓' : 'Nothing to copy';
    setTimeout(() => { button.textContent = label; }, 1500); }
  return [];
}
"""


def THEME() -> gr.themes.Base:  # noqa: N802 — a factory standing in for a constant
    """Gradio's default theme, with the bundled font's regular and bold faces (its semibold file lacks most glyphs)."""
    font = [gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "ui-sans-serif", "system-ui", "sans-serif"]
    return gr.themes.Default(primary_hue="blue", neutral_hue="slate", font=font)


def build_app(settings: Settings, assistant: Assistant) -> gr.Blocks:
    """The whole UI, constructed but not launched; every handler goes through `assistant`."""
    from .ui_api import add_endpoints
    from .ui_compare import chat_memo, compare_tab

    jurisdictions, docs = filter_choices(assistant)
    examples = example_questions(assistant)
    with gr.Blocks(title="ipqa", analytics_enabled=False, fill_width=True) as demo:
        turns = gr.State([])  # per browser session; never shared
        with gr.Column(elem_id="ipqa-header"):
            gr.Markdown(f"# {TITLE}")
            summary = gr.Markdown(index_summary(assistant), elem_id="ipqa-summary")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=420):
                        chatbot = gr.Chatbot(
                            label="Conversation", elem_id="ipqa-chat", height=540, render_markdown=False, latex_delimiters=[],
                            sanitize_html=True, buttons=[], feedback_options=None, group_consecutive_messages=False,
                            placeholder="Ask about the indexed treaties, statutes, regulations and decisions. Every sentence of an answer is a verbatim quote with a clickable citation.",
                        )
                        with gr.Row():
                            box = gr.Textbox(
                                show_label=False, placeholder="Ask a question — e.g. “What does Article 4 of the WCT protect?”", scale=8,
                                elem_id="ipqa-question", autofocus=True, max_length=settings.max_question_chars,
                            )
                            ask = gr.Button("Ask", variant="primary", scale=1, min_width=90, elem_id="ipqa-ask")
                        with gr.Row(elem_id="ipqa-examples"):
                            example_buttons = [
                                gr.Button(examples[i] if i < len(examples) else "", size="sm", visible=i < len(examples), scale=0, min_width=0,
                                          elem_classes="ipqa-example")
                                for i in range(N_EXAMPLES)
                            ]
                        with gr.Row(elem_id="ipqa-actions"):
                            copy = gr.Button("Copy answer", size="sm", scale=0, min_width=120, elem_id="ipqa-copy")
                            new_chat = gr.Button("New chat", size="sm", scale=0, min_width=100, elem_id="ipqa-new")
                            memo_button = gr.Button("Export memo", size="sm", scale=0, min_width=120, elem_id="ipqa-memo")
                        memo_files = gr.File(label="Memo of the latest answer (Markdown, HTML): `ipqa verify-memo` re-checks it", file_count="multiple",
                                             interactive=False, visible=False, elem_id="ipqa-memo-files")
                        copy_source = gr.Textbox(visible=False)
                        with gr.Accordion("Filters", open=False, elem_id="ipqa-filters"):
                            pick_jurisdictions = gr.CheckboxGroup(jurisdictions, label="Jurisdictions (none ticked = all)", elem_id="ipqa-jurisdictions")
                            pick_docs = gr.Dropdown(docs, multiselect=True, label="Documents (empty = all)", elem_id="ipqa-docs")
                            top_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages retrieved (top-k)", elem_id="ipqa-topk")
                    with gr.Column(scale=2, min_width=360, elem_id="ipqa-panel-box"):
                        panel = gr.HTML(EMPTY_PANEL, js_on_load=PANEL_JS, elem_id="ipqa-panel", max_height=720, padding=True)
            compare = compare_tab(assistant, settings.top_k, docs)  # ui_compare.py
            with gr.Tab("Sources", id="sources"):
                gr.Markdown(
                    "Uploads are copied to the index's own uploads folder and ingested like `ipqa ingest`: unchanged files are skipped, "
                    "changed ones replaced, unreadable ones reported by name.",
                    elem_id="ipqa-sources-help",
                )
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=480):
                        table = gr.HTML(documents_html(documents_table(assistant)), js_on_load=None, elem_id="ipqa-docs-table", max_height=680)
                    with gr.Column(scale=2, min_width=360):
                        uploads = gr.File(
                            # No file_types: Gradio would reject the whole batch for one odd name (".md"); upload_files checks each file.
                            file_count="multiple", elem_id="ipqa-upload", height=150,
                            label=f"Upload documents — PDF, HTML, Markdown or text, up to {settings.max_file_mb} MB each",
                        )
                        ingest_button = gr.Button("Ingest uploaded files", variant="primary", elem_id="ipqa-ingest")
                        status = gr.HTML("", elem_id="ipqa-status", js_on_load=None)
                        with gr.Group():
                            remove_pick = gr.Dropdown([(t, d) for t, d in docs], label="Remove a document from the index", elem_id="ipqa-remove-pick")
                        with gr.Row():
                            remove_button = gr.Button("Remove document", variant="stop", size="sm", elem_id="ipqa-remove")
                            corpus_button = gr.Button("Re-ingest the corpus folder", size="sm", elem_id="ipqa-reingest")

        def _respond(question: str, chat: Chat, state: list[Turn], juris: list[str], doc_ids: list[str], k: float) -> Iterator[tuple[Any, ...]]:
            yield from respond(assistant, question, chat, state, juris, doc_ids, k)

        def _select(state: list[Turn], evt: gr.EventData) -> str:
            data = getattr(evt, "_data", None) or {}
            try:
                return select_citation(state, int(data.get("turn", -1)), int(data.get("n", 0)))
            except (TypeError, ValueError):
                return current_panel(state)

        def _refresh() -> tuple[Any, ...]:
            juris, doc_pairs = filter_choices(assistant)
            questions = example_questions(assistant)
            buttons = [gr.Button(questions[i] if i < len(questions) else "", visible=i < len(questions)) for i in range(N_EXAMPLES)]
            return (
                documents_html(documents_table(assistant)), index_summary(assistant), gr.CheckboxGroup(choices=juris), gr.Dropdown(choices=doc_pairs),
                gr.Dropdown(choices=doc_pairs, value=None), *buttons,
            )

        users = load_users(settings.auth, settings.auth_file)

        def _read_only(request: gr.Request | None) -> bool:
            user = users.get(getattr(request, "username", None) or "")
            return user is not None and user.role == READER

        def _upload(files: list[str] | None, request: gr.Request, progress: gr.Progress = gr.Progress()) -> tuple[str, None]:
            if _read_only(request):
                return notice_html(READ_ONLY_MESSAGE), None
            return upload_files(assistant, files, progress), None

        def _remove(doc_id: str | None, request: gr.Request) -> str:
            if _read_only(request):
                return notice_html(READ_ONLY_MESSAGE)
            return remove_document(assistant, doc_id)

        def _reingest(request: gr.Request, progress: gr.Progress = gr.Progress()) -> str:
            if _read_only(request):
                return notice_html(READ_ONLY_MESSAGE)
            return reingest_corpus(assistant, progress)

        def _working() -> str:  # the results panel never shows the previous upload's results
            return notice_html("Working…")

        chat_inputs = [box, chatbot, turns, pick_jurisdictions, pick_docs, top_k]
        chat_outputs = [chatbot, turns, panel, box, copy_source]
        refreshed = [table, summary, pick_jurisdictions, pick_docs, remove_pick, *example_buttons]
        box.submit(_respond, chat_inputs, chat_outputs, show_progress="hidden", api_visibility="private")
        ask.click(_respond, chat_inputs, chat_outputs, show_progress="hidden", api_visibility="private")
        for button in example_buttons:
            button.click(lambda q: q, button, box, queue=False, api_visibility="private").then(
                _respond, chat_inputs, chat_outputs, show_progress="hidden", api_visibility="private"
            )
        panel.click(_select, [turns], [panel], show_progress="hidden", api_visibility="private")
        new_chat.click(clear_chat, None, chat_outputs, queue=False, api_visibility="private")
        chatbot.clear(clear_chat, None, chat_outputs, queue=False, api_visibility="private")
        copy.click(None, [copy_source], None, js=COPY_JS)
        memo_button.click(lambda state: chat_memo(assistant, state), [turns], [memo_files], api_visibility="private")  # ui_compare.py
        ingest_button.click(_working, None, [status], queue=False, api_visibility="private").then(
            _upload, [uploads], [status, uploads], api_visibility="private"
        ).then(_refresh, None, refreshed, show_progress="hidden", api_visibility="private")
        remove_button.click(_remove, [remove_pick], [status], api_visibility="private").then(_refresh, None, refreshed, show_progress="hidden", api_visibility="private")
        corpus_button.click(_reingest, None, [status], api_visibility="private").then(_refresh, None, refreshed, show_progress="hidden", api_visibility="private")
        demo.load(_refresh, None, refreshed, show_progress="hidden", api_visibility="private")
        demo.load(lambda: gr.Dropdown(choices=filter_choices(assistant)[1]), None, compare["docs"], show_progress="hidden", api_visibility="private")
        add_endpoints(assistant)  # /ask, /compare, /sources for gradio_client (ui_api.py)
    return demo


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the app on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_warning(settings: Settings) -> str | None:
    """What to tell the user when the app is reachable from other machines without a password."""
    if is_loopback(settings.host) or load_users(settings.auth, settings.auth_file):
        return None
    return (
        f"Warning: serving on {settings.host} without a password — anyone who can reach this machine can read the chat and "
        "change the index. Set IPQA_AUTH=user:password (or bind 127.0.0.1)."
    )


def check_exposure(settings: Settings, *, no_auth: bool = False) -> None:
    """Refuse to serve a non-loopback address without authentication, unless `--no-auth` says so explicitly."""
    if no_auth or exposure_warning(settings) is None:
        return
    raise ConfigError(
        f"Refusing to serve on {settings.host} without authentication: anyone who can reach this machine could read the chat and "
        "change the index. Set IPQA_AUTH_FILE (lines made by `ipqa hash-password`) or IPQA_AUTH=user:password, bind 127.0.0.1, "
        "or pass --no-auth to serve it open anyway."
    )


def launch_options(settings: Settings, assistant: Assistant) -> dict[str, Any]:
    """Keyword arguments for `Blocks.launch`: local bind, optional auth (users, throttled logins, every route gated), no share link, our styling."""
    users = load_users(settings.auth, settings.auth_file)
    options: dict[str, Any] = {
        "server_name": settings.host,
        "server_port": settings.port,
        "auth": (lambda name, password: name in users and users[name].check(password)) if users else None,
        "share": False,
        "ssr_mode": False,
        "mcp_server": False,
        "pwa": False,
        "inbrowser": False,
        "enable_monitoring": False,
        "allowed_paths": [],  # documents are served by ipqa's own route (DOCUMENT_ROUTE), by key, never by path
        "max_file_size": f"{settings.max_file_mb}mb",
        "footer_links": [],
        "css": CSS,
        "theme": THEME(),
    }
    options["app_kwargs"] = {"routes": [document_route(assistant)]}
    if users:
        from starlette.middleware import Middleware

        options["app_kwargs"]["middleware"] = [Middleware(AuthGate, throttle=LoginThrottle())]
    return options


def launch(settings: Settings, assistant: Assistant | None = None, *, no_auth: bool = False, **overrides: Any) -> None:
    """Serve the chat (blocks until interrupted); refuses a public interface without a password unless `no_auth`."""
    check_exposure(settings, no_auth=no_auth)
    assistant = assistant or Assistant(settings)
    options = launch_options(settings, assistant) | overrides
    warning = exposure_warning(settings)
    if warning:
        print(warning, file=sys.stderr)

    def warm_up() -> None:  # load the model and the index while the page opens, not on the first question
        try:
            assistant.warm()
        except IpqaError:
            pass

    threading.Thread(target=warm_up, daemon=True).start()
    assistant.keep_current(int(options.get("server_port") or settings.port))  # notices `ipqa ingest` run by other processes
    build_app(settings, assistant).queue(default_concurrency_limit=4).launch(**options)
