"""The index: vectors in Chroma (through LlamaIndex), bookkeeping and passage text in SQLite, BM25 on disk."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .catalog import UPLOAD_PREFIX
from .errors import ConfigError, IngestLockedError, NoIndexError
from .lexical import Bm25Index
from .settings import Settings
from .types import Passage, SourceInfo, headings

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
CREATE TABLE IF NOT EXISTS garbage (passage_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS sentence_vectors (
    doc_id TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, sha TEXT NOT NULL, vec BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS sentence_vectors_key ON sentence_vectors(doc_id, start, end);
CREATE TABLE IF NOT EXISTS sentence_sets (doc_id TEXT PRIMARY KEY, version TEXT NOT NULL, n INTEGER NOT NULL);
"""
# Sentence vectors (evidence.gather scores every candidate sentence by meaning without encoding it at query time) live
# here in SQLite, not in a second Chroma collection: they are looked up by key (document, absolute offsets), never
# searched by similarity, and written in the same transaction as the document's passages, so crash recovery, atomic
# replacement and removal hold for them with no new bookkeeping. `sentence_sets` says which documents have them (and
# made by which versions.SENTENCES), so a document with no quotable sentence is told from one never processed.
# A rowid table with a separate key index: the 1.5 kB vectors made a WITHOUT ROWID table twice as large.
_CHROMA_SYSTEMS = threading.Lock()  # see Store._client
_DOC_COLUMNS = "doc_id, path, sha256, size, file_type, info, n_passages, ingested_at, warnings, pipeline"
log = logging.getLogger(__name__)
# How many candidates Chroma's HNSW search keeps while it walks the graph (its ef_search). At Chroma's default, 100,
# the nearest passages were missed now and then, and not the same ones in every process: over the 21 shared documents
# (4,778 passages), 33-36 of the exact top 10 of 200 train questions were missing from the top 40, once the nearest
# passage itself (cosine 0.50, the next 0.43). At 500: 1 and 7 in two processes; at 1000: 1 and 1, for some 1 ms more a
# question. Set on a new collection; an older one is widened when opened.
SEARCH_EF = 1000
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

    def to_dict(self, *, path: bool = True) -> dict[str, Any]:
        """The record `ipqa sources --json` prints; the web API (`/sources`) leaves out the server path."""
        out: dict[str, Any] = {
            "doc_id": self.doc_id, "title": self.info.title, "short_title": self.info.short_title, "file_type": self.file_type,
            "passages": self.n_passages, "jurisdiction": self.info.jurisdiction, "date": self.info.date, "url": self.info.url,
            "ingested_at": self.ingested_at, "uploaded": self.doc_id.startswith(UPLOAD_PREFIX), "sha256": self.sha256,
        }
        if path:
            out["path"] = self.path
        return out


@dataclass
class _Chroma:
    """An open Chroma client and collection, and the index generation they were opened at (or kept up with)."""

    client: Any
    collection: Any
    generation: int
    _vector_store: Any = None


