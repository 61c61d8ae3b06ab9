"""Incremental ingest: hash files, skip unchanged ones, replace changed ones, prune removed ones."""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import versions
from .catalog import UPLOAD_PREFIX, Catalog, Entry, doc_id_for
from .chunking import chunk
from .embedding import Embedder
from .errors import DocumentError, IpqaError
from .loaders import file_kind, load, open_regular, read_file, supported
from .settings import Settings
from .store import DocRecord, SentenceSet, Store
from .types import Document, Passage, SourceInfo

Progress = Callable[[int, int], None]


@dataclass
class IngestReport:
    """What one ingest run did, file by file."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    relabelled: list[str] = field(default_factory=list)
    collisions: list[tuple[str, str]] = field(default_factory=list)  # (file, why it did not get the id its name gives)
    rechunked: list[str] = field(default_factory=list)  # unchanged files indexed by an older loader/chunker version
    backfilled: list[str] = field(default_factory=list)  # unchanged documents given the sentence vectors they lacked
    embedded: int = 0
    reused: int = 0
    sentences_embedded: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=lambda: {"parse": 0.0, "chunk": 0.0, "embed": 0.0, "sentences": 0.0, "write": 0.0})

    def summary(self) -> str:
        """One line: added / changed / unchanged / removed / failed."""
        return (
            f"{len(self.added)} added, {len(self.changed)} changed, {len(self.unchanged)} unchanged, "
            f"{len(self.removed)} removed, {len(self.failed)} failed"
            + (f", {len(self.skipped)} skipped" if self.skipped else "")
            + (f", {len(self.rechunked)} re-chunked (index made by an older ipqa)" if self.rechunked else "")
            + (f", {len(self.backfilled)} given sentence vectors (index made by an older ipqa)" if self.backfilled else "")
            + f" — {self.embedded} passages embedded in {self.seconds:.1f}s"
        )


@dataclass(frozen=True)
class _Planned:
    path: Path
    doc_id: str
    sha256: str
    size: int
    status: str  # "added" | "changed"
    entry: Entry | None = None  # the catalog entry the file matched


def collect(paths: Iterable[Path], report: IngestReport, *, outside_links: bool = False) -> list[Path]:
    """Regular files under the given paths, in a stable order; everything left out is reported by name."""
    files: list[Path] = []
    for root in paths:
        if root.is_dir():
            base = root.resolve()
            for folder, dirs, names in os.walk(root, onerror=lambda e: report.failed.append((str(e.filename), f"cannot list folder ({e.strerror})"))):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in [d for d in dirs if os.path.islink(os.path.join(folder, d))]:  # never followed: no loops, no escape
                    report.skipped.append((str(Path(folder) / name), "symbolic link to a folder, not followed"))
                for name in sorted(names):
                    path = Path(folder) / name
                    if name.startswith("."):
                        continue
                    if name.lower().startswith("readme"):
                        report.skipped.append((str(path), "README-like file, not ingested (rename it to ingest it)"))
                    elif not supported(path):
                        report.skipped.append((str(path), f"unsupported file type '{path.suffix or '(none)'}'"))
                    elif reason := _not_ingestable(path, base, outside_links):
                        report.skipped.append((str(path), reason))
                    else:
                        files.append(path)
        elif root.exists() or root.is_symlink():
            if reason := _not_ingestable(root, None, True):
                report.skipped.append((str(root), reason))
            else:
                files.append(root)
        else:
            report.failed.append((str(root), "no such file or folder"))
    return files


def _not_ingestable(path: Path, base: Path | None, outside_links: bool) -> str | None:
    """Why a file is left out (a link out of the folder, a broken link, a FIFO, device or socket), or None."""
    if path.is_symlink() and not outside_links and base is not None:
        try:
            target = path.resolve()
        except (OSError, RuntimeError):  # a link loop: reading it fails later, by name
            return None
        if not target.is_relative_to(base):
            return "symbolic link to a file outside the ingested folder (set IPQA_FOLLOW_OUTSIDE_LINKS=true to allow)"
    try:
        mode = path.stat().st_mode
    except OSError:  # broken link, loop, vanished: reported as a failure when read
        return None
    if not stat.S_ISREG(mode):
        return f"not a regular file ({file_kind(mode)})"
    return None


def sha256_of(path: Path) -> str:
    """Content hash of a (regular) file."""
    digest = hashlib.sha256()
    with open_regular(path) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record_path(path: Path) -> str:
    """Where a document's file is, as stored: its folder resolved, its own name kept (a symlink stays a link, pruned with its folder)."""
    return str(path.absolute().parent.resolve() / path.name)


def embed_text(info: SourceInfo, passage: Passage, count_tokens: Callable[[str], int] | None = None) -> str:
    """The text the model embeds: a short context line, then the passage."""
    context = f"{info.short_title} — {passage.section}" + (f" — {passage.heading}" if passage.heading else "")
    return f"{context[:200]}\n{passage.text}"


