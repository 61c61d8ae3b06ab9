"""The index: vectors in Chroma (through LlamaIndex), bookkeeping and passage text in SQLite, BM25 on disk."""

from __future__ import annotations

import fcntl
import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .errors import ConfigError, IngestLockedError, NoIndexError
from .lexical import Bm25Index
from .settings import Settings
from .types import Passage, SourceInfo

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    doc_id TEXT PRIMARY KEY, path TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER, file_type TEXT,
    info TEXT NOT NULL, n_passages INTEGER NOT NULL, ingested_at REAL NOT NULL, warnings TEXT
);
CREATE TABLE IF NOT EXISTS passages (
    passage_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, seq INTEGER NOT NULL, text TEXT NOT NULL,
    section TEXT, start INTEGER, end INTEGER, page INTEGER, heading TEXT, meta TEXT, text_sha TEXT
);
CREATE INDEX IF NOT EXISTS passages_doc ON passages(doc_id, seq);
CREATE TABLE IF NOT EXISTS pending (doc_id TEXT PRIMARY KEY, since REAL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_DOC_COLUMNS = "doc_id, path, sha256, size, file_type, info, n_passages, ingested_at, warnings, pipeline"
# Every write transaction bumps the index generation: readers in other processes compare it to notice a change.
_BUMP = "INSERT INTO meta VALUES ('generation', '1') ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"


@dataclass(frozen=True)
class DocRecord:
    """What the index knows of one ingested document."""

    doc_id: str
    path: str
    sha256: str
    size: int
    file_type: str
    info: SourceInfo
    n_passages: int
    ingested_at: float
    warnings: tuple[str, ...]
    pipeline: str = ""  # versions.pipeline() of the code that made the passages ("" before versions were recorded)


class Store:
    """One index directory: `state.sqlite`, `chroma/` (or a Chroma server), `bm25/`."""

    def __init__(self, settings: Settings, *, create: bool = False) -> None:
        self.settings = settings
        self.dir = settings.index_dir
        self.db_path = self.dir / "state.sqlite"
        if not self.db_path.exists():
            if not create:
                raise NoIndexError(str(settings.data_dir))
            self.dir.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.db_path, timeout=30, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_SCHEMA)
        if "pipeline" not in {row[1] for row in self.db.execute("PRAGMA table_info(docs)")}:
            with self.db:
                self.db.execute("ALTER TABLE docs ADD COLUMN pipeline TEXT")
        self._bm25: Bm25Index | None = None
        self._bm25_mtime = 0.0
        self._docs: tuple[tuple[int, int], list[DocRecord]] | None = None

    # -- Chroma -------------------------------------------------------------------------
    @cached_property
    def collection(self):  # type: ignore[no-untyped-def]
        """The Chroma collection named after the model and chunking settings."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if self.settings.chroma_url:
            from urllib.parse import urlparse

            url = urlparse(self.settings.chroma_url)
            if not url.hostname:
                raise ConfigError(f"IPQA_CHROMA_URL '{self.settings.chroma_url}' is not a URL like http://127.0.0.1:8000")
            try:
                client = chromadb.HttpClient(host=url.hostname, port=url.port or 8000, ssl=url.scheme == "https", settings=chroma_settings)
                client.heartbeat()
            except Exception as exc:  # chromadb raises many kinds on connection failure
                raise ConfigError(f"Cannot reach the Chroma server at {self.settings.chroma_url} ({type(exc).__name__}).") from None
        else:
            client = chromadb.PersistentClient(path=str(self.dir / "chroma"), settings=chroma_settings)
        return client.get_or_create_collection(self.settings.index_name, metadata={"hnsw:space": "cosine"})

    @cached_property
    def vector_store(self):  # type: ignore[no-untyped-def]
        """LlamaIndex's view of the collection."""
        from llama_index.vector_stores.chroma import ChromaVectorStore

        return ChromaVectorStore(chroma_collection=self.collection)

    # -- bookkeeping --------------------------------------------------------------------
    @contextmanager
    def lock(self) -> Iterator[None]:
        """Serialise writers across processes; a second ingest is told, not corrupted."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / "ingest.lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise IngestLockedError(f"Another ingest is running on {self.dir} — wait for it to finish and try again.") from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def docs(self) -> list[DocRecord]:
        """Every ingested document (parsed again only after the database changed)."""
        # data_version moves when another connection commits, total_changes when this one writes.
        stamp = (self.db.execute("PRAGMA data_version").fetchone()[0], self.db.total_changes)
        cached = self._docs
        if cached is None or cached[0] != stamp:
            rows = self.db.execute(f"SELECT {_DOC_COLUMNS} FROM docs ORDER BY doc_id")
            cached = self._docs = (stamp, [_doc(row) for row in rows])
        return list(cached[1])

    def doc(self, doc_id: str) -> DocRecord | None:
        """One document's record."""
        row = self.db.execute(
            f"SELECT {_DOC_COLUMNS} FROM docs WHERE doc_id=?", (doc_id,)
        ).fetchone()
        return _doc(row) if row else None

    def generation(self) -> int:
        """The index generation: bumped by every write (from any process)."""
        row = self.db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    def fingerprint(self) -> str:
        """What made this index: model and chunking (the index name) and the pipeline versions of its passages."""
        from . import versions

        stored = {d.pipeline or "unrecorded" for d in self.docs()}
        return versions.fingerprint(self.settings.index_name, stored or None)

    def passage_count(self) -> int:
        """Passages in the bookkeeping."""
        return self.db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]

    def passage_ids(self, doc_ids: Sequence[str]) -> list[str]:
        """Ids of these documents' passages in the bookkeeping."""
        marks = ",".join("?" * len(doc_ids))
        return [r[0] for r in self.db.execute(f"SELECT passage_id FROM passages WHERE doc_id IN ({marks})", list(doc_ids))]

    def passages(self, ids: Sequence[str]) -> dict[str, Passage]:
        """Passages by id."""
        out: dict[str, Passage] = {}
        for i in range(0, len(ids), 500):
            part = list(ids[i : i + 500])
            marks = ",".join("?" * len(part))
            for row in self.db.execute(
                f"SELECT passage_id, doc_id, text, section, start, end, page, heading, meta FROM passages WHERE passage_id IN ({marks})", part
            ):
                out[row[0]] = Passage(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7] or "", json.loads(row[8] or "{}"))
        return out

    def doc_passages(self, doc_id: str) -> list[Passage]:
        """A document's passages in order."""
        ids = [r[0] for r in self.db.execute("SELECT passage_id FROM passages WHERE doc_id=? ORDER BY seq", (doc_id,))]
        found = self.passages(ids)
        return [found[i] for i in ids]

    def adjacent(self, passage_id: str, step: int) -> Passage | None:
        """The passage `step` places after (negative: before) this one in its document, if any."""
        row = self.db.execute(
            "SELECT b.passage_id FROM passages a JOIN passages b ON b.doc_id = a.doc_id AND b.seq = a.seq + ? WHERE a.passage_id = ?",
            (step, passage_id),
        ).fetchone()
        return self.passages([row[0]]).get(row[0]) if row else None

    def old_vectors(self, doc_id: str) -> dict[str, list[float]]:
        """Vectors already stored for a document, keyed by the hash of their embedded text."""
        got = self.collection.get(where={"document_id": doc_id}, include=["embeddings", "metadatas"])
        out = {}
        for meta, vec in zip(got["metadatas"] or [], got["embeddings"] if got["embeddings"] is not None else []):
            if meta and meta.get("embed_sha"):
                out[meta["embed_sha"]] = list(vec)
        return out

    def mark_pending(self, doc_id: str) -> None:
        """Record that the vector store is about to change for this document."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO pending VALUES (?, ?)", (doc_id, time.time()))
            self.db.execute(_BUMP)

    def recover(self) -> list[str]:
        """Undo half-finished writes of a crashed ingest: those documents are dropped and re-ingested."""
        pending = [r[0] for r in self.db.execute("SELECT doc_id FROM pending")]
        for doc_id in pending:
            self._drop(doc_id)
        return pending

    def _drop(self, doc_id: str) -> None:
        """Delete a pending document's vectors, then its bookkeeping and the pending mark in one transaction."""
        self.vector_store.delete(ref_doc_id=doc_id)
        with self.db:
            self.db.execute("DELETE FROM passages WHERE doc_id=?", (doc_id,))
            self.db.execute("DELETE FROM docs WHERE doc_id=?", (doc_id,))
            self.db.execute("DELETE FROM pending WHERE doc_id=?", (doc_id,))
            self.db.execute(_BUMP)

    def write_doc(self, record: DocRecord, passages: Sequence[Passage], nodes: Sequence[Any]) -> None:
        """Replace a document: vectors first, then bookkeeping in one transaction."""
        self.write_docs([(record, passages, nodes)])

    def write_docs(self, items: Sequence[tuple[DocRecord, Sequence[Passage], Sequence[Any]]]) -> None:
        """Replace several documents: mark them pending, write vectors, then all bookkeeping in one transaction."""
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO pending VALUES (?, ?)", [(r.doc_id, time.time()) for r, _, _ in items])
            self.db.execute(_BUMP)
        for record, _, _ in items:
            self.vector_store.delete(ref_doc_id=record.doc_id)
        nodes = [node for _, _, doc_nodes in items for node in doc_nodes]
        for i in range(0, len(nodes), 1000):
            self.vector_store.add(nodes[i : i + 1000])
        with self.db:
            for record, passages, _ in items:
                self.db.execute("DELETE FROM passages WHERE doc_id=?", (record.doc_id,))
                self.db.executemany(
                    "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    [
                        (p.passage_id, p.doc_id, seq, p.text, p.section, p.start, p.end, p.page, p.heading, json.dumps(p.meta), "")
                        for seq, p in enumerate(passages)
                    ],
                )
                self.db.execute(
                    f"INSERT OR REPLACE INTO docs ({_DOC_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (
                        record.doc_id, record.path, record.sha256, record.size, record.file_type, json.dumps(record.info.__dict__),
                        len(passages), record.ingested_at, json.dumps(list(record.warnings)), record.pipeline,
                    ),
                )
                self.db.execute("DELETE FROM pending WHERE doc_id=?", (record.doc_id,))
            self.db.execute(_BUMP)

    def update_info(self, doc_id: str, info: SourceInfo) -> None:
        """Replace a document's catalog metadata (no vectors change)."""
        with self.db:
            self.db.execute("UPDATE docs SET info=? WHERE doc_id=?", (json.dumps(info.__dict__), doc_id))
            self.db.execute(_BUMP)

    def remove_doc(self, doc_id: str) -> int:
        """Delete a document's vectors and bookkeeping; returns passages removed."""
        n = self.db.execute("SELECT COUNT(*) FROM passages WHERE doc_id=?", (doc_id,)).fetchone()[0]
        self.mark_pending(doc_id)
        self._drop(doc_id)
        return n

    # -- BM25 ---------------------------------------------------------------------------
    def rebuild_bm25(self) -> None:
        """Re-index all passages for BM25 and save it (after any change)."""
        infos = {r.doc_id: r.info for r in self.docs()}
        rows = self.db.execute("SELECT passage_id, doc_id, section, heading, text FROM passages ORDER BY doc_id, seq")
        index = Bm25Index.build((pid, lexical_text(infos.get(doc_id), section, heading, text)) for pid, doc_id, section, heading, text in rows)
        index.save(self.dir / "bm25")
        self._bm25 = index
        self._bm25_mtime = (self.dir / "bm25" / "ids.json").stat().st_mtime

    def bm25_in_sync(self) -> bool:
        """Whether the saved BM25 index holds exactly the stored passages (a crash can leave it behind)."""
        index = self.bm25
        if index is None:
            return False
        stored = {row[0] for row in self.db.execute("SELECT passage_id FROM passages")}
        return len(index.ids) == len(stored) and set(index.ids) == stored

    @property
    def bm25(self) -> Bm25Index | None:
        """The saved BM25 index, reloaded when another process rebuilt it."""
        ids_file = self.dir / "bm25" / "ids.json"
        if ids_file.exists() and ids_file.stat().st_mtime != self._bm25_mtime:
            self._bm25 = Bm25Index.load(self.dir / "bm25")
            self._bm25_mtime = ids_file.stat().st_mtime
        return self._bm25

    def vector_ids(self) -> set[str]:
        """Every id in the vector store (for consistency checks)."""
        out: set[str] = set()
        offset = 0
        while True:
            got = self.collection.get(include=[], limit=5000, offset=offset)
            out.update(got["ids"])
            if len(got["ids"]) < 5000:
                return out
            offset += 5000


def lexical_text(info: SourceInfo | None, section: str, heading: str, text: str) -> str:
    """What BM25 indexes: document name, section label and title, then the passage."""
    name = f"{info.short_title} {info.title}" if info else ""
    return f"{name}\n{section} {heading}\n{text}"


def _doc(row: tuple) -> DocRecord:  # type: ignore[type-arg]
    fields = json.loads(row[5])
    fields["aliases"] = tuple(fields.get("aliases", ()))
    info = SourceInfo(**fields)
    return DocRecord(row[0], row[1], row[2], row[3] or 0, row[4] or "", info, row[6], row[7], tuple(json.loads(row[8] or "[]")), row[9] or "")
