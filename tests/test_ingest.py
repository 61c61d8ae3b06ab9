"""Incremental ingest over a real Chroma and the real model: idempotent, replaces, prunes, reports."""

import shutil
from pathlib import Path

from conftest import DATA, shared_doc

from ipqa.api import Assistant
from ipqa.embedding import Embedder
from ipqa.settings import Settings


def _state(assistant: Assistant) -> tuple[list[str], set[str]]:
    store = assistant.store
    ids = sorted(p.passage_id for d in store.docs() for p in store.doc_passages(d.doc_id))
    return ids, store.vector_ids()


def test_reingest_is_idempotent_and_changes_replace_and_removals_prune(tmp_path: Path, settings: Settings, embedder: Embedder) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(shared_doc("wipo-phonograms-convention-1971.md"), folder)
    shutil.copy(DATA / "treaty_sample.md", folder)
    assistant = Assistant(settings, embedder=embedder)

    first = assistant.ingest([folder])
    assert sorted(first.added) == ["treaty_sample", "wipo-phonograms-convention-1971"] and not first.failed
    ids, vectors = _state(assistant)
    assert len(ids) == len(set(ids)) == len(vectors) and set(ids) == vectors

    calls = embedder.calls
    again = assistant.ingest([folder])
    assert sorted(again.unchanged) == ["treaty_sample", "wipo-phonograms-convention-1971"]
    assert again.embedded == 0 and embedder.calls == calls
    assert _state(assistant) == (ids, vectors)

    sample = folder / "treaty_sample.md"
    sample.write_text(sample.read_text().replace("seventy-three years", "eighty-one years"))
    changed = assistant.ingest([folder])
    assert changed.changed == ["treaty_sample"] and changed.unchanged == ["wipo-phonograms-convention-1971"]
    assert 0 < changed.embedded < len(assistant.passages("treaty_sample")) + 1
    texts = " ".join(p.text for p in assistant.passages("treaty_sample"))
    assert "eighty-one years" in texts and "seventy-three" not in texts
    new_ids, new_vectors = _state(assistant)
    assert set(new_ids) == new_vectors
    assert assistant.ask("How long is the term of protection for sample works under the Sample Treaty?").citations[0].quote.count("eighty-one")

    sample.unlink()
    removed = assistant.ingest([folder])
    assert removed.removed == ["treaty_sample"]
    ids, vectors = _state(assistant)
    assert set(ids) == vectors and all(not i.startswith("treaty") for i in ids)
    assert [d.doc_id for d in assistant.sources()] == ["wipo-phonograms-convention-1971"]
    assert assistant.store.bm25 is not None and len(assistant.store.bm25.ids) == len(ids)


def test_bad_files_are_reported_while_the_rest_ingest(tmp_path: Path, settings: Settings, embedder: Embedder) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    for name in ("empty.txt", "corrupt.pdf", "binary.txt", "treaty_sample.md"):
        shutil.copy(DATA / name, folder)
    (folder / "notes.docx").write_bytes(b"PK\x03\x04")
    report = Assistant(settings, embedder=embedder).ingest([folder])
    failed = dict(report.failed)
    assert report.added == ["treaty_sample"]
    assert failed[str(folder / "empty.txt")] == "empty file (no text)"
    assert failed[str(folder / "corrupt.pdf")].startswith("corrupt or unreadable PDF")
    assert failed[str(folder / "binary.txt")].startswith("binary file, not text")
    assert dict(report.skipped)[str(folder / "notes.docx")] == "unsupported file type '.docx'"


def test_broken_new_version_keeps_the_stored_one(tmp_path: Path, settings: Settings, embedder: Embedder) -> None:
    path = tmp_path / "treaty_sample.md"
    shutil.copy(DATA / "treaty_sample.md", path)
    assistant = Assistant(settings, embedder=embedder)
    assistant.ingest([path])
    before = _state(assistant)
    path.write_bytes(b"")
    report = assistant.ingest([path])
    assert report.failed == [(str(path), "empty file (no text)")]
    assert _state(assistant) == before


def test_catalog_edits_apply_without_reembedding(tmp_path: Path, embedder: Embedder) -> None:
    catalog = tmp_path / "sources.toml"
    entry = '[[source]]\nid = "sample"\nfile = "treaty_sample.md"\ntitle = "{title}"\njurisdiction = "International"\nurl = "https://example.org/sample"\n'
    catalog.write_text(entry.format(title="Sample Treaty"))
    settings = Settings(data_dir=tmp_path / "index", catalog=catalog)
    assistant = Assistant(settings, embedder=embedder)
    assert assistant.ingest([DATA / "treaty_sample.md"]).added == ["sample"]
    catalog.write_text(entry.format(title="Sample Treaty on Test Matters (1999)"))
    calls = embedder.calls
    report = assistant.ingest([DATA / "treaty_sample.md"])
    assert report.relabelled == ["sample"] and report.unchanged == ["sample"] and embedder.calls == calls
    assert assistant.sources()[0].info.title == "Sample Treaty on Test Matters (1999)"
