"""The store under concurrent use: per-thread connections, documents replaced atomically, other processes noticed,
relabels reaching the vectors, BM25 saved atomically."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import DATA, shared_doc

from ipqa.api import Assistant
from ipqa.embedding import Embedder
from ipqa.lexical import Bm25Index
from ipqa.settings import Settings
from ipqa.store import Store

QUESTION = "How many years does the Zephyr Registry keep assignment records?"


def _zephyr(path: Path, years: int) -> None:
    """A document that changes on every write: each version states its own figure in every section."""
    sections = "\n\n".join(
        f"## Section {i}\n\nThe Zephyr Registry keeps assignment records for {years} years. Entry {i} lists assignment number {years * 100 + i}."
        for i in range(1, 41)
    )
    path.write_text(f"# Zephyr Registry rules\n\n{sections}\n", encoding="utf-8")


@pytest.mark.slow  # asks in a loop while ingests run: 40 s on a busy 2-core machine
def test_questions_during_reingest_always_see_the_document(tmp_path: Path, settings: Settings, embedder: Embedder) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(shared_doc("wipo-phonograms-convention-1971.md"), folder)
    doc = folder / "zephyr.md"
    _zephyr(doc, 10)
    assistant = Assistant(settings, embedder=embedder)
    assistant.ingest([folder])
    stop = threading.Event()
    errors: list[str] = []
    seen: list[int] = []
    lock = threading.Lock()

    def ask() -> None:
        while not stop.is_set():
            try:
                result = assistant.ask(QUESTION)
                passages = [h.passage for h in result.hits if h.passage.doc_id == "zephyr"]
                # Every answer finds the document, and all its passages come from one version (one figure).
                assert passages, f"no passage of the document in {[h.passage.doc_id for h in result.hits]}"
                figures = {int(p.text.split("records for ")[1].split(" ")[0]) for p in passages if "records for " in p.text}
                assert len(figures) == 1, figures
                assert result.citations and all(c.doc_id == "zephyr" for c in result.citations[:1])
                with lock:
                    seen.append(figures.pop())
            except Exception as exc:  # any failure of a question is what this test looks for
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")

    readers = [threading.Thread(target=ask) for _ in range(4)]
    for t in readers:
        t.start()
    reports = []
    for years in range(11, 17):
        _zephyr(doc, years)
        reports.append(assistant.ingest([folder]))
    time.sleep(0.5)
    stop.set()
    for t in readers:
        t.join(timeout=120)
    assert not errors, errors[:5]
    assert all(r.changed == ["zephyr"] for r in reports)
    assert len(seen) >= 8 and set(seen) <= set(range(10, 17)) and len(set(seen)) >= 2, seen
    store = assistant.store
    # Replaced vectors are gone once each ingest ended: Chroma holds exactly the stored passages.
    assert store.vector_ids() == {r[0] for r in store.db.execute("SELECT passage_id FROM passages")}
    assert assistant.ask(QUESTION).citations[0].quote.count("16 years") == 1


def test_each_thread_has_its_own_connection(settings: Settings, embedder: Embedder) -> None:
    Assistant(settings, embedder=embedder).ingest([DATA / "treaty_sample.md"])
    store = Store(settings)
    mine = store.db
    theirs: list[object] = []
    thread = threading.Thread(target=lambda: theirs.append(store.db))
    thread.start()
    thread.join()
    assert theirs[0] is not mine and store.db is mine
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_generation_moves_with_every_write(settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
    assistant = Assistant(settings, embedder=embedder)
    path = tmp_path / "treaty_sample.md"
    shutil.copy(DATA / "treaty_sample.md", path)
    assistant.ingest([path])
    first = assistant.store.generation()
    assistant.ingest([path])  # nothing changed: nothing written
    assert assistant.store.generation() == first
    assistant.ask("What exceptions may Contracting Parties provide for reading rooms?")  # the vector store is open now
    path.write_text(path.read_text() + "\n### Article 9\n\n(1). A new article.\n")
    assistant.ingest([path])
    assert assistant.store.generation() > first
    assert not assistant.store.refresh()  # its own writes keep this process's client current: nothing to reopen


def test_a_store_notices_another_process_ingest(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings(data_dir=tmp_path / "index")
    folder = tmp_path / "docs"
    folder.mkdir()
    doc = folder / "zephyr.md"
    _zephyr(doc, 10)
    assistant = Assistant(settings, embedder=embedder)
    assistant.ingest([folder])
    assert "10 years" in assistant.ask(QUESTION).citations[0].quote  # this process's Chroma client is open now
    _zephyr(doc, 42)
    env = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "ipqa", "--data-dir", str(settings.data_dir), "ingest", str(folder)],
                         capture_output=True, text=True, timeout=300, env={**env, "PYTHONPATH": ":".join(sys.path)})
    assert out.returncode == 0 and "changed: zephyr" in out.stdout, out.stderr
    result = assistant.ask(QUESTION)  # no restart: the next question reopens what the other process changed
    assert result.citations and "42 years" in result.citations[0].quote, [c.quote for c in result.citations]


def test_relabel_reaches_the_vectors(tmp_path: Path, embedder: Embedder) -> None:
    catalog = tmp_path / "mine.toml"
    entry = '[[source]]\nid = "sample"\nfile = "treaty_sample.md"\ntitle = "Sample Treaty"\njurisdiction = "{j}"\n'
    catalog.write_text(entry.format(j="International"))
    settings = Settings(data_dir=tmp_path / "index", catalog=catalog)
    assistant = Assistant(settings, embedder=embedder)
    assistant.ingest([DATA / "treaty_sample.md"])
    question = "What exceptions may Contracting Parties provide for reading rooms?"
    assert assistant.ask(question, jurisdictions=["International"]).citations
    catalog.write_text(entry.format(j="JP"))
    report = assistant.ingest([DATA / "treaty_sample.md"])
    assert report.relabelled == ["sample"] and report.embedded == 0
    metas = assistant.store.collection.get(include=["metadatas"])["metadatas"]
    assert metas and {m["jurisdiction"] for m in metas} == {"JP"}
    result = assistant.ask(question, jurisdictions=["JP"])  # dense and BM25 filters agree on the new jurisdiction
    assert result.citations and result.hits and {h.passage.doc_id for h in result.hits} == {"sample"}
    assert not assistant.ask(question, jurisdictions=["International"]).hits


def test_bm25_save_switches_whole_directories(tmp_path: Path) -> None:
    folder = tmp_path / "bm25"
    Bm25Index.build([("a", "alpha treaty"), ("b", "bravo treaty")]).save(folder)
    first = Bm25Index.saved_key(folder)
    errors: list[str] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            index = Bm25Index.load(folder)
            if index is None:
                errors.append("missing")
            elif len(index.ids) != index.model.scores["num_docs"]:
                errors.append(f"torn: {len(index.ids)} ids, {index.model.scores['num_docs']} documents")

    reader = threading.Thread(target=read)
    reader.start()
    for n in range(3, 30):
        Bm25Index.build([(f"p{i}", f"word{i} treaty") for i in range(n)]).save(folder)
    stop.set()
    reader.join()
    assert not errors, errors[:3]
    assert folder.is_symlink() and Bm25Index.saved_key(folder) != first
    assert len(Bm25Index.load(folder).ids) == 29
    assert len(list(tmp_path.glob("bm25.*"))) <= 2  # the replaced directories are cleaned up


def test_an_index_made_by_older_code_is_rechunked(tmp_path: Path, settings: Settings, embedder: Embedder) -> None:
    from ipqa import versions
    from ipqa.doctor import OK, WARN, run_checks

    assistant = Assistant(settings, embedder=embedder)
    assistant.ingest([DATA / "treaty_sample.md"])
    current = assistant.store.fingerprint()
    assert [c.status for c in run_checks(settings, embedder) if c.name == "index version"] == [OK]
    # The state an index made by an earlier loader version is in (what ipqa recorded when it ingested the file).
    with assistant.store.db as db:
        db.execute("UPDATE docs SET pipeline='loaders=0;chunker=1;embed_text=1'")
        db.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")  # as every write does
    older = assistant.store.fingerprint()
    assert older != current
    (check,) = [c for c in run_checks(settings, embedder) if c.name == "index version"]
    assert check.status == WARN and "treaty_sample" in check.detail and "run `ipqa ingest`" in check.fix
    report = assistant.ingest([DATA / "treaty_sample.md"])
    assert report.rechunked == ["treaty_sample"] and report.changed == ["treaty_sample"]
    assert report.embedded == 0 and report.reused > 0  # same passage texts: their vectors are kept
    assert "1 re-chunked" in report.summary()
    assert assistant.sources()[0].pipeline == versions.pipeline() and assistant.store.fingerprint() == current
    assert [c.status for c in run_checks(settings, embedder) if c.name == "index version"] == [OK]
    assert not assistant.ingest([DATA / "treaty_sample.md"]).rechunked


def test_bm25_saved_in_place_by_an_earlier_version_is_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "bm25"
    Bm25Index.build([("a", "alpha treaty")]).save(tmp_path / "old")
    (tmp_path / "old").resolve().rename(folder)  # the layout earlier versions wrote: files directly in bm25/
    (tmp_path / "old").unlink()
    assert not folder.is_symlink() and Bm25Index.load(folder).ids == ["a"] and Bm25Index.saved_key(folder).startswith("in-place:")
    Bm25Index.build([("b", "bravo treaty"), ("c", "charlie")]).save(folder)
    assert folder.is_symlink() and Bm25Index.load(folder).ids == ["b", "c"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["bm25", Bm25Index.saved_key(folder)])  # the old directory is gone


def test_a_possessive_is_its_owners_token_in_bm25(tmp_path: Path) -> None:
    """'Japan's' (straight or curly apostrophe) finds a passage about Japan: a possessive is no token of its own."""
    from ipqa.lexical import tokenize

    assert tokenize("Japan's and China’s rules, the authors' rights") == ["japan", "china", "rule", "author", "right"]
    index = Bm25Index.build([("jp", "The Copyright Act of Japan allows data analysis."), ("eu", "The AI Act of the Union.")])
    assert [pid for pid, _ in index.search("What does Japan’s Copyright Act allow?", 2)][0] == "jp"
    assert [pid for pid, _ in index.search("What does Japan's law allow?", 2)] == ["jp"]