class Store:
    """One index directory: `state.sqlite`, `chroma/` (or a Chroma server), `bm25/`.

    Safe to share between threads: each thread gets its own SQLite connection (WAL: readers never wait for the
    writer, and a read transaction sees one committed state). Another process's writes are noticed through the
    index generation (bumped by every write transaction); `refresh()` then reopens Chroma and reloads BM25."""

    def __init__(self, settings: Settings, *, create: bool = False) -> None:
        self.settings = settings
        self.dir = settings.index_dir
        self.db_path = self.dir / "state.sqlite"
        if not self.db_path.exists():
            if not create:
                raise NoIndexError(str(settings.data_dir))
            self.dir.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.RLock()  # swaps of the shared handles below
        self._chroma: _Chroma | None = None
        self._readers: dict[object, int] = {}  # snapshots being read in this process -> their generation
        self._bm25: Bm25Index | None = None
        self._bm25_key: str | None = None
        self._docs: tuple[int, list[DocRecord]] | None = None
        db = self.db
        db.executescript(_SCHEMA)
        if "pipeline" not in {row[1] for row in db.execute("PRAGMA table_info(docs)")}:
            with db:
                db.execute("ALTER TABLE docs ADD COLUMN pipeline TEXT")
        if db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='sentences'").fetchone():
            with db:  # the first layout of sentence vectors (main for a few minutes): dropped, the next ingest backfills
                db.execute("DROP TABLE sentences")
                db.execute("DELETE FROM sentence_sets")

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's SQLite connection (opened on first use)."""
        conn = getattr(self._local, "db", None)
        if conn is None:
            conn = sqlite3.connect(self.db_path, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            self._local.db = conn
            with self._guard:
                self._connections.append(conn)
        return conn

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see one committed state of the bookkeeping (a read transaction), after catching up with other processes."""
        db = self.db
        if db.in_transaction:
            yield
            return
        self.refresh()
        db.execute("BEGIN")
        token = object()
        try:
            generation = self.generation()  # the first read fixes the snapshot
            with self._guard:
                self._readers[token] = generation
            yield
        finally:
            with self._guard:
                self._readers.pop(token, None)
            db.execute("COMMIT")

    def close(self) -> None:
        """Close this store's SQLite connections and let go of its Chroma client."""
        # Not Chroma's client.close(): it releases the shared system by path, which after a refresh is another client's.
        with self._guard:
            self._chroma = None
            for conn in self._connections:
                try:
                    conn.close()
                except sqlite3.ProgrammingError:  # made in another thread that still runs: it goes with that thread
                    pass
            self._connections = []
            self._local = threading.local()

    # -- Chroma -------------------------------------------------------------------------
    def _handles(self) -> _Chroma:
        handles = self._chroma
        if handles is None:
            with self._guard:
                if self._chroma is None:
                    generation = self.generation()  # read before opening: a write in between is noticed later
                    client = self._client(fresh=False)
                    self._chroma = _Chroma(client, self._collection(client), generation)
                handles = self._chroma
        return handles

    @property
    def collection(self):  # type: ignore[no-untyped-def]
        """The Chroma collection named after the model and chunking settings."""
        return self._handles().collection

    @property
    def vector_store(self):  # type: ignore[no-untyped-def]
        """LlamaIndex's view of the collection (for writes: its node <-> Chroma record mapping)."""
        handles = self._handles()
        if handles._vector_store is None:
            from llama_index.vector_stores.chroma import ChromaVectorStore

            handles._vector_store = ChromaVectorStore(chroma_collection=handles.collection)
        return handles._vector_store

    def _client(self, *, fresh: bool):  # type: ignore[no-untyped-def]
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
            return client
        # Chroma's cache of systems is one class-level dict for the whole process, unguarded: a client made in one thread
        # while another clears the cache fails with a KeyError (seen in the slow tier: the server's warm-up and its first
        # question). Clearing and creating happen under one process-wide lock.
        with _CHROMA_SYSTEMS:
            if fresh:
                # Embedded Chroma shares one in-memory system per path and never rereads what another process wrote:
                # a fresh system (public API: clear the shared-system cache) reads the files as they are now.
                # Clients made earlier keep their own system (questions in flight finish on it).
                chromadb.api.client.SharedSystemClient.clear_system_cache()
            return chromadb.PersistentClient(path=str(self.dir / "chroma"), settings=chroma_settings)

    def _collection(self, client):  # type: ignore[no-untyped-def]
        collection = client.get_or_create_collection(self.settings.index_name, configuration={"hnsw": {"space": "cosine", "ef_search": SEARCH_EF}})
        if (collection.configuration.get("hnsw") or {}).get("ef_search", SEARCH_EF) < SEARCH_EF:
            # An index made before SEARCH_EF: widened once, by whichever process opens it first (a failure, say a
            # busy Chroma database, leaves the narrower search working; the next opening tries again).
            try:
                collection.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})
            except Exception as exc:  # chromadb raises many kinds
                log.warning("could not widen the vector search of %s (%s: %s)", self.settings.index_name, type(exc).__name__, exc)
        return collection

    def refresh(self) -> bool:
        """Catch up with writes by other processes: reopen Chroma and drop caches when the index generation moved.
        Returns whether anything was reopened. Cheap when nothing changed (one SQLite read)."""
        handles = self._chroma
        if handles is None:
            return False
        generation = self.generation()
        if handles.generation == generation:
            return False
        with self._guard:
            if self._chroma is not handles:
                return True  # another thread reopened meanwhile
            if self.settings.chroma_url:  # a Chroma server is always current
                handles.generation = generation
                return False
            # Questions in flight keep the old collection object (and with it the old client) until they finish.
            client = self._client(fresh=True)
            self._chroma = _Chroma(client, self._collection(client), generation)
            self._docs = None
        return True

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, which moves the index generation on. Once it has committed, our own Chroma client
        counts as current (it made the change) if it was before; other processes' clients reopen."""
        db = self.db
        handles = self._chroma
        with db:
            yield db
            row = db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
            before = int(row[0]) if row else 0
            db.execute(_BUMP)
            db.execute("INSERT INTO meta VALUES ('changed_at', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(time.time()),))
        if handles is not None and handles is self._chroma and handles.generation == before:
            handles.generation = before + 1

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
                self.refresh()  # never write through a Chroma client that missed another process's writes
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def docs(self) -> list[DocRecord]:
        """Every ingested document (parsed again only after the index generation moved)."""
        db = self.db
        generation = self.generation()
        cached = self._docs
        if cached is None or cached[0] != generation:
            rows = db.execute(f"SELECT {_DOC_COLUMNS} FROM docs ORDER BY doc_id").fetchall()
            cached = self._docs = (generation, [_doc(row) for row in rows])  # one generation is one committed state
        return list(cached[1])

    def doc(self, doc_id: str) -> DocRecord | None:
        """One document's record."""
        row = self.db.execute(f"SELECT {_DOC_COLUMNS} FROM docs WHERE doc_id=?", (doc_id,)).fetchone()
        return _doc(row) if row else None

    def generation(self) -> int:
        """The index generation: bumped by every write (from any process)."""
        row = self.db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    def changed_at(self) -> float:
        """When the index last changed (seconds since the epoch; 0 when never)."""
        row = self.db.execute("SELECT value FROM meta WHERE key='changed_at'").fetchone()
        return float(row[0]) if row else 0.0

    def serving_generation(self) -> int:
        """The generation this store's open vector client reflects (the current one when none is open yet)."""
        handles = self._chroma
        return handles.generation if handles is not None else self.generation()

    def record_server(self, port: int) -> None:
        """Note in `servers/<pid>.json` which index generation this serving process reflects (`ipqa doctor` compares)."""
        folder = self.dir / "servers"
        folder.mkdir(exist_ok=True)
        note = {"pid": os.getpid(), "port": port, "generation": self.serving_generation(), "checked_at": time.time()}
        tmp = folder / f".{os.getpid()}.json.tmp"
        tmp.write_text(json.dumps(note))
        tmp.replace(folder / f"{os.getpid()}.json")

    def servers(self) -> list[dict[str, Any]]:
        """Serving processes that recorded themselves and are still running."""
        out = []
        for path in sorted((self.dir / "servers").glob("*.json")):
            try:
                note = json.loads(path.read_text())
                os.kill(int(note["pid"]), 0)
            except ProcessLookupError:
                path.unlink(missing_ok=True)  # that server has exited
                continue
            except (OSError, ValueError, KeyError):
                continue
            out.append(note)
        return out

    def fingerprint(self) -> str:
        """What made this index: model and chunking (the index name) and the pipeline versions of its passages."""
        from . import versions

        made = self.sentence_versions()
        # Whether (and by which version) sentence vectors were stored changes which sentences an answer quotes.
        stored = {f"{d.pipeline or 'unrecorded'};sentences={made.get(d.doc_id, 'none')}" for d in self.docs()}
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
        db = self.db
        for i in range(0, len(ids), 500):
            part = list(ids[i : i + 500])
            marks = ",".join("?" * len(part))
            for row in db.execute(
                f"SELECT passage_id, doc_id, text, section, start, end, page, heading, meta FROM passages WHERE passage_id IN ({marks})", part
            ):
                out[row[0]] = Passage(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7] or "", json.loads(row[8] or "{}"))
        return out

    def doc_passages(self, doc_id: str) -> list[Passage]:
        """A document's passages in order."""
        with self.snapshot():
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
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO pending VALUES (?, ?)", (doc_id, time.time()))

    def recover(self) -> list[str]:
        """Undo half-finished writes of a crashed ingest: those documents are dropped and re-ingested; replaced vectors go."""
        pending = [r[0] for r in self.db.execute("SELECT doc_id FROM pending")]
        for doc_id in pending:
            self._drop(doc_id)
        self.collect_garbage()
        return pending

    def _drop(self, doc_id: str) -> None:
        """Delete a pending document's vectors, then its bookkeeping and the pending mark in one transaction."""
        self.vector_store.delete(ref_doc_id=doc_id)
        with self._write() as db:
            db.execute("DELETE FROM passages WHERE doc_id=?", (doc_id,))
            db.execute("DELETE FROM docs WHERE doc_id=?", (doc_id,))
            _put_sentences(db, doc_id, None)
            db.execute("DELETE FROM pending WHERE doc_id=?", (doc_id,))

    def write_doc(self, record: DocRecord, passages: Sequence[Passage], nodes: Sequence[Any], sentences: SentenceSet | None = None) -> None:
        """Replace a document: vectors first, then bookkeeping in one transaction."""
        self.write_docs([(record, passages, nodes)], {record.doc_id: sentences} if sentences is not None else None)

    def write_docs(self, items: Sequence[tuple[DocRecord, Sequence[Passage], Sequence[Any]]], sentences: dict[str, SentenceSet] | None = None) -> None:
        """Replace several documents so that a reader sees each one's old version or its new one, never neither.

        The new passages have new ids: their vectors are added beside the old ones, then one SQLite transaction
        switches the bookkeeping and lists the old ids as garbage; `collect_garbage()` deletes those vectors later
        (at the end of the ingest), when no question can still be reading the old version.

        `sentences` (by document id) are the documents' sentence vectors, switched in the same transaction; a
        document written without them has none (gather then falls back to encoding a few at query time)."""
        sentences = sentences or {}
        with self._write() as db:
            db.executemany("INSERT OR REPLACE INTO pending VALUES (?, ?)", [(r.doc_id, time.time()) for r, _, _ in items])
        nodes = [node for _, _, doc_nodes in items for node in doc_nodes]
        for i in range(0, len(nodes), 1000):
            self.vector_store.add(nodes[i : i + 1000])
        with self._write() as db:
            for record, passages, _ in items:
                new = [p.passage_id for p in passages]
                db.execute("CREATE TEMP TABLE IF NOT EXISTS keep (passage_id TEXT PRIMARY KEY)")
                db.execute("DELETE FROM keep")
                db.executemany("INSERT OR IGNORE INTO keep VALUES (?)", [(pid,) for pid in new])
                db.execute(
                    "INSERT OR IGNORE INTO garbage SELECT passage_id FROM passages WHERE doc_id=? AND passage_id NOT IN (SELECT passage_id FROM keep)",
                    (record.doc_id,),
                )
                db.execute("DELETE FROM passages WHERE doc_id=?", (record.doc_id,))
                db.executemany(
                    "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    [
                        (p.passage_id, p.doc_id, seq, p.text, p.section, p.start, p.end, p.page, p.heading, json.dumps(p.meta), "")
                        for seq, p in enumerate(passages)
                    ],
                )
                db.execute(
                    f"INSERT OR REPLACE INTO docs ({_DOC_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (
                        record.doc_id, record.path, record.sha256, record.size, record.file_type, json.dumps(record.info.__dict__),
                        len(passages), record.ingested_at, json.dumps(list(record.warnings)), record.pipeline,
                    ),
                )
                _put_sentences(db, record.doc_id, sentences.get(record.doc_id))
                db.execute("DELETE FROM pending WHERE doc_id=?", (record.doc_id,))

    # -- sentence vectors ---------------------------------------------------------------
    def write_sentences(self, doc_id: str, sentences: SentenceSet) -> bool:
        """Give a stored document its sentence vectors (backfill of an index made before they were stored), in one
        transaction; False when the document is no longer in the index."""
        with self._write() as db:
            if db.execute("SELECT 1 FROM docs WHERE doc_id=?", (doc_id,)).fetchone() is None:
                return False
            _put_sentences(db, doc_id, sentences)
        return True

    def sentence_vectors(self, doc_id: str, start: int, end: int) -> dict[tuple[int, int], tuple[str, bytes]]:
        """Stored sentence vectors of a document between two absolute offsets: (start, end) -> (sha of the encoded
        text, float32 bytes)."""
        rows = self.db.execute("SELECT start, end, sha, vec FROM sentence_vectors WHERE doc_id=? AND start>=? AND start<?", (doc_id, start, end))
        return {(s, e): (sha, vec) for s, e, sha, vec in rows if e <= end}

    def old_sentence_vectors(self, doc_id: str) -> dict[str, bytes]:
        """A document's stored sentence vectors by the sha of their encoded text (reused when it is re-ingested)."""
        return {sha: vec for sha, vec in self.db.execute("SELECT sha, vec FROM sentence_vectors WHERE doc_id=?", (doc_id,))}

    def doc_sentences(self, doc_id: str) -> SentenceSet | None:
        """A document's stored sentence vectors (None when it has none)."""
        with self.snapshot():
            row = self.db.execute("SELECT version FROM sentence_sets WHERE doc_id=?", (doc_id,)).fetchone()
            if row is None:
                return None
            rows = self.db.execute("SELECT start, end, sha, vec FROM sentence_vectors WHERE doc_id=? ORDER BY start, end", (doc_id,)).fetchall()
        return SentenceSet(rows, row[0])

    def sentence_versions(self) -> dict[str, str]:
        """versions.SENTENCES that made each document's sentence vectors (documents without any are absent)."""
        return dict(self.db.execute("SELECT doc_id, version FROM sentence_sets").fetchall())

    def sentence_count(self) -> int:
        """Sentence vectors stored."""
        return self.db.execute("SELECT COUNT(*) FROM sentence_vectors").fetchone()[0]

    def collect_garbage(self, wait: float = 30.0) -> int:
        """Delete the vectors of replaced passages (listed by `write_docs`); returns how many went.

        Waits (up to `wait` seconds) for questions in this process still reading a state from before the
        replacement: they may need the old vectors. (Another process's Chroma client keeps its own view until it reopens.)"""
        db = self.db
        ids = [r[0] for r in db.execute("SELECT passage_id FROM garbage WHERE passage_id NOT IN (SELECT passage_id FROM passages)")]
        if not ids:
            return 0
        current, deadline = self.generation(), time.monotonic() + wait
        while time.monotonic() < deadline:
            with self._guard:
                if all(g >= current for g in self._readers.values()):
                    break
            time.sleep(0.02)
        for i in range(0, len(ids), 1000):
            self.collection.delete(ids=ids[i : i + 1000])
        with self._write() as db:
            db.execute("DELETE FROM garbage")
        return len(ids)

    def update_info(self, doc_id: str, info: SourceInfo) -> None:
        """Replace a document's catalog metadata: in SQLite and on its vectors (jurisdiction and work filters), no re-embedding."""
        got = self.collection.get(where={"document_id": doc_id}, include=["metadatas"])
        metas = []
        for meta in got["metadatas"] or []:
            meta = dict(meta or {})
            meta.update(work_id=info.work_id, jurisdiction=info.jurisdiction)
            if "_node_content" in meta:  # LlamaIndex keeps a second copy of the metadata inside the node it stores
                node = json.loads(meta["_node_content"])
                node.setdefault("metadata", {}).update(work_id=info.work_id, jurisdiction=info.jurisdiction)
                meta["_node_content"] = json.dumps(node)
            metas.append(meta)
        for i in range(0, len(metas), 1000):
            self.collection.update(ids=got["ids"][i : i + 1000], metadatas=metas[i : i + 1000])
        with self._write() as db:
            db.execute("UPDATE docs SET info=? WHERE doc_id=?", (json.dumps(info.__dict__), doc_id))

    def remove_doc(self, doc_id: str) -> int:
        """Delete a document's vectors and bookkeeping; returns passages removed."""
        n = self.db.execute("SELECT COUNT(*) FROM passages WHERE doc_id=?", (doc_id,)).fetchone()[0]
        self.mark_pending(doc_id)
        self._drop(doc_id)
        return n

    # -- BM25 ---------------------------------------------------------------------------
    def rebuild_bm25(self) -> None:
        """Re-index all passages for BM25 and save it (after any change; readers switch to it at once, never half)."""
        with self.snapshot():
            infos = {r.doc_id: r.info for r in self.docs()}
            rows = self.db.execute("SELECT passage_id, doc_id, section, heading, text, meta FROM passages ORDER BY doc_id, seq").fetchall()
        index = Bm25Index.build(
            (pid, lexical_text(infos.get(doc_id), section, headings(json.loads(meta or "{}"), heading), text))
            for pid, doc_id, section, heading, text, meta in rows
        )
        key = index.save(self.dir / "bm25")
        with self._guard:
            self._bm25, self._bm25_key = index, key

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
        folder = self.dir / "bm25"
        key = Bm25Index.saved_key(folder)
        if key != self._bm25_key:
            with self._guard:
                if key != self._bm25_key:
                    self._bm25, self._bm25_key = Bm25Index.load(folder), key
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


