"""Crash safety (issue #6): an ingest killed at any point is finished by the next one, with exactly
the passages a clean ingest gives; two ingests at once are refused with a message, not interleaved."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import ROOT, shared_doc

from ipqa.api import Assistant
from ipqa.cli import cli
from ipqa.doctor import FAIL, OK, run_checks
from ipqa.embedding import Embedder
from ipqa.errors import IngestLockedError
from ipqa.ingest import ingest
from ipqa.lexical import Bm25Index
from ipqa.settings import Settings
from ipqa.store import Store

pytestmark = pytest.mark.slow  # ingests 151 documents three times, in child processes

N_NOTES = 150  # with the real document: three write groups (64 documents at most each), so a kill lands between or inside them
IPQA = str(Path(sys.executable).parent / "ipqa")

# Runs the real ingest in a child process and dies (os._exit, as hard as SIGKILL) at one precise
# point: a group's vectors are in Chroma but its bookkeeping transaction has not committed. The hook
# is SQLite's statement trace on the store's own connection; no ipqa code is replaced.
CRASH_BEFORE_BOOKKEEPING = """
import os, sqlite3, sys
from pathlib import Path
from ipqa.ingest import ingest
from ipqa.settings import Settings
from ipqa.store import Store

settings = Settings(data_dir=Path(sys.argv[1]))
store = Store(settings, create=True)
probe = sqlite3.connect(store.db_path)

def crash(sql):
    # A group's bookkeeping starts with this statement; die there once an earlier group is recorded.
    if sql.startswith("DELETE FROM passages WHERE doc_id") and probe.execute("SELECT COUNT(*) FROM passages").fetchone()[0]:
        os._exit(137)

