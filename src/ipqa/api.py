"""The library API used by the CLI, the web UI and the eval runner: one object, model loaded once."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path

from .answer import answer
from .embedding import Embedder
from .errors import NoIndexError, UnknownDocumentError
from .ingest import IngestReport, ingest
from .retrieve import Filters
from .settings import Settings
from .store import DocRecord, Store
from .types import Answer, Passage


class Assistant:
    """Ask, ingest, list and remove documents over one index."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or Embedder(settings)
        self._store: Store | None = None
        self._write_lock = threading.Lock()

    @property
    def store(self) -> Store:
        """The index (raises `NoIndexError` until something was ingested)."""
        if self._store is None:
            self._store = Store(self.settings)
        return self._store

    @cached_property
    def _writable_store(self) -> Store:
        if self._store is None:
            self._store = Store(self.settings, create=True)
        return self._store

    def has_index(self) -> bool:
        """Whether anything was ingested yet."""
        try:
            return bool(self.store.docs())
        except NoIndexError:
            return False

    def ask(
        self,
        question: str,
        *,
        history: Sequence[tuple[str, str]] = (),
        jurisdictions: Sequence[str] = (),
        doc_ids: Sequence[str] = (),
        top_k: int | None = None,
    ) -> Answer:
        """Answer a question with citations (or abstain)."""
        filters = Filters(tuple(jurisdictions), tuple(doc_ids))
        return answer(question, store=self.store, embedder=self.embedder, settings=self.settings, history=history, filters=filters, top_k=top_k)

    def stream(
        self,
        question: str,
        *,
        history: Sequence[tuple[str, str]] = (),
        jurisdictions: Sequence[str] = (),
        doc_ids: Sequence[str] = (),
        top_k: int | None = None,
    ) -> Iterator[tuple[str, Answer | None]]:
        """Yield the answer text as it grows, then (full text, Answer) last."""
        result = self.ask(question, history=history, jurisdictions=jurisdictions, doc_ids=doc_ids, top_k=top_k)
        words = result.text.split(" ")
        for i in range(8, len(words), 8):
            yield " ".join(words[:i]), None
        yield result.text, result

    def ingest(self, paths: Sequence[Path], *, prune: bool = True, progress: bool = False) -> IngestReport:
        """Bring the index in line with these files/folders."""
        with self._write_lock:
            return ingest(paths, self.settings, embedder=self.embedder, store=self._writable_store, prune=prune, progress=progress)

    def sources(self) -> list[DocRecord]:
        """Indexed documents."""
        return self.store.docs()

    def passages(self, doc_id: str) -> list[Passage]:
        """A document's passages in order."""
        if self.store.doc(doc_id) is None:
            raise UnknownDocumentError(f"No document '{doc_id}' in the index — see `ipqa sources`.")
        return self.store.doc_passages(doc_id)

    def remove(self, doc_id: str) -> int:
        """Remove a document; returns how many passages went with it."""
        store = self.store
        if store.doc(doc_id) is None:
            raise UnknownDocumentError(f"No document '{doc_id}' in the index — see `ipqa sources`.")
        with self._write_lock, store.lock():
            removed = store.remove_doc(doc_id)
            store.rebuild_bm25()
        return removed
