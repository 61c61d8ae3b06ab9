"""Named API endpoints of `ipqa serve` (`/ask`, `/compare`, `/sources`) for scripts and notebooks via `gradio_client`.

They are registered on the same Blocks as the page, so the page's authentication covers them too."""

from __future__ import annotations

from typing import Any

import gradio as gr

from .api import Assistant
from .errors import IpqaError


def _list(values: list[str] | str | None) -> list[str]:
    """A list argument as given by a client: a list, one string, or nothing."""
    if not values:
        return []
    return [values] if isinstance(values, str) else [str(v) for v in values]


def add_endpoints(assistant: Assistant) -> None:
    """Register the endpoints (call inside the `gr.Blocks` context)."""

    def ask(
        question: str, jurisdictions: list[str] | None = None, documents: list[str] | None = None, top_k: int | None = None, engine: str | None = None
    ) -> dict[str, Any]:
        """Answer a question with citations; returns the answer record (as `ipqa ask --json`)."""
        try:
            _, record = assistant.ask_with_record(
                question, jurisdictions=_list(jurisdictions), doc_ids=_list(documents), top_k=int(top_k) if top_k else None, engine=engine or None
            )
        except IpqaError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return record

    def compare(
        question: str, by: str | None = None, jurisdictions: list[str] | None = None, documents: list[str] | None = None,
        top_k: int | None = None, engine: str | None = None,
    ) -> dict[str, Any]:
        """Answer per jurisdiction (or per document); each group with its label, its text and its answer record."""
        try:
            result = assistant.compare(
                question, by=by or None, jurisdictions=_list(jurisdictions), documents=_list(documents), top_k=int(top_k) if top_k else None,
                engine=engine or None,
            )
            records = assistant.memo(result)["answers"]  # each group's answer-log record (plus the cited file's path)
            groups = [
                {"label": g.label, "jurisdictions": list(g.group.jurisdictions), "doc_ids": list(g.group.doc_ids), "answered": g.answered,
                 "text": g.text, "record": record}
                for g, record in zip(result.groups, records, strict=True)
            ]
        except IpqaError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return {"question": result.question, "by": result.by, "groups": groups}

    def sources() -> list[dict[str, Any]]:
        """The indexed documents (as `ipqa sources --json`)."""
        try:
            docs = assistant.sources()
        except IpqaError:
            return []
        return [d.to_dict(path=False) for d in docs]  # as `ipqa sources --json`, without server paths

    gr.api(ask, api_name="ask")
    gr.api(compare, api_name="compare")
    gr.api(sources, api_name="sources")
