"""Scratch collections of any size built from real passages whose vectors were computed once.

Copy 0 is the real corpus as ingested. Copy c > 0 repeats every real document under the id
`<doc_id>--x<c>` (its own work and title, so retrieval treats it as a different act), with new passage ids
and each stored vector moved by Gaussian noise (sigma 0.01 per dimension, then re-normalised:
cosine about 0.98 to the original). Everything is written through `Store.write_doc` (Chroma via
LlamaIndex + the SQLite passages table) and then `Store.rebuild_bm25`, so the scratch index is
read exactly like one made by `ipqa ingest`. Below the size of the real corpus, every document
keeps an evenly spaced subset of its passages.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ipqa.settings import Settings
from ipqa.store import DocRecord, SentenceSet, Store
from ipqa.types import Passage, SourceInfo

SIGMA = 0.01


Base = list[tuple[DocRecord, list[Passage], np.ndarray, SentenceSet | None]]


def load_base(settings: Settings) -> Base:
    """Every document of an ingested index with its passages, their stored vectors, in order, and its sentence vectors."""
    store = Store(settings)
    got = store.collection.get(include=["embeddings"])
    vectors = dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32), strict=True))
    base = []
    for record in store.docs():
        passages = store.doc_passages(record.doc_id)
        base.append((record, passages, np.stack([vectors[p.passage_id] for p in passages]), store.doc_sentences(record.doc_id)))
    return base


def build(base: Base, size: int, settings: Settings, *, seed: int = 7) -> dict[str, float]:
    """Write a `size`-passage index at `settings.index_dir` (which must not exist yet); returns timings."""
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

    rng = np.random.default_rng(seed)
    store = Store(settings, create=True)
    total = sum(len(p) for _, p, _, _ in base)
    copies = math.ceil(size / total)
    written = 0
    started = time.perf_counter()
    for c in range(copies):
        want = min(total, size - written)
        for record, passages, vecs, sentences in base:
            keep = _spread(len(passages), len(passages) * want / total)
            if not keep:
                continue
            doc_id = record.doc_id if c == 0 else f"{record.doc_id}--x{c:03d}"
            work_id = record.info.work_id if c == 0 else f"{record.info.work_id}--x{c:03d}"
            info = record.info if c == 0 else _renamed(record.info, doc_id, work_id, c)
            chosen = [passages[i] for i in keep]
            moved = vecs[keep]
            if c:
                moved = moved + rng.normal(0.0, SIGMA, moved.shape).astype(np.float32)
                moved /= np.linalg.norm(moved, axis=1, keepdims=True)
            new_passages, nodes = [], []
            for p, vec in zip(chosen, moved, strict=True):
                pid = p.passage_id if c == 0 else hashlib.sha1(f"{doc_id}|{p.passage_id}".encode()).hexdigest()[:20]
                new = replace(p, passage_id=pid, doc_id=doc_id)
                new_passages.append(new)
                # The same node ingest.py writes: metadata for filters, source relationship for deletes.
                meta = {"doc_id": doc_id, "work_id": work_id, "jurisdiction": info.jurisdiction, "section": p.section,
                        "start": p.start, "end": p.end, "embed_sha": hashlib.sha1(f"{pid}".encode()).hexdigest()}
                if p.page is not None:
                    meta["page"] = p.page
                node = TextNode(id_=pid, text=p.text, metadata=meta, embedding=vec.tolist())
                node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=doc_id)
                nodes.append(node)
            digest = hashlib.sha256(f"scratch|{doc_id}|{len(nodes)}".encode()).hexdigest()
            # A copy keeps the original's sentence vectors (same offsets): questions score sentences as on the real index.
            store.write_doc(replace(record, doc_id=doc_id, info=info, sha256=digest, n_passages=len(nodes)), new_passages, nodes, sentences)
            written += len(nodes)
    t_vectors = time.perf_counter() - started
    store.rebuild_bm25()
    t_bm25 = time.perf_counter() - started - t_vectors
    store.db.close()
    return {"passages": float(written), "write_s": t_vectors, "bm25_s": t_bm25}


def _renamed(info: SourceInfo, doc_id: str, work_id: str, c: int) -> SourceInfo:
    """A copy is a different document: its own id, work and names (questions name only the originals)."""
    title = re.sub(r"[()]", "", info.title)  # no "(WCT)"-style acronym that a question could name
    return replace(info, doc_id=doc_id, work_id=work_id, title=f"{title} — scratch copy {c}", short_title=f"{info.short_title} x{c:03d}",
                   aliases=())


def _spread(n: int, k: float) -> list[int]:
    """About k evenly spaced indices of range(n) (all of them when k >= n)."""
    k = min(n, round(k))
    if k <= 0:
        return []
    if k == n:
        return list(range(n))
    return sorted({int(i * n / k) for i in range(k)})


def scratch_settings(root: Path, size: int, base: str) -> Settings:
    """Settings of the scratch index of this size built from the index named `base`."""
    return Settings(data_dir=root / f"{base}-x-{size}")