def ingest(
    paths: Sequence[Path],
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    store: Store | None = None,
    prune: bool = True,
    progress: bool = False,
) -> IngestReport:
    """Bring the index in line with the files under `paths`."""
    started = time.perf_counter()
    report = IngestReport()
    catalog = Catalog.for_settings(settings)
    store = store or Store(settings, create=True)
    embedder = embedder or Embedder(settings)
    with store.lock():
        report.recovered = store.recover()
        files = collect(paths, report, outside_links=settings.follow_outside_links)
        known = {r.doc_id: r for r in store.docs()}
        plans, seen, superseded = _plan(files, catalog, known, settings, store, report)
        if plans:
            _write(plans, catalog, settings, store, embedder, report, progress)
        backfill_sentences(store, embedder, settings, report, progress=progress)
        for doc_id in superseded:
            # The same file now has another identity (its content left or joined a catalog entry): the old record goes.
            if doc_id not in seen:
                store.remove_doc(doc_id)
                report.removed.append(doc_id)
        if prune:
            roots = [p.resolve() for p in paths if p.is_dir()]
            # A file now left out (a link out of the folder, a FIFO...) is pruned like a deleted one.
            left_out = {record_path(Path(p)) for p, _ in report.skipped}
            for record in known.values():
                where = Path(record.path)
                if record.doc_id not in seen and any(where.is_relative_to(r) for r in roots) and (_gone(where) or record.path in left_out):
                    store.remove_doc(record.doc_id)
                    report.removed.append(record.doc_id)
        if report.added or report.changed or report.removed or report.recovered or report.relabelled or not store.bm25_in_sync():
            store.rebuild_bm25()
        store.collect_garbage()  # vectors of replaced passages: only now, when BM25 and every record point at the new ones
    report.seconds = time.perf_counter() - started
    return report


def _gone(path: Path) -> bool:
    """Whether a file was really deleted (an unreadable file or folder, or a symlink loop, is not)."""
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
    return False


def _plan(files, catalog, known, settings, store, report):  # type: ignore[no-untyped-def]
    plans: list[_Planned] = []
    seen: dict[str, Path] = {}
    superseded: list[str] = []
    by_path = {r.path: r for r in known.values()}
    uploads = settings.uploads_dir.resolve()
    limit = settings.max_file_mb * 1024 * 1024
    for path in files:
        try:
            size = path.stat().st_size
            if size > limit:
                raise DocumentError(str(path), f"file is {size / 2**20:.1f} MB, over the {settings.max_file_mb} MB limit (IPQA_MAX_FILE_MB)")
            if not os.access(path, os.R_OK):
                raise DocumentError(str(path), "permission denied")
            digest = sha256_of(path)
        except DocumentError as exc:
            report.failed.append((exc.path, exc.reason))
            continue
        except OSError as exc:
            report.failed.append((str(path), f"cannot read file ({exc.strerror or exc})"))
            continue
        except Exception as exc:  # whatever goes wrong with one file is that file's failure
            report.failed.append((str(path), f"cannot read file ({type(exc).__name__}: {exc})"))
            continue
        resolved = record_path(path)
        upload = Path(resolved).is_relative_to(uploads)
        entry = None if upload else catalog.match(path, digest)
        if entry is not None:
            doc_id = entry.info.doc_id
            if doc_id in seen:
                report.failed.append((str(path), f"same document as {seen[doc_id]} (catalog entry '{doc_id}') — keep one copy"))
                continue
        else:
            doc_id = _own_id(path, resolved, upload, catalog, known, by_path, seen, report)
        seen[doc_id] = path
        before = by_path.get(resolved)
        if before is not None and before.doc_id != doc_id:
            superseded.append(before.doc_id)
        record = known.get(doc_id)
        if record and record.sha256 == digest and record.pipeline != versions.pipeline():
            # Same file, older code: loaders, chunker or embedded text changed since it was indexed.
            report.rechunked.append(doc_id)
        elif record and record.sha256 == digest:
            # Catalog edits (title, URL, aliases) apply without re-embedding anything.
            if entry and replace(entry.info, file=record.info.file) != record.info:
                store.update_info(doc_id, replace(entry.info, file=record.info.file))
                report.relabelled.append(doc_id)
            report.unchanged.append(doc_id)
            continue
        plans.append(_Planned(path, doc_id, digest, size, "changed" if record else "added", entry))
    return plans, seen, superseded


