"""The library API used by the CLI, the web UI and the eval runner: one object, model loaded once."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import answerlog, generate
from .answer import answer
from .compare import Comparison, answer_column, compare
from .embedding import Embedder
from .errors import IpqaError, NoIndexError, QuestionTooLongError, UnknownDocumentError
from .llm import EXTRACTIVE, ChatModel, LlmNotConfigured, check_engine, make_llm
from .renditions import with_counterparts
from .retrieve import Filters, retrieve
from .settings import Settings
from .store import DocRecord, Store
from .types import Answer, Passage

if TYPE_CHECKING:  # ingest pulls in the document parsers (bs4, pypdf): not needed to answer a question
    from .ingest import IngestReport


class Assistant:
    """Ask, ingest, list and remove documents over one index."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, engine: str | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or Embedder(settings)
        self.engine = self._engine(engine)
        self._store: Store | None = None
        self._write_lock = threading.Lock()
        self._models: dict[str, ChatModel | None] = {}

    def _engine(self, engine: str | None) -> str:
        """The engine to use: the argument, else this assistant's, else `IPQA_LLM` (checked against llm.ENGINES)."""
        return check_engine(engine or getattr(self, "engine", None) or self.settings.llm)

    def _model(self, engine: str) -> ChatModel | None:
        """The engine's chat model, made once (None when its server is not configured)."""
        if engine not in self._models:
            try:
                self._models[engine] = make_llm(engine, self.settings)
            except LlmNotConfigured:
                self._models[engine] = None
        return self._models[engine]

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

    def keep_current(self, port: int, every: float = 2.0) -> threading.Thread:
        """For a server: every few seconds catch up with ingests by other processes (reopen the vector store, reload BM25)
        and record the generation served, so `ipqa doctor` can tell a server that fell behind."""

        def loop() -> None:
            while True:
                try:
                    store = self.store
                    store.refresh()
                    store.record_server(port)
                except IpqaError:
                    pass  # no index yet: nothing to keep current
                except Exception as exc:  # a background check must never end the server; say it once per failure
                    print(f"ipqa: index check failed ({type(exc).__name__}: {exc})", file=sys.stderr)
                time.sleep(every)

        thread = threading.Thread(target=loop, name="ipqa-keep-current", daemon=True)
        thread.start()
        return thread

    def has_index(self) -> bool:
        """Whether anything was ingested yet."""
        try:
            return bool(self.store.docs())
        except NoIndexError:
            return False

    def warm(self) -> None:
        """Load the model and read the index (vectors, BM25) now, so the first question does not wait for them."""
        if self.has_index():
            retrieve("warm up", store=self.store, embedder=self.embedder, settings=self.settings, top_k=1)  # embeds, queries both indexes
        else:
            self.embedder.embed_query("warm up")

    def check_question(self, question: str) -> None:
        """Refuse a question over IPQA_MAX_QUESTION_CHARS before any work is done for it."""
        if len(question) > self.settings.max_question_chars:
            raise QuestionTooLongError(len(question), self.settings.max_question_chars)

    def ask(
        self,
        question: str,
        *,
        history: Sequence[tuple[str, str]] = (),
        jurisdictions: Sequence[str] = (),
        doc_ids: Sequence[str] = (),
        top_k: int | None = None,
        engine: str | None = None,
    ) -> Answer:
        """Answer a question with citations (or abstain); `engine` overrides this assistant's engine. Logged (see `answerlog`)."""
        return self.ask_with_record(question, history=history, jurisdictions=jurisdictions, doc_ids=doc_ids, top_k=top_k, engine=engine)[0]

    def ask_with_record(
        self,
        question: str,
        *,
        history: Sequence[tuple[str, str]] = (),
        jurisdictions: Sequence[str] = (),
        doc_ids: Sequence[str] = (),
        top_k: int | None = None,
        engine: str | None = None,
    ) -> tuple[Answer, dict[str, Any]]:
        """`ask`, plus the answer-log record it appended (`ipqa ask --json` prints that record)."""
        self.check_question(question)
        filters = Filters(tuple(jurisdictions), tuple(doc_ids))
        engine = self._engine(engine)
        if engine == EXTRACTIVE:
            result = answer(question, store=self.store, embedder=self.embedder, settings=self.settings, history=history, filters=filters, top_k=top_k)
        else:
            llm = self._model(engine)  # first: a missing optional dependency is reported before any work
            result = generate.answer(
                question, store=self.store, embedder=self.embedder, settings=self.settings, llm=llm, engine=engine,
                history=history, filters=filters, top_k=top_k,
            )
        # Beside an article of a bilingual act, the same article of its other rendition (translation marked as such).
        result = with_counterparts(result, self.store)
        return result, self.log(result)

    def log(self, result: Answer) -> dict[str, Any]:
        """Append an answer to the answer log (unless IPQA_ANSWER_LOG=false); returns its record."""
        record = answerlog.answer_record(result, self.store, self.settings)
        answerlog.append(record, self.settings)
        return record

    def stream(
        self,
        question: str,
        *,
        history: Sequence[tuple[str, str]] = (),
        jurisdictions: Sequence[str] = (),
        doc_ids: Sequence[str] = (),
        top_k: int | None = None,
        engine: str | None = None,
    ) -> Iterator[tuple[str, Answer | None]]:
        """Yield the answer text as it grows, then (full text, Answer) last; the Answer's text replaces what streamed."""
        self.check_question(question)
        engine = self._engine(engine)
        if engine != EXTRACTIVE:
            filters = Filters(tuple(jurisdictions), tuple(doc_ids))
            for text, final in generate.stream(
                question, store=self.store, embedder=self.embedder, settings=self.settings, llm=self._model(engine), engine=engine,
                history=history, filters=filters, top_k=top_k,
            ):
                if final is not None:
                    self.log(final)
                yield text, final
            return
        result = self.ask(question, history=history, jurisdictions=jurisdictions, doc_ids=doc_ids, top_k=top_k, engine=engine)
        words = result.text.split(" ")
        for i in range(8, len(words), 8):
            yield " ".join(words[:i]), None
        yield result.text, result

    def compare(
        self,
        question: str,
        *,
        by: str | None = None,
        documents: Sequence[str] = (),
        jurisdictions: Sequence[str] = (),
        top_k: int | None = None,
        engine: str | None = None,
    ) -> Comparison:
        """Answer once per jurisdiction (default) or per given document, each group with its own retrieval and checks."""
        infos = {r.doc_id: r.info for r in self.sources()}
        return compare(question, ask=self._column, infos=infos, by=by, documents=documents, jurisdictions=jurisdictions, top_k=top_k, engine=engine)

    def _column(
        self, question: str, *, jurisdictions: Sequence[str] = (), doc_ids: Sequence[str] = (), top_k: int | None = None, engine: str | None = None
    ) -> Answer:
        """One column of a comparison: with the extractive engine, each of the group's best documents quoted, primary law
        first (compare.answer_column); a generative engine answers the group as `ask` does. Logged like `ask`."""
        self.check_question(question)
        if self._engine(engine) != EXTRACTIVE:
            return self.ask(question, jurisdictions=jurisdictions, doc_ids=doc_ids, top_k=top_k, engine=engine)
        filters = Filters(tuple(jurisdictions), tuple(doc_ids))
        result = answer_column(question, store=self.store, embedder=self.embedder, settings=self.settings, filters=filters, top_k=top_k)
        result = with_counterparts(result, self.store)
        self.log(result)
        return result

    def memo(self, result: Answer | Comparison) -> dict[str, Any]:
        """The memo record of an answer or comparison (see memo.py): every quote with file, SHA-256 and offsets."""
        from .memo import memo_record

        return memo_record(result, self.store, self.settings)

    def ingest(self, paths: Sequence[Path], *, prune: bool = True, progress: bool = False) -> IngestReport:
        """Bring the index in line with these files/folders."""
        from .ingest import ingest

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
