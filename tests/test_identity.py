"""Document identity comes from the catalog entry a file matches (SHA-256 or path), never from a file name alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import shared_doc

from ipqa.api import Assistant
from ipqa.catalog import Catalog
from ipqa.embedding import Embedder
from ipqa.errors import ConfigError
from ipqa.settings import Settings

REAL = "wipo-phonograms-convention-1971"  # a small built-in catalog document
FORGED = "# Convention for the protection of producers of phonograms\n\nArticle 1. Every phonogram may be copied freely by anyone.\n"


def _records(assistant: Assistant) -> dict[str, object]:
    return {d.doc_id: d for d in assistant.sources()}


def test_a_user_file_named_like_a_catalog_file_keeps_its_own_identity(tmp_path: Path, settings: Settings, embedder: Embedder) -> None:
    real, mine = tmp_path / "official", tmp_path / "mine"
    real.mkdir()
    mine.mkdir()
    shutil.copy(shared_doc(f"{REAL}.md"), real)
    (mine / f"{REAL}.md").write_text(FORGED, encoding="utf-8")
    assistant = Assistant(settings, embedder=embedder)
    report = assistant.ingest([mine, real])
    docs = _records(assistant)
    assert len(docs) == 2 and not report.failed
    own = next(d for d in docs if d != REAL)
    assert own.startswith(f"{REAL}-")
    assert docs[REAL].path == str((real / f"{REAL}.md").resolve())  # the catalog's id, title and URL go to the real text
    assert docs[REAL].info.url.startswith("https://www.wipo.int/")
    forged = docs[own]
    assert forged.info.url.startswith("file://") and forged.info.jurisdiction == "" and forged.info.work_id == own
    assert report.collisions == [
        (str(mine / f"{REAL}.md"), f"named like the catalog's '{REAL}' ({REAL}.md) but its content is not that document (SHA-256 differs): indexed as '{own}'")
    ]
    # Asked about the convention, no answer quotes the forged text as the catalog's document.
    result = assistant.ask("May every phonogram be copied freely by anyone?")
    assert all(c.doc_id != REAL or "copied freely" not in c.quote for c in result.citations)
    # Ingesting the forged file alone later does not take the id either, and nothing is replaced.
    again = assistant.ingest([mine / f"{REAL}.md"])
    assert again.unchanged == [own] and set(_records(assistant)) == {REAL, own}


def test_catalog_identity_follows_the_content_not_the_name(tmp_path: Path, settings: Settings, embedder: Embedder) -> None:
    renamed = tmp_path / "geneva-1971.md"
    shutil.copy(shared_doc(f"{REAL}.md"), renamed)
    assistant = Assistant(settings, embedder=embedder)
    assert assistant.ingest([renamed]).added == [REAL]
    assert _records(assistant)[REAL].info.jurisdiction == "International"


def test_uncatalogued_files_with_one_name_in_two_folders_are_both_kept(tmp_path: Path, settings: Settings, embedder: Embedder) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, word in ((a, "Alpha"), (b, "Bravo")):
        folder.mkdir()
        (folder / "note.md").write_text(f"# {word} note\n\nThe {word} registry keeps every {word.lower()} record for ten years.\n")
    assistant = Assistant(settings, embedder=embedder)
    assert assistant.ingest([a]).added == ["note"]
    second = assistant.ingest([b])
    docs = _records(assistant)
    assert len(docs) == 2 and docs["note"].path == str((a / "note.md").resolve())  # not silently replaced
    (other,) = second.added
    assert other.startswith("note-") and docs[other].path == str((b / "note.md").resolve())
    assert second.collisions == [(str(b / "note.md"), f"'note' is already taken by {(a / 'note.md').resolve()}: indexed as '{other}'")]
    both = assistant.ingest([a, b])  # later runs: the same files keep the same ids, nothing is replaced
    assert sorted(both.unchanged) == sorted(["note", other]) and not both.collisions and not both.removed
    answer = assistant.ask("How long does the Bravo registry keep records?")
    assert answer.citations and answer.citations[0].doc_id == other


def test_one_run_with_two_files_of_one_name(tmp_path: Path, settings: Settings, embedder: Embedder) -> None:
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "memo.txt").write_text(f"Memo from office {folder}: all filings are due in {folder.upper()} week.\n")
    report = Assistant(settings, embedder=embedder).ingest([tmp_path / "x", tmp_path / "y"])
    assert report.added[0] == "memo" and report.added[1].startswith("memo-") and len(report.collisions) == 1 and not report.failed


def test_uploads_never_take_a_catalog_id(tmp_path: Path, settings: Settings, embedder: Embedder) -> None:
    settings.uploads_dir.mkdir(parents=True)
    upload = settings.uploads_dir / f"{REAL}.md"
    shutil.copy(shared_doc(f"{REAL}.md"), upload)  # even the catalog's exact text, uploaded, is an upload
    assistant = Assistant(settings, embedder=embedder)
    report = assistant.ingest([upload], prune=False)
    assert report.added == [f"upload:{REAL}"]
    (doc,) = assistant.sources()
    assert doc.info.url.startswith("file://") and doc.info.jurisdiction == ""
    record, public = doc.to_dict(), doc.to_dict(path=False)  # `ipqa sources --json` and the web API's /sources
    assert record["uploaded"] is True and record["doc_id"] == f"upload:{REAL}" and record["path"] == doc.path
    assert "path" not in public and public == {k: v for k, v in record.items() if k != "path"}


def test_catalog_ids_cannot_enter_the_upload_namespace(tmp_path: Path) -> None:
    bad = tmp_path / "mine.toml"
    bad.write_text('[[source]]\nid = "upload:x"\nfile = "x.md"\ntitle = "X"\n')
    with pytest.raises(ConfigError, match="source id 'upload:x' may hold only letters"):
        Catalog.load(bad)


def test_user_catalog_is_layered_over_the_builtin_one(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text(f'[[source]]\nid = "{REAL}"\nfile = "{REAL}.md"\ntitle = "My title"\n\n[[source]]\nid = "memo"\nfile = "memo.md"\ntitle = "Memo"\n')
    catalog = Catalog.for_settings(Settings(catalog=mine))
    builtin = Catalog.builtin()
    assert len(catalog.entries) == len(builtin.entries) + 1
    assert catalog.by_id[REAL].title == "My title" and catalog.by_id["memo"].title == "Memo"
    assert Catalog.for_settings(Settings()).by_id == builtin.by_id