store.db.set_trace_callback(crash)
ingest([Path(p) for p in sys.argv[2:]], settings, store=store)
sys.exit("finished without crashing")
"""


def _notes(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(N_NOTES):
        (folder / f"licence-{i:03d}.md").write_text(
            f"# Licence {i}\n\nLicence {i} lets the archive digitise collection {i * 3} and show it on site terminals. "
            f"It expires after {i % 17 + 2} years.\n"
        )
    return folder


def _state(settings: Settings) -> dict[str, object]:
    """Everything that must match a clean ingest: documents, passages per document, vectors."""
    store = Store(settings)
    docs = {d.doc_id: (d.sha256, d.n_passages) for d in store.docs()}
    rows = store.db.execute("SELECT passage_id, doc_id FROM passages ORDER BY doc_id, seq").fetchall()
    got = store.collection.get(include=["metadatas"], limit=100_000)
    vector_docs = {pid: meta["doc_id"] for pid, meta in zip(got["ids"], got["metadatas"])}
    assert len(got["ids"]) == len(set(got["ids"])) == store.collection.count(), "duplicate vectors"
    assert len(rows) == len({pid for pid, _ in rows}), "duplicate passages"
    assert vector_docs == dict(rows), "orphans: Chroma ids and SQLite passage ids differ"
    assert {doc: n for doc, (_, n) in docs.items()} == {doc: sum(1 for _, d in rows if d == doc) for doc in docs}
    assert store.db.execute("SELECT COUNT(*) FROM pending").fetchone()[0] == 0
    assert store.bm25_in_sync()
    return {"docs": docs, "passages": rows}


def _vectors(settings: Settings) -> dict[str, np.ndarray]:
    got = Store(settings).collection.get(include=["embeddings"], limit=100_000)
    return dict(zip(got["ids"], np.asarray(got["embeddings"])))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A large-ish run: 150 generated notes plus a real document."""
    folder = _notes(tmp_path_factory.mktemp("crash") / "notes")
    return [shared_doc("wipo-japan-ai-ip-2026-commentary.txt"), folder]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory, corpus: list[Path], embedder: Embedder) -> Settings:
    """The same files ingested once without interruption: the reference."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("clean") / "index")
    report = ingest(corpus, settings, embedder=embedder)
    assert len(report.added) == N_NOTES + 1 and not report.failed
    return settings


def _count(db: Path, table: str) -> int:
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_sigkill_mid_ingest_then_rerun(tmp_path: Path, corpus: list[Path], clean: Settings, embedder: Embedder) -> None:
    settings = Settings(data_dir=tmp_path / "index")
    expected = _state(clean)
    child = subprocess.Popen(
        [IPQA, "--data-dir", str(settings.data_dir), "ingest", *map(str, corpus)], cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    db = settings.index_dir / "state.sqlite"
    deadline = time.monotonic() + 300
    while _count(db, "passages") == 0:
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the ingest wrote nothing in 5 minutes"
        time.sleep(0.02)
    # While it runs, a second ingest is refused at once instead of interleaving its writes.
    with pytest.raises(IngestLockedError, match=r"^Another ingest is running on .* — wait for it to finish and try again\.$"):
        ingest(corpus, settings, embedder=embedder)
    # Aim the kill at the next group's write (vectors going into Chroma), the most delicate moment;
    # should that window pass unseen, the kill lands in the third group.
    first, aim = _count(db, "passages"), time.monotonic() + 120
    while _count(db, "pending") == 0 and _count(db, "passages") == first and time.monotonic() < aim and child.poll() is None:
        time.sleep(0.005)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    written = _count(db, "passages")
    assert 0 < written < len(expected["passages"]), "killed mid-way"
    pending = [r[0] for r in sqlite3.connect(db).execute("SELECT doc_id FROM pending")]

    rerun = Assistant(settings, embedder=embedder).ingest(corpus)
    assert sorted(rerun.recovered) == sorted(pending) and not rerun.failed
    assert _state(settings) == expected
    clean_vectors, vectors = _vectors(clean), _vectors(settings)
    assert all(np.allclose(vectors[pid], clean_vectors[pid], atol=1e-5) for pid in clean_vectors)
    result = Assistant(settings, embedder=embedder).ask("What does licence 77 let the archive do?")
    assert result.answered and result.citations[0].doc_id == "licence-077" and "collection 231" in result.citations[0].quote
    print(f"\nSIGKILL after {written} of {len(expected['passages'])} passages ({len(pending)} documents mid-write); rerun recovered them")


def test_crash_between_vector_write_and_bookkeeping(tmp_path: Path, corpus: list[Path], clean: Settings, embedder: Embedder) -> None:
    settings = Settings(data_dir=tmp_path / "index")
    script = tmp_path / "crash.py"
    script.write_text(CRASH_BEFORE_BOOKKEEPING)
    out = subprocess.run(
        [sys.executable, str(script), str(settings.data_dir), *map(str, corpus)], cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 137, out.stderr[-2000:]

    # The crashed state: vectors without bookkeeping, each such document marked pending.
    store = Store(settings)
    recorded = {r[0] for r in store.db.execute("SELECT passage_id FROM passages")}
    pending = {r[0] for r in store.db.execute("SELECT doc_id FROM pending")}
    orphans = store.vector_ids() - recorded
    assert recorded and orphans and pending
    got = store.collection.get(ids=sorted(orphans), include=["metadatas"])
    assert {m["doc_id"] for m in got["metadatas"]} == pending
    checks = run_checks(settings, embedder)
    assert {c.name for c in checks if c.status == FAIL} == {"crash records", "orphans", "bm25"}
    del store

    # The command a user would run next says what it did.
    rerun = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "ingest", *map(str, corpus)])
    assert rerun.exit_code == 0, rerun.output
    assert {line for line in rerun.output.splitlines() if line.startswith("recovered: ")} == {
        f"recovered: {doc} (an earlier ingest was interrupted; re-ingested)" for doc in pending
    }
    assert _state(settings) == _state(clean)
    assert {c.status for c in run_checks(settings, embedder)} == {OK}
    result = Assistant(settings, embedder=embedder).ask("What does licence 93 let the archive do?")
    assert result.answered and result.citations[0].doc_id == "licence-093"
    print(f"\ncrash before bookkeeping: {len(orphans)} orphan vectors of {len(pending)} pending documents, recovered on rerun")


def test_second_ingest_is_refused_with_a_message(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings(data_dir=tmp_path / "index")
    doc = shared_doc("wipo-japan-ai-ip-2026-commentary.txt")
    with Store(settings, create=True).lock():
        out = subprocess.run([IPQA, "--data-dir", str(settings.data_dir), "ingest", str(doc)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert out.stderr.strip() == f"Error: Another ingest is running on {settings.index_dir} — wait for it to finish and try again."
    assert Store(settings).docs() == [], "the refused ingest wrote nothing"
    report = ingest([doc], settings, embedder=embedder)
    assert report.added == ["wipo-japan-ai-ip-2026-commentary"], "the lock is free once the first one ends"


def test_stale_keyword_index_is_rebuilt(tmp_path: Path, corpus: list[Path], clean: Settings, embedder: Embedder) -> None:
    """A crash after the bookkeeping commit but before the BM25 rebuild leaves BM25 behind: the next ingest rebuilds it."""
    settings = Settings(data_dir=tmp_path / "index")
    notes = corpus[1]
    first = sorted(notes.iterdir())[:10]
    ingest(first, settings, embedder=embedder)
    old = Bm25Index.load(settings.index_dir / "bm25")
    ingest(first + sorted(notes.iterdir())[10:12], settings, embedder=embedder)
    old.save(settings.index_dir / "bm25")  # the state such a crash leaves: passages of 12 notes, BM25 of 10
    assert not Store(settings).bm25_in_sync()
    report = ingest(first + sorted(notes.iterdir())[10:12], settings, embedder=embedder)
    assert len(report.unchanged) == 12 and report.embedded == 0
    store = Store(settings)
    assert store.bm25_in_sync()
    assert {store.passages([pid])[pid].doc_id for pid, _ in store.bm25.search("licence 11 collection 33", 3)} >= {"licence-011"}
