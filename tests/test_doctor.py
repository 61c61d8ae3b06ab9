"""`ipqa doctor`: a healthy index passes; a deliberately broken one fails with what to fix; `--fix` repairs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ipqa.api import Assistant
from ipqa.cli import cli
from ipqa.doctor import FAIL, OK, WARN, run_checks
from ipqa.embedding import Embedder
from ipqa.lexical import Bm25Index
from ipqa.settings import Settings
from ipqa.store import Store

NOTES = {
    "licensing.md": "# Licensing\n\nAuthors keep the copyright in their articles and grant the publisher a non-exclusive licence to publish.\n",
    "patents.md": "# Patents\n\nInventions made with institute resources are disclosed to the technology transfer office within sixty days.\n",
    "data.md": "# Research data\n\nResearch data is deposited in an open repository unless personal data or trade secrets prevent it.\n",
}


def _status(checks: list, name: str) -> set[str]:  # type: ignore[type-arg]
    return {c.status for c in checks if c.name == name}


def _ids(settings: Settings) -> tuple[set[str], set[str]]:
    store = Store(settings)
    return {r[0] for r in store.db.execute("SELECT passage_id FROM passages")}, store.vector_ids()


@pytest.fixture
def indexed(tmp_path: Path, settings: Settings, embedder: Embedder) -> tuple[Settings, Path]:
    """A three-document index built from files in tmp_path."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in NOTES.items():
        (folder / name).write_text(text, encoding="utf-8")
    report = Assistant(settings, embedder=embedder).ingest([folder])
    assert sorted(report.added) == ["data", "licensing", "patents"] and not report.failed
    return settings, folder


def test_healthy_index_passes(indexed: tuple[Settings, Path], embedder: Embedder) -> None:
    settings, _ = indexed
    checks = run_checks(settings, embedder)
    assert [c.status for c in checks] == [OK] * len(checks), [c.line() for c in checks]
    assert {c.name for c in checks} >= {"model", "catalog", "index", "crash records", "orphans", "bm25", "catalog vs index", "files"}


def test_cli_exit_codes_and_messages(indexed: tuple[Settings, Path], tmp_path: Path) -> None:
    settings, _ = indexed
    ok = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "doctor"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.splitlines()[0] == "ok   model: bundled:all-MiniLM-L6-v2 loads offline (384 dimensions)"
    assert ok.output.splitlines()[-1] == "0 problems, 0 warnings"

    missing = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "nowhere"), "doctor"])
    assert missing.exit_code == 1
    assert f"FAIL index: No index yet at {tmp_path / 'nowhere'} — run `ipqa ingest corpus/` first." in missing.output
    assert missing.output.splitlines()[-1] == "1 problem, 0 warnings — see the fixes above"


def test_broken_index_is_diagnosed_then_fixed(indexed: tuple[Settings, Path], embedder: Embedder) -> None:
    settings, folder = indexed
    passages, vectors = _ids(settings)
    assert passages == vectors
    store = Store(settings)
    # Break it the ways a crash or a hand edit would: a vector without bookkeeping, a passage
    # without its vector, a crash record, a stale keyword index, a file edited after ingest.
    store.collection.add(ids=["ghost-passage"], embeddings=[[0.1] * 384], metadatas=[{"document_id": "ghost", "doc_id": "ghost"}], documents=["boo"])
    lost = store.db.execute("SELECT passage_id FROM passages WHERE doc_id='patents'").fetchone()[0]
    store.collection.delete(ids=[lost])
    store.mark_pending("licensing")
    Bm25Index.build([("only-one", "text")]).save(store.dir / "bm25")
    (folder / "data.md").write_text(NOTES["data.md"] + "\nAmended.\n", encoding="utf-8")

    checks = run_checks(settings, embedder)
    lines = "\n".join(c.line() for c in checks)
    assert _status(checks, "crash records") == {FAIL}
    assert "FAIL crash records: an ingest was interrupted while writing: licensing" in lines
    assert "FAIL orphans: 1 vectors in Chroma have no passage record\n     fix: run `ipqa doctor --fix` (deletes them)" in lines
    assert "FAIL orphans: 1 passages have no vector (documents: patents)" in lines
    assert "FAIL bm25: keyword index (BM25) is missing or out of date" in lines
    assert "warn files: file changed since ingest: data" in lines

    fixed = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "doctor", "--fix"])
    assert "fixed: dropped licensing (interrupted write) — ingest its file again" in fixed.output
    assert "fixed: deleted 1 orphan vectors" in fixed.output
    assert f"fixed: dropped patents (passages without vectors) — run `ipqa ingest {folder / 'patents.md'}`" in fixed.output
    assert fixed.exit_code == 0, fixed.output
    assert fixed.output.splitlines()[-1] == "0 problems, 1 warning"

    # The advice works: ingesting the folder again restores every document, and all checks pass.
    report = Assistant(settings, embedder=embedder).ingest([folder])
    assert sorted(report.added) == ["licensing", "patents"] and report.changed == ["data"]
    after = run_checks(settings, embedder)
    assert {c.status for c in after} == {OK}, [c.line() for c in after]
    passages_after, vectors_after = _ids(settings)
    assert passages_after == vectors_after and len(passages_after) == len(passages)


