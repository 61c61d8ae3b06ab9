"""The programmatic API of `ipqa serve` (issue #16 item 4): named endpoints /ask, /compare, /sources used through
`gradio_client` against a real server on a free loopback port, behind the page's password."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest
from conftest import ROOT, shared_doc, stop_process
from test_reliability_serve import IPQA, free_port, wait_for_port

from ipqa.api import Assistant
from ipqa.embedding import Embedder
from ipqa.settings import Settings

pytestmark = pytest.mark.slow

USER, PASSWORD = "analyst", "api password 16"
WCT = "wipo-copyright-treaty-wct-1996"
COMMENTARY = "wipo-japan-ai-ip-2026-commentary"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[tuple[str, Settings]]:
    """`ipqa serve` with IPQA_AUTH over the WCT (International) and the commentary (JP)."""
    base = tmp_path_factory.mktemp("api")
    settings = Settings(data_dir=base / "index")
    report = Assistant(settings, embedder=embedder).ingest([shared_doc(f"{WCT}.md"), shared_doc(f"{COMMENTARY}.txt")])
    assert not report.failed, report.failed
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "IPQA_DATA_DIR": str(settings.data_dir), "IPQA_AUTH": f"{USER}:{PASSWORD}",
           "GRADIO_TEMP_DIR": str(base / "gradio"), "NO_PROXY": "*"}
    env.pop("IPQA_HOST", None)
    log = base / "serve.log"
    with open(log, "w") as sink:
        child = subprocess.Popen([IPQA, "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, child, log=log)
        yield f"http://127.0.0.1:{port}/", settings
    finally:
        stop_process(child, timeout=5)


def client(url: str, auth: tuple[str, str] | None = (USER, PASSWORD)):  # type: ignore[no-untyped-def]
    from gradio_client import Client

    return Client(url, auth=auth, verbose=False, download_files=False)


def test_endpoints_are_listed(server: tuple[str, Settings]) -> None:
    api = client(server[0]).view_api(print_info=False, return_format="dict")
    named = set(api["named_endpoints"])
    assert {"/ask", "/compare", "/sources"} <= named, named
    assert [p["parameter_name"] for p in api["named_endpoints"]["/ask"]["parameters"]] == ["question", "jurisdictions", "documents", "top_k", "engine"]


def test_ask_returns_a_cited_answer_record(server: tuple[str, Settings]) -> None:
    url, settings = server
    record = client(url).predict("Are computer programs protected as literary works?", None, None, 4, None, api_name="/ask")
    assert record["kind"] == "answered" and record["citations"], record
    sha = {d.doc_id: d.sha256 for d in Assistant(settings).sources()}
    for c in record["citations"]:
        assert c["doc_id"] == WCT and c["sha256"] == sha[WCT]
        assert c["quote"] and c["end"] - c["start"] == len(c["quote"])
    restricted = client(url).predict("Are computer programs protected as literary works?", ["JP"], None, None, None, api_name="/ask")
    assert all(c["doc_id"] == COMMENTARY for c in restricted["citations"])
    assert all(h["doc_id"] == COMMENTARY for h in restricted["hits"])


def test_compare_and_sources(server: tuple[str, Settings]) -> None:
    api = client(server[0])
    result = api.predict("Are computer programs protected as literary works?", None, None, None, None, None, api_name="/compare")
    assert [g["label"] for g in result["groups"]] == ["JP", "International"]
    international = result["groups"][1]
    assert international["answered"] and international["record"]["citations"][0]["doc_id"] == WCT
    sources = api.predict(api_name="/sources")
    assert sorted(s["doc_id"] for s in sources) == sorted([WCT, COMMENTARY])


def test_a_bad_request_gets_a_clear_error(server: tuple[str, Settings]) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="No document 'nope' in the index"):
        client(server[0]).predict("What is a work?", documents=["nope"], api_name="/compare")


def test_the_api_needs_the_password(server: tuple[str, Settings]) -> None:
    with pytest.raises(Exception) as refused:  # noqa: B017 — gradio_client cannot even read the API without logging in
        client(server[0], auth=None).predict("What is a work?", api_name="/ask")
    assert "401" in str(refused.value) or "login" in str(refused.value).lower() or "auth" in str(refused.value).lower(), refused.value
    with pytest.raises(Exception):  # noqa: B017 — a wrong password fails the login, whatever the exception class
        client(server[0], auth=(USER, "wrong"))
