"""Memos: an answer or a comparison as Markdown or HTML that anyone can re-verify against the cited files later.

A memo shows the question, the answer and every quote with its document, provision, page, official URL, SHA-256 and
character offsets; it also carries the same data as a JSON record, which `verify_memo` reads back."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .answerlog import answer_record
from .compare import Comparison
from .errors import DocumentError, IpqaError
from .settings import Settings
from .store import Store
from .types import Answer

MEMO_VERSION = 1
RECORD_TAG = "ipqa-memo-record"
_RECORD = re.compile(r"<!-- " + RECORD_TAG + r"\n(.*?)\n-->|<script type=\"application/json\" id=\"" + RECORD_TAG + r"\">(.*?)</script>", re.S)

# Verification outcomes, quote by quote.
VERBATIM = "verbatim"  # at the recorded offsets
MOVED = "moved"  # still in the file verbatim, at other offsets
MISSING = "missing"  # no longer in the file
NO_FILE = "no-file"  # the cited file cannot be read
EDITED = "edited"  # the memo's visible quote no longer matches its record
PASSING = (VERBATIM, MOVED)


class MemoError(IpqaError):
    """A file that is not a readable ipqa memo."""


def _answer_part(answer: Answer, store: Store, settings: Settings, label: str = "", text: str | None = None) -> dict[str, Any]:
    """The answer log's record of one answer, plus the path of each cited file (to re-read it) and the group label."""
    record = answer_record(answer, store, settings)
    for c in record["citations"]:
        doc = store.doc(c["doc_id"])
        c["path"] = doc.path if doc else ""
    return record | {"label": label, "text": answer.text if text is None else text}


def memo_record(result: Answer | Comparison, store: Store, settings: Settings, *, now: datetime | None = None) -> dict[str, Any]:
    """What a memo states, as data: question, answer(s) as answer-log records (every quote with document SHA-256 and
    offsets), the date and the index fingerprint."""
    if isinstance(result, Comparison):
        answers = [_answer_part(g.answer, store, settings, g.label, g.text) for g in result.groups]
        by = result.by
    else:
        answers, by = [_answer_part(result, store, settings)], ""
    return {
        "ipqa_memo": MEMO_VERSION, "question": result.question, "compared_by": by,
        "created": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "index_fingerprint": store.fingerprint(), "answers": answers,
    }


