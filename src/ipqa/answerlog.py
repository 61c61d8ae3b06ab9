"""The answer log: one JSON record per answer (what was asked, what answered it, exactly which text it rests on)."""

from __future__ import annotations

import fcntl
import json
import threading
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from . import __version__
from .catalog import is_upload
from .settings import Settings
from .store import Store
from .types import Answer

RECORD_FORMAT = 1
_lock = threading.Lock()


def answer_record(answer: Answer, store: Store, settings: Settings) -> dict[str, Any]:
    """The record of one answer: time, question, engine, kind, each cited passage (document id and SHA-256, offsets,
    quote), the ipqa version and the index fingerprint. `ipqa ask --json` prints it; the answer log stores it."""
    docs = {d.doc_id: d for d in store.docs()}
    citations = []
    for c in answer.citations:
        doc = docs.get(c.doc_id)
        citations.append({
            "n": c.n,
            "doc_id": c.doc_id,
            "uploaded": is_upload(c.doc_id),
            "sha256": doc.sha256 if doc else None,
            "title": c.title,
            "work_id": c.work_id,
            "jurisdiction": c.jurisdiction,
            "url": c.url,
            "passage_id": c.passage_id,
            "section": c.section,
            "page": c.page,
            "start": c.doc_start,
            "end": c.doc_end,
            "quote": c.quote,
            "counterpart": asdict(c.counterpart) if c.counterpart else None,  # the same article in the work's other language
        })
    return {
        "record_format": RECORD_FORMAT,
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "question": answer.question,
        "engine": answer.engine,
        "kind": answer.kind,
        "reason": answer.reason,
        "answered": answer.answered,
        "text": answer.text,
        "notice": answer.notice,
        "flags": list(answer.flags),
        "citations": citations,
        **{k: v for k, v in answer.to_dict().items() if k in ("hits", "markers")},  # markers: where ipqa's own [n] are in `text`
        "ipqa_version": __version__,
        "index_fingerprint": store.fingerprint(),
        "index_generation": store.generation(),
    }


def append(record: dict[str, Any], settings: Settings) -> None:
    """Add a record to `<data_dir>/answers.jsonl` (one line, written whole; other processes append under a file lock)."""
    if not settings.answer_log:
        return
    path = settings.answer_log_path
    line = json.dumps(record, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, open(path, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.write(line)
            handle.flush()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read(settings: Settings) -> list[dict[str, Any]]:
    """Every record of the answer log, oldest first (empty when there is none)."""
    path = settings.answer_log_path
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