def _own_id(path, resolved, upload, catalog, known, by_path, seen, report) -> str:  # type: ignore[no-untyped-def]
    """Id of a file no catalog entry describes: its name, unless another document holds that name (then reported)."""
    base = (UPLOAD_PREFIX if upload else "") + doc_id_for(path)
    own = f"{base}-{hashlib.sha1(resolved.encode()).hexdigest()[:8]}"
    before = by_path.get(resolved)
    if before is not None and before.doc_id == own and own not in seen:
        return own  # a file that had to take its own id keeps it across runs
    clash = ""
    listed = None if upload else catalog.named_like(path, base)
    holder = known.get(base)
    if listed is not None:
        clash = f"named like the catalog's '{listed.info.doc_id}' ({listed.file}) but its content is not that document (SHA-256 differs)"
    elif base in seen:
        clash = f"'{base}' is already taken by {seen[base]} in this run"
    elif holder is not None and holder.path != resolved and not _gone(Path(holder.path)):
        clash = f"'{base}' is already taken by {holder.path}"
    if not clash:
        return base
    report.collisions.append((str(path), f"{clash}: indexed as '{own}'"))
    return own


def _write(plans, catalog, settings, store, embedder, report, progress) -> None:  # type: ignore[no-untyped-def]
    from tqdm import tqdm

    prepared = []
    for plan in plans:
        t0 = time.perf_counter()
        try:
            # The bytes parsed are the bytes hashed: a file changed since planning is recorded as read now.
            data = read_file(plan.path)
            if len(data) > settings.max_file_mb * 1024 * 1024:
                raise DocumentError(str(plan.path), f"file is {len(data) / 2**20:.1f} MB, over the {settings.max_file_mb} MB limit (IPQA_MAX_FILE_MB)")
            plan = replace(plan, sha256=hashlib.sha256(data).hexdigest(), size=len(data))
            doc = load(plan.path, data)
            t1 = time.perf_counter()
            if plan.entry is not None and plan.entry.sha256 and plan.sha256 not in plan.entry.sha256:
                raise DocumentError(str(plan.path), f"changed while being ingested (no longer the catalog's '{plan.doc_id}') — ingest it again")
            info = replace(catalog.info_for(plan.path, doc, plan.doc_id, plan.entry), file=record_path(plan.path))
            passages = chunk(doc, plan.doc_id, embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap)
            # Ids of this version of the file: a replaced document's new passages are written beside the old ones
            # (then switched in one transaction), so old and new never share an id.
            salt = hashlib.sha256(f"{plan.sha256}|{versions.pipeline()}".encode()).hexdigest()[:8]
            passages = [replace(p, passage_id=f"{p.passage_id}-{salt}") for p in passages]
        except DocumentError as exc:
            report.failed.append((exc.path, exc.reason))
            continue
        except Exception as exc:  # whatever goes wrong with one file is that file's failure, never the batch's
            report.failed.append((str(plan.path), f"cannot be processed ({type(exc).__name__}: {exc})"))
            continue
        report.timings["parse"] += t1 - t0
        report.timings["chunk"] += time.perf_counter() - t1
        if not passages:
            report.failed.append((str(plan.path), "no text to index"))
            continue
        report.warnings.extend((str(plan.path), w) for w in doc.warnings if not w.startswith("title:"))
        prepared.append((plan, doc, info, passages))
    total = sum(len(p[3]) for p in prepared)
    bar = tqdm(total=total, unit="passage", desc="Embedding", disable=not progress or total < 64)
    # Small documents are embedded and written in groups: one model call and one vector-store
    # write per group, not per file (a folder of 1,000 notes would otherwise pay 1,000 round trips).
    group: list[tuple[_Planned, Document, SourceInfo, list[Passage]]] = []
    for item in prepared:
        group.append(item)
        if sum(len(g[3]) for g in group) >= GROUP_PASSAGES or len(group) >= GROUP_DOCS:
            _write_group_or_each(group, settings, store, embedder, report, bar)
            group = []
    if group:
        _write_group_or_each(group, settings, store, embedder, report, bar)
    bar.close()


def _write_group_or_each(group, settings, store, embedder, report, bar) -> None:  # type: ignore[no-untyped-def]
    """Write a group; if that fails, write its documents one by one so only the bad one fails."""
    try:
        _write_group(group, settings, store, embedder, report, bar)
    except IpqaError:
        raise
    except Exception as exc:
        if len(group) == 1:
            report.failed.append((str(group[0][0].path), f"cannot be indexed ({type(exc).__name__}: {exc})"))
            return
        for item in group:
            _write_group_or_each([item], settings, store, embedder, report, bar)


GROUP_PASSAGES = 256
GROUP_DOCS = 64