def test_unreadable_bookkeeping(indexed: tuple[Settings, Path], embedder: Embedder) -> None:
    settings, _ = indexed
    db = settings.index_dir / "state.sqlite"
    for extra in ("-wal", "-shm"):
        Path(f"{db}{extra}").unlink(missing_ok=True)
    db.write_bytes(b"this is not a database" * 100)
    checks = run_checks(settings, embedder)
    bad = [c for c in checks if c.status == FAIL]
    assert len(bad) == 1 and bad[0].name == "index"
    assert bad[0].detail.startswith(f"{db} is unreadable (file is not a database)")
    assert bad[0].fix.startswith(f"delete {settings.index_dir} and run `ipqa ingest corpus/`")


def test_catalog_problems(indexed: tuple[Settings, Path], tmp_path: Path, embedder: Embedder) -> None:
    settings, folder = indexed
    duplicated = tmp_path / "dup.toml"
    duplicated.write_text('[[source]]\nid = "a"\nfile = "x.md"\ntitle = "X"\n\n[[source]]\nid = "a"\nfile = "y.md"\ntitle = "Y"\n')
    checks = run_checks(settings.model_copy(update={"catalog": duplicated}), embedder)
    assert [c.line() for c in checks if c.name == "catalog"] == [
        f"FAIL catalog: {duplicated}: id used by more than one source: a\n     fix: make each id unique in {duplicated}"
    ]
    broken = tmp_path / "broken.toml"
    broken.write_text("[[source]\n")
    checks = run_checks(settings.model_copy(update={"catalog": broken}), embedder)
    assert _status(checks, "catalog") == {FAIL}

    # A catalog entry that now gives an indexed file another id: the index no longer matches.
    renamed = tmp_path / "renamed.toml"
    renamed.write_text('[[source]]\nid = "open-licensing-policy"\nfile = "licensing.md"\ntitle = "Licensing policy"\n')
    checks = run_checks(settings.model_copy(update={"catalog": renamed}), embedder)
    assert [c.line() for c in checks if c.name == "catalog vs index"] == [
        "FAIL catalog vs index: indexed under another id than the catalog gives: licensing (catalog: open-licensing-policy)\n"
        "     fix: run `ipqa ingest` on those files again (the file takes its catalog id, the old record goes)"
    ]
    moved = settings.model_copy(update={"catalog": renamed, "data_dir": tmp_path / "renamed-index"})
    Assistant(moved.model_copy(update={"catalog": None}), embedder=embedder).ingest([folder])
    report = Assistant(moved, embedder=embedder).ingest([folder])  # the advice works: the old record goes
    assert "open-licensing-policy" in report.added and "licensing" in report.removed
    assert [c.status for c in run_checks(moved, embedder) if c.name == "catalog vs index"] == [OK]
    # Same id, new title: a warning (answers still work, with the old title).
    drifted = tmp_path / "drifted.toml"
    drifted.write_text('[[source]]\nid = "licensing"\nfile = "licensing.md"\ntitle = "Open licensing policy"\n')
    relabel = settings.model_copy(update={"catalog": drifted})
    checks = run_checks(relabel, embedder)
    assert [c.line() for c in checks if c.name == "catalog vs index"] == [
        "warn catalog vs index: catalog metadata changed since ingest: licensing\n"
        "     fix: run `ipqa ingest` on those files again (catalog edits apply without re-embedding)"
    ]
    Assistant(relabel, embedder=embedder).ingest([folder / "licensing.md"])  # the advice works
    assert [c.status for c in run_checks(relabel, embedder) if c.name == "catalog vs index"] == [OK]


def test_model_that_cannot_load(indexed: tuple[Settings, Path]) -> None:
    settings, _ = indexed
    checks = run_checks(settings.model_copy(update={"embed_model": "no-such-model"}))
    model = [c for c in checks if c.name == "model"]
    assert model[0].status == FAIL and "no-such-model" in model[0].detail and model[0].fix
    assert WARN not in _status(checks, "model")