@dataclass(frozen=True)
class SentenceSet:
    """A document's sentence vectors: rows of (absolute start, absolute end, sha of the encoded text, float32 bytes),
    and the versions.SENTENCES that chose and encoded them."""

    rows: Sequence[tuple[int, int, str, bytes]]
    version: str


def _put_sentences(db: sqlite3.Connection, doc_id: str, sentences: SentenceSet | None) -> None:
    """Replace a document's sentence vectors inside the caller's transaction (None: it has none)."""
    db.execute("DELETE FROM sentence_vectors WHERE doc_id=?", (doc_id,))
    db.execute("DELETE FROM sentence_sets WHERE doc_id=?", (doc_id,))
    if sentences is None:
        return
    db.executemany("INSERT OR REPLACE INTO sentence_vectors VALUES (?,?,?,?,?)", [(doc_id, s, e, sha, vec) for s, e, sha, vec in sentences.rows])
    db.execute("INSERT INTO sentence_sets VALUES (?,?,?)", (doc_id, sentences.version, len(sentences.rows)))


def lexical_text(info: SourceInfo | None, section: str, heading: str, text: str) -> str:
    """What BM25 indexes: document name, section label and headings (Passage.headings), then the passage."""
    name = f"{info.short_title} {info.title}" if info else ""
    return f"{name}\n{section} {heading}\n{text}"


def _doc(row: tuple) -> DocRecord:  # type: ignore[type-arg]
    fields = json.loads(row[5])
    fields["aliases"] = tuple(fields.get("aliases", ()))
    info = SourceInfo(**fields)
    return DocRecord(row[0], row[1], row[2], row[3] or 0, row[4] or "", info, row[6], row[7], tuple(json.loads(row[8] or "[]")), row[9] or "")
