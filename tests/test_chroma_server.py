"""Chroma server mode: a real `chroma run` on a free loopback port, driven through `Assistant`."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import shared_doc, stop_process

from ipqa.api import Assistant
from ipqa.embedding import Embedder
from ipqa.errors import ConfigError
from ipqa.settings import Settings

pytestmark = pytest.mark.slow  # starts a `chroma run` server

DOCS = ["wipo-copyright-treaty-wct-1996.md", "wipo-phonograms-convention-1971.md", "wipo-japan-ai-ip-2026-commentary.txt"]


def free_port() -> int:
    """A TCP port nobody listens on right now (127.0.0.1)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chroma_command() -> list[str]:
    """The `chroma` script installed beside this interpreter by the chromadb package."""
    script = Path(sys.executable).parent / "chroma"
    if script.exists():
        return [str(script)]
    found = shutil.which("chroma")
    assert found, "the chromadb package's `chroma` command is not installed"
    return [found]


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    """A Chroma server of our own, stopped (and its data left in tmp_path) after the test."""
    port = free_port()
    log_path = tmp_path / "chroma.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [*chroma_command(), "run", "--path", str(tmp_path / "chroma-server"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"chroma run exited with {proc.returncode}:\n{log_path.read_text()[-2000:]}"
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"chroma run did not answer within 60 s:\n{log_path.read_text()[-2000:]}"
            time.sleep(0.2)
        yield url
    finally:
        stop_process(proc, timeout=10)


def server_ids(url: str, settings: Settings) -> set[str]:
    """Ids the server holds in this index's collection (asked over HTTP, not through ipqa)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    port = int(url.rsplit(":", 1)[1])
    client = chromadb.HttpClient(host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False))
    return set(client.get_collection(settings.index_name).get(include=[])["ids"])


def stored_ids(assistant: Assistant) -> set[str]:
    """Passage ids in the local bookkeeping."""
    return {p.passage_id for d in assistant.sources() for p in assistant.passages(d.doc_id)}


def test_ingest_ask_reingest_remove_against_a_chroma_server(chroma_url: str, tmp_path: Path, embedder: Embedder) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in DOCS:
        shutil.copy(shared_doc(name), folder / name)
    # The commentary is edited below: an entry of our own without a digest keeps its catalog id for the edited file
    # (a built-in entry names the published text's SHA-256, which an edited copy no longer has).
    catalog = tmp_path / "sources.toml"
    catalog.write_text('[[source]]\nid = "wipo-japan-ai-ip-2026-commentary"\nfile = "wipo-japan-ai-ip-2026-commentary.txt"\ntitle = "Commentary"\n')
    settings = Settings(data_dir=tmp_path / "index", chroma_url=chroma_url, catalog=catalog)
    assistant = Assistant(settings, embedder=embedder)

    first = assistant.ingest([folder])
    assert not first.failed, first.failed
    assert sorted(first.added) == ["wipo-copyright-treaty-wct-1996", "wipo-japan-ai-ip-2026-commentary", "wipo-phonograms-convention-1971"]
    # The vectors went to the server: no embedded Chroma beside the bookkeeping, same ids on both sides.
    assert not (settings.index_dir / "chroma").exists()
    ids = stored_ids(assistant)
    assert len(ids) == first.embedded > 0
    assert server_ids(chroma_url, settings) == ids

    result = assistant.ask("Are computer programs protected as literary works under the WIPO Copyright Treaty?")
    assert result.answered, result.text
    assert result.citations[0].doc_id == "wipo-copyright-treaty-wct-1996"
    assert result.citations[0].section.startswith("Article 4")

    # Re-ingest of unchanged files: nothing embedded, the server's collection is unchanged.
    calls = embedder.calls
    again = assistant.ingest([folder])
    assert sorted(again.unchanged) == sorted(first.added) and not (again.added or again.changed or again.removed)
    assert again.embedded == 0 and embedder.calls == calls
    assert server_ids(chroma_url, settings) == ids

    # A changed file: its unchanged passages reuse the vectors read back from the server.
    commentary = folder / "wipo-japan-ai-ip-2026-commentary.txt"
    commentary.write_text(commentary.read_text(encoding="utf-8") + "\n\nA closing remark added for the server-mode test.\n", encoding="utf-8")
    changed = assistant.ingest([folder])
    assert changed.changed == ["wipo-japan-ai-ip-2026-commentary"]
    assert changed.reused > 0 and changed.embedded < changed.reused
    ids = stored_ids(assistant)
    assert server_ids(chroma_url, settings) == ids

    # Remove: the passages leave the server too and are no longer cited.
    removed = assistant.remove("wipo-phonograms-convention-1971")
    assert removed > 0
    remaining = server_ids(chroma_url, settings)
    assert remaining == stored_ids(assistant) and len(remaining) == len(ids) - removed
    after = assistant.ask("What protection does the Phonograms Convention give producers of phonograms against unauthorized duplicates?")
    assert all(c.doc_id != "wipo-phonograms-convention-1971" for c in after.citations)

    # A fresh process-like Assistant on the same settings finds the same index through the server.
    reopened = Assistant(settings, embedder=embedder)
    assert reopened.ask("Are computer programs protected as literary works under the WIPO Copyright Treaty?").answered


def test_unreachable_chroma_server_is_one_clear_error(tmp_path: Path, embedder: Embedder) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    settings = Settings(data_dir=tmp_path / "index", chroma_url=url)
    with pytest.raises(ConfigError, match=f"Cannot reach the Chroma server at {url}"):
        Assistant(settings, embedder=embedder).ingest([shared_doc("wipo-japan-ai-ip-2026-commentary.txt")])