def _write_group(group, settings, store, embedder, report, bar) -> None:  # type: ignore[no-untyped-def]
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

    t0 = time.perf_counter()
    work = []
    jobs: list[tuple[int, int]] = []  # (document in group, passage) still to embed
    for k, (plan, _doc, info, passages) in enumerate(group):
        texts = [embed_text(info, p) for p in passages]
        shas = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        reuse = store.old_vectors(plan.doc_id) if plan.status == "changed" else {}
        vectors: dict[int, list[float]] = {i: reuse[s] for i, s in enumerate(shas) if s in reuse}
        jobs.extend((k, i) for i, s in enumerate(shas) if s not in reuse)
        work.append((texts, shas, vectors))
        bar.update(len(vectors))
    batch = max(1, settings.embed_batch_size * 4)
    for j in range(0, len(jobs), batch):
        part = jobs[j : j + batch]
        for (k, i), vec in zip(part, embedder.embed([work[k][0][i] for k, i in part])):
            work[k][2][i] = vec
        bar.update(len(part))
    t1 = time.perf_counter()
    pool: dict[str, bytes] = {}
    for plan, *_ in group:
        if plan.status == "changed":
            pool.update(store.old_sentence_vectors(plan.doc_id))
    sentences, encoded = _sentence_sets([(plan.doc_id, passages) for plan, _, _, passages in group], pool, embedder, settings)
    t2 = time.perf_counter()
    writes = []
    for (plan, doc, info, passages), (_texts, shas, vectors) in zip(group, work):
        nodes = []
        for i, p in enumerate(passages):
            meta = {"doc_id": p.doc_id, "work_id": info.work_id, "jurisdiction": info.jurisdiction, "section": p.section, "start": p.start, "end": p.end, "embed_sha": shas[i]}
            if p.page is not None:
                meta["page"] = p.page
            node = TextNode(id_=p.passage_id, text=p.text, metadata=meta, embedding=vectors[i])
            node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=plan.doc_id)
            nodes.append(node)
        record = DocRecord(
            plan.doc_id, record_path(plan.path), plan.sha256, plan.size, doc.file_type, info, len(passages), time.time(), doc.warnings, versions.pipeline()
        )
        writes.append((record, passages, nodes))
    store.write_docs(writes, sentences)
    report.timings["embed"] += t1 - t0
    report.timings["sentences"] += t2 - t1
    report.timings["write"] += time.perf_counter() - t2
    embedded = len(jobs)
    report.embedded += embedded
    report.sentences_embedded += encoded
    report.reused += sum(len(g[3]) for g in group) - embedded
    for plan, *_ in group:
        (report.changed if plan.status == "changed" else report.added).append(plan.doc_id)


def _sentence_sets(
    docs: Sequence[tuple[str, Sequence[Passage]]], reuse: dict[str, bytes], embedder: Embedder, settings: Settings
) -> tuple[dict[str, SentenceSet], int]:
    """Sentence vectors of documents (by id) from their passages in order, and how many sentences were encoded:
    each distinct sentence text once, a vector already stored for the same text (`reuse`, by sha) not again."""
    import numpy as np

    from .evidence import encoded_text, sentence_candidates, text_sha

    planned = []
    todo: dict[str, str] = {}  # sha -> text to encode
    for doc_id, passages in docs:
        rows = []
        for s, e, text in sentence_candidates(passages):
            encoded = encoded_text(text)
            sha = text_sha(encoded)
            rows.append((s, e, sha))
            if sha not in reuse:
                todo.setdefault(sha, encoded)
        planned.append((doc_id, rows))
    made = dict(reuse)
    keys = list(todo)
    batch = max(1, settings.embed_batch_size * 4)
    for j in range(0, len(keys), batch):
        part = keys[j : j + batch]
        for sha, vec in zip(part, embedder.embed([todo[k] for k in part]), strict=True):
            made[sha] = np.asarray(vec, dtype=np.float32).tobytes()
    sets = {doc_id: SentenceSet([(s, e, sha, made[sha]) for s, e, sha in rows], versions.SENTENCES) for doc_id, rows in planned}
    return sets, len(keys)


def backfill_sentences(store: Store, embedder: Embedder, settings: Settings, report: IngestReport, *, progress: bool = False) -> None:
    """Give unchanged documents the sentence vectors they lack (an index made before they were stored, or by another
    versions.SENTENCES): from their stored passages, one transaction per document; passages are not embedded again."""
    made = store.sentence_versions()
    todo = [d for d in report.unchanged if made.get(d) != versions.SENTENCES]
    if not todo:
        return
    from tqdm import tqdm

    for doc_id in tqdm(todo, unit="document", desc="Sentence vectors (index made by an older ipqa)", disable=not progress):
        t0 = time.perf_counter()
        passages = store.doc_passages(doc_id)
        sets, n = _sentence_sets([(doc_id, passages)], store.old_sentence_vectors(doc_id), embedder, settings)
        if store.write_sentences(doc_id, sets[doc_id]):
            report.backfilled.append(doc_id)
        report.sentences_embedded += n
        report.timings["sentences"] += time.perf_counter() - t0