def test_the_vector_search_is_wide_on_new_and_older_indexes(settings: Settings) -> None:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from ipqa.store import SEARCH_EF

    # An index made before SEARCH_EF: its collection was created with Chroma's default breadth (ef_search 100).
    settings.index_dir.mkdir(parents=True)
    old = chromadb.PersistentClient(path=str(settings.index_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    old.get_or_create_collection(settings.index_name, metadata={"hnsw:space": "cosine"})
    assert old.get_collection(settings.index_name).configuration["hnsw"]["ef_search"] < SEARCH_EF
    del old
    store = Store(settings, create=True)
    hnsw = store.collection.configuration["hnsw"]
    assert (hnsw["space"], hnsw["ef_search"]) == ("cosine", SEARCH_EF)  # widened when opened, still cosine
    store.close()
    fresh = Settings(data_dir=settings.data_dir.parent / "fresh")
    store = Store(fresh, create=True)
    hnsw = store.collection.configuration["hnsw"]
    assert (hnsw["space"], hnsw["ef_search"]) == ("cosine", SEARCH_EF)  # a new index is made wide
    store.close()


def test_a_closed_compound_the_index_writes_open_is_split_as_written() -> None:
    index = Bm25Index.build([
        ("a", "Deployers of an AI system that generates a deep fake shall disclose that the content is artificial."),
        ("b", "Providers shall mark outputs with a watermark; watermarks must be robust. Water is marked on the map."),
    ])
    assert index.spelled_as_indexed("What does the AI Act say about deepfakes?") == "What does the AI Act say about deep fakes?"
    assert index.search(index.spelled_as_indexed("deepfakes"), 2)[0][0] == "a"
    assert index.search("deepfakes", 2) == []  # what BM25 found before
    # Another form of an indexed word is no compound; a word too short to split or known as it is stays.
    assert index.spelled_as_indexed("Must images be watermarked?") == "Must images be watermarked?"
    assert index.spelled_as_indexed("Deployers disclose artificial outputs") == "Deployers disclose artificial outputs"
    assert Bm25Index.build([]).spelled_as_indexed("deepfakes") == "deepfakes"  # nothing indexed yet