def _record_json(record: dict[str, Any]) -> str:
    # Inside an HTML comment or <script>, "<", ">" and "&" are escaped (JSON \u escapes) so nothing can close the block.
    text = json.dumps(record, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _where(q: dict[str, Any]) -> str:
    return q["section"] + (f", p. {q['page']}" if q.get("page") else "")


def to_markdown(record: dict[str, Any]) -> str:
    """The memo as Markdown (the record rides along in an HTML comment at the end)."""
    out = [f"# {_one_line(record['question'])}", "", f"*ipqa memo — {record['created']} — index {record['index_fingerprint']}*", ""]
    for part in record["answers"]:
        if part["label"]:
            out += [f"## {part['label']}", ""]
        out += [part["text"], ""]
        if part["notice"]:
            out += [f"*Note: {_one_line(part['notice'])}*", ""]
        for q in part["citations"]:
            out += [
                f"**[{q['n']}] {_one_line(q['title'])} — {_one_line(_where(q))}**", "",
                f"> {_one_line(q['quote'])}", "",
                f"- Official URL: {q['url'] or '(none in the catalog)'}",
                f"- File: `{q['path']}`",
                f"- SHA-256: `{q['sha256']}`",
                f"- Characters {q['start']}–{q['end']} of the extracted text",
                "",
            ]
    out += [f"<!-- {RECORD_TAG}", _record_json(record), "-->", ""]
    return "\n".join(out)


def to_html(record: dict[str, Any]) -> str:
    """The memo as a standalone HTML page (the record rides along as JSON)."""
    e = html.escape
    body = [f"<h1>{e(record['question'])}</h1>",
            f'<p class="meta">ipqa memo — {e(record["created"])} — index <code>{e(record["index_fingerprint"])}</code></p>']
    for part in record["answers"]:
        if part["label"]:
            body.append(f"<h2>{e(part['label'])}</h2>")
        body.append("".join(f"<p>{e(p)}</p>" for p in part["text"].split("\n\n")))
        if part["notice"]:
            body.append(f'<p class="note">Note: {e(part["notice"])}</p>')
        for q in part["citations"]:
            url = q["url"] or ""
            link = f'<a href="{e(url)}">{e(url)}</a>' if url.startswith(("http://", "https://")) else "(none in the catalog)"
            body.append(
                f'<div class="quote"><h3>[{q["n"]}] {e(q["title"])} — {e(_where(q))}</h3>'
                f"<blockquote>{e(_one_line(q['quote']))}</blockquote><ul>"
                f"<li>Official URL: {link}</li><li>File: <code>{e(q['path'])}</code></li>"
                f"<li>SHA-256: <code>{e(q['sha256'])}</code></li>"
                f"<li>Characters {q['start']}–{q['end']} of the extracted text</li></ul></div>"
            )
    style = ("body{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.45}blockquote{border-left:3px solid #888;"
             "margin:.5em 0;padding:.2em 1em;background:#f6f6f6}.meta,.note{color:#555}code{word-break:break-all}")
    return (
        f'<!doctype html>\n<html><head><meta charset="utf-8"><title>{e(record["question"])}</title><style>{style}</style></head>'
        f"<body>{''.join(body)}\n"
        f'<script type="application/json" id="{RECORD_TAG}">\n{_record_json(record)}\n</script>\n</body></html>\n'
    )


def write_memo(record: dict[str, Any], path: Path) -> Path:
    """Write Markdown, or HTML when the file name ends in .html/.htm."""
    text = to_html(record) if path.suffix.lower() in (".html", ".htm") else to_markdown(record)
    path.write_text(text, encoding="utf-8")
    return path


def read_memo(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The record of a memo file, and the quotes its readable part shows (in order)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MemoError(f"{path}: cannot read the memo ({getattr(exc, 'strerror', None) or exc}).") from None
    found = _RECORD.search(text)
    if not found:
        raise MemoError(f"{path}: no ipqa memo record in this file — write one with `ipqa ask --memo FILE`.")
    try:
        record = json.loads(found[1] or found[2])
    except json.JSONDecodeError as exc:
        raise MemoError(f"{path}: the memo record is damaged ({exc.msg} at line {exc.lineno}).") from None
    if not isinstance(record, dict) or record.get("ipqa_memo") != MEMO_VERSION or not isinstance(record.get("answers"), list):
        raise MemoError(f"{path}: not an ipqa memo record of version {MEMO_VERSION}.")
    visible = text[: found.start()]
    if found[2] is not None:
        shown = [html.unescape(q) for q in re.findall(r"<blockquote>(.*?)</blockquote>", visible, re.S)]
    else:
        shown = re.findall(r"^> (.*)$", visible, re.M)
    return record, shown


@dataclass(frozen=True)
class QuoteCheck:
    """How one quote of a memo stands against its file today."""

    label: str
    n: int
    doc_id: str
    provision: str
    path: str
    status: str
    detail: str

    @property
    def passed(self) -> bool:
        """Whether the quote is still in its file verbatim (and shown as recorded)."""
        return self.status in PASSING


def _squash(text: str) -> str:
    return " ".join(text.split())


def verify_memo(path: Path) -> list[QuoteCheck]:
    """Re-read every cited file and check, quote by quote, that the quote is still there verbatim."""
    from .ingest import sha256_of
    from .loaders import load

    record, shown = read_memo(path)
    position = 0
    texts: dict[str, str | Exception] = {}
    checks = []
    for part in record["answers"]:
        for q in part.get("citations", []):
            try:
                label, n, doc_id, provision, file = part.get("label", ""), int(q["n"]), q["doc_id"], q["section"], q["path"]
                quote, start, end, sha = q["quote"], int(q["start"]), int(q["end"]), q.get("sha256") or ""
            except (KeyError, TypeError, ValueError) as exc:
                raise MemoError(f"{path}: a quote in the memo record lacks a field ({exc}).") from None
            if file not in texts:
                try:
                    texts[file] = load(Path(file)).text
                except (DocumentError, OSError) as exc:
                    texts[file] = exc
            text = texts[file]
            position += 1
            if position > len(shown) or _squash(shown[position - 1]) != _squash(quote):
                status, detail = EDITED, "the quote shown in the memo differs from the memo's record"
            elif isinstance(text, Exception):
                status, detail = NO_FILE, f"cannot read the cited file ({text})"
            elif text[start:end] == quote:
                status, detail = VERBATIM, f"characters {start}–{end}"
            elif quote in text:
                moved = text.find(quote)
                status, detail = MOVED, f"verbatim at characters {moved}–{moved + len(quote)} (recorded {start}–{end})"
            elif _squash(quote) in _squash(text):
                status, detail = MOVED, "verbatim apart from whitespace"
            else:
                status, detail = MISSING, f"not in the file any more (recorded at characters {start}–{end})"
            if status in PASSING and sha and Path(file).is_file() and sha256_of(Path(file)) != sha:
                detail += "; the file changed since the memo (SHA-256 differs)"
            checks.append(QuoteCheck(label, n, doc_id, provision, file, status, detail))
    return checks

