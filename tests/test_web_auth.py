"""Web access (issue #14 item 7, #13 item 9): users from IPQA_AUTH_FILE with scrypt hashes and roles, throttled
failed logins, every route behind the login, no public bind without auth, uploads failing one file at a time,
no server paths on the page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import httpx
import pytest
from conftest import ROOT, shared_doc, stop_process
from gradio.data_classes import FileData, ListFiles
from test_hostile_files import WordEmbedder
from test_reliability_serve import free_port, wait_for_port

from ipqa import ui
from ipqa.api import Assistant
from ipqa.embedding import Embedder
from ipqa.errors import ConfigError
from ipqa.settings import Settings
from ipqa.webauth import PUBLIC_PATHS, PUBLIC_PREFIXES, READ_ONLY_MESSAGE, LoginThrottle, hash_password, parse_users_file, verify_password

IPQA = [sys.executable, "-m", "ipqa"]
ADMIN, ADMIN_PW, READER, READER_PW = "ann", "correct horse battery", "rob", "staple reader"


def _users_file(folder: Path) -> Path:
    path = folder / "users"
    path.write_text(f"# web users\n{ADMIN}:admin:{hash_password(ADMIN_PW)}\n\n{READER}:reader:{hash_password(READER_PW)}\n")
    return path


def test_password_hashes_and_users_file(tmp_path: Path) -> None:
    stored = hash_password("s3cret")
    assert stored.startswith("scrypt$16384$8$1$") and "s3cret" not in stored
    assert verify_password("s3cret", stored) and not verify_password("s3cret ", stored) and not verify_password("s3cret", "bogus")
    assert hash_password("s3cret") != stored, "salted"
    users = parse_users_file(_users_file(tmp_path))
    assert {n: u.role for n, u in users.items()} == {ADMIN: "admin", READER: "reader"}
    assert users[READER].check(READER_PW) and not users[READER].check(ADMIN_PW)
    bad = tmp_path / "bad"
    bad.write_text(f"{ADMIN}:admin:{hash_password('x')}\nbob:superuser:{hash_password('y')}\n")
    with pytest.raises(ConfigError, match=r"bad, line 2: expected `name:role:hash` with role admin or reader"):
        parse_users_file(bad)


def test_hash_password_cli_makes_a_line_that_verifies() -> None:
    out = subprocess.run([*IPQA, "hash-password", "--user", "eve", "--role", "reader"], input="pw one\npw one\n", capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    name, role, stored = out.stdout.strip().split(":", 2)
    assert (name, role) == ("eve", "reader") and verify_password("pw one", stored)


def test_failed_logins_back_off_exponentially_per_client_and_user() -> None:
    now = [0.0]
    throttle = LoginThrottle(free=3, base=1.0, cap=60.0, clock=lambda: now[0])
    for _ in range(3):
        throttle.failed("10.0.0.1", "ann")
    assert throttle.wait("10.0.0.1", "ann") == 0.0, "three tries are free"
    waits = []
    for _ in range(5):
        throttle.failed("10.0.0.1", "ann")
        waits.append(throttle.wait("10.0.0.1", "ann"))
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert throttle.wait("10.0.0.1", "bob") == 16.0, "per client: another user name does not help"
    assert throttle.wait("10.0.0.2", "ann") == 16.0, "per user: another address does not help"
    assert throttle.wait("10.0.0.2", "bob") == 0.0
    for _ in range(10):
        throttle.failed("10.0.0.3", "carl")
    assert throttle.wait("10.0.0.3", "carl") == 60.0, "capped"
    now[0] = 100.0
    throttle.succeeded("10.0.0.1", "ann")
    assert throttle.wait("10.0.0.1", "ann") == 0.0
    sprayed = LoginThrottle(cap=60.0, clock=lambda: now[0])
    sprayed.MAX_KEYS = 50
    for i in range(1000):  # one client sprays user names; old entries are let go
        now[0] += 1.0
        sprayed.failed("10.0.0.9", f"user{i}")
    assert sprayed.wait("10.0.0.9", "anyone") > 0, "the spraying client is still held back"
    assert sprayed.wait("10.0.0.8", "user1") == 0.0


def test_serve_refuses_a_public_address_without_auth(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("IPQA_AUTH", "IPQA_AUTH_FILE")}
    out = subprocess.run([*IPQA, "--data-dir", str(tmp_path), "serve", "--host", "0.0.0.0", "--port", "1"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 1
    assert out.stderr.strip() == (
        "Error: Refusing to serve on 0.0.0.0 without authentication: anyone who can reach this machine could read the chat and change "
        "the index. Set IPQA_AUTH_FILE (lines made by `ipqa hash-password`) or IPQA_AUTH=user:password, bind 127.0.0.1, or pass --no-auth "
        "to serve it open anyway."
    )
    ui.check_exposure(Settings(host="0.0.0.0"), no_auth=True)  # explicit: allowed
    ui.check_exposure(Settings(host="0.0.0.0", auth_file=_users_file(tmp_path)))
    ui.check_exposure(Settings(host="127.0.0.1"))


def _fn(demo: gr.Blocks, name: str):  # type: ignore[no-untyped-def]
    return next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == name)


def test_reader_role_cannot_change_the_index_and_page_shows_no_paths(small: Assistant, tmp_path: Path) -> None:
    settings = small.settings.model_copy(update={"auth_file": _users_file(tmp_path)})
    demo = ui.build_app(settings, small)
    reader = gr.Request(username=READER)
    doc_id = small.sources()[0].doc_id
    assert _fn(demo, "_remove")(doc_id, reader) == ui.notice_html(READ_ONLY_MESSAGE)
    assert _fn(demo, "_reingest")(reader) == ui.notice_html(READ_ONLY_MESSAGE)
    assert _fn(demo, "_upload")([str(tmp_path / "users")], reader) == (ui.notice_html(READ_ONLY_MESSAGE), None)
    assert small.store.doc(doc_id) is not None, "nothing removed"
    config = demo.get_config_file()
    text = json.dumps(config, default=str)
    assert str(settings.data_dir.resolve()) not in text and str(settings.data_dir) not in text
    # The click on "Ingest" first replaces the results panel (no queue), then uploads: never the previous results.
    ids = {c.get("props", {}).get("elem_id"): c["id"] for c in config["components"]}
    first = next(d for d in config["dependencies"] if [ids["ipqa-ingest"], "click"] in [list(t) for t in d["targets"]])
    assert first["outputs"] == [ids["ipqa-status"]] and first["queue"] is False
    assert _fn(demo, "_working")() == ui.notice_html("Working…")


def test_one_bad_name_fails_that_upload_only(small: Assistant, tmp_path: Path) -> None:
    demo = ui.build_app(small.settings, small)
    files = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "ipqa-upload")
    uploads = tmp_path / "incoming"
    uploads.mkdir()
    (uploads / ".md").write_text("# Hidden\n\nA dotfile name.\n")
    (uploads / "lending-note.md").write_text("# Lending\n\nLibraries may lend phonograms to their members under national law.\n")
    batch = files.preprocess(ListFiles(root=[FileData(path=str(uploads / n), orig_name=n) for n in (".md", "lending-note.md")]))
    settings = Settings(data_dir=tmp_path / "index")
    html = ui.upload_files(Assistant(settings, embedder=small.embedder), batch)
    assert "<td>.md</td><td><span class=\"ipqa-status\">failed</span></td><td>unsupported file type &#x27;(none)&#x27;" in html
    assert "<td>lending-note.md</td><td><span class=\"ipqa-status\">added</span>" in html


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[tuple[str, Settings]]:
    """`ipqa serve` with two users from IPQA_AUTH_FILE, over a one-document index."""
    base = tmp_path_factory.mktemp("webauth")
    settings = Settings(data_dir=base / "index")
    assert not Assistant(settings, embedder=embedder).ingest([shared_doc("wipo-phonograms-convention-1971.md")]).failed
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "IPQA_DATA_DIR": str(settings.data_dir), "IPQA_AUTH_FILE": str(_users_file(base)),
           "GRADIO_TEMP_DIR": str(base / "gradio"), "NO_PROXY": "*"}
    env.pop("IPQA_AUTH", None)
    log = base / "serve.log"
    with open(log, "w") as sink:
        child = subprocess.Popen([*IPQA, "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, child, log=log)
        yield f"http://127.0.0.1:{port}", settings
    finally:
        stop_process(child)


def _routes(settings: Settings) -> list[tuple[str, str]]:
    """(method, path) of every route the served app has (the same app built here, not launched)."""
    from gradio.routes import App

    demo = ui.build_app(settings, Assistant(settings))
    app = App.create_app(demo.queue())
    out = []
    routes = list(app.routes)
    while routes:
        route = routes.pop()
        if hasattr(route, "original_router"):  # Gradio's /gradio_api router, included
            routes.extend(route.original_router.routes)
            continue
        path = getattr(route, "path", "")
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            if method != "HEAD":
                out.append((method, path.replace("{", "").replace("}", "").replace(":path", "")))
    return sorted(set(out))


@pytest.mark.slow
def test_every_route_but_the_login_page_requires_a_login(served: tuple[str, Settings]) -> None:
    url, settings = served
    routes = _routes(settings)
    assert ("POST", "/gradio_api/cancel") in routes and ("GET", "/gradio_api/heartbeat/session_hash") in routes
    opened = {}
    with httpx.Client(base_url=url, timeout=10, trust_env=False) as anonymous:
        for method, path in routes:
            if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES) or path.startswith("/login"):
                continue
            try:
                code = anonymous.request(method, path, json={}).status_code
            except httpx.ReadTimeout:  # a stream held open: it answered
                code = 200
            if code != 401:
                opened[f"{method} {path}"] = code
    assert not opened, f"answered without a login: {opened}"
    with httpx.Client(base_url=url, timeout=30, trust_env=False) as user:
        assert user.post("/login", data={"username": READER, "password": READER_PW}).json() == {"success": True}
        assert user.get("/config").status_code == 200 and user.get("/gradio_api/info").status_code == 200


@pytest.mark.slow
def test_documents_are_served_by_key_to_logged_in_users_only(served: tuple[str, Settings]) -> None:
    url, settings = served
    record = Assistant(settings).sources()[0]
    href = ui.file_href(record.path)
    assert href and record.path not in href and href.endswith("/wipo-phonograms-convention-1971.md")
    with httpx.Client(base_url=url, timeout=30, trust_env=False) as client:
        assert client.get("/" + href).status_code == 401
        assert client.post("/login", data={"username": READER, "password": READER_PW}).json() == {"success": True}
        served_file = client.get("/" + href)
        assert served_file.status_code == 200 and served_file.headers["content-type"].startswith("text/plain")
        assert served_file.content == Path(record.path).read_bytes()
        assert client.get("/ipqa/document/" + "0" * 24 + "/x.md").status_code == 404
        assert client.get("/ipqa/document/../../etc/passwd").status_code in (404, 401)


@pytest.mark.slow
def test_failed_logins_are_throttled_over_http(served: tuple[str, Settings]) -> None:
    url, _ = served
    with httpx.Client(base_url=url, timeout=30, trust_env=False) as client:
        codes = [client.post("/login", data={"username": ADMIN, "password": f"guess {i}"}).status_code for i in range(6)]
        assert codes[:3] == [400, 400, 400] and 429 in codes[3:], codes
        refused = client.post("/login", data={"username": ADMIN, "password": ADMIN_PW})
        assert refused.status_code == 429 and "Too many failed logins" in refused.json()["detail"] and int(refused.headers["retry-after"]) >= 1


def test_reingest_report_names_files_without_server_paths(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "sub" / "broken.pdf").write_bytes(b"<html>not a pdf</html>")
    (corpus / "good.md").write_text("# Good\n\nThe lending of phonograms by libraries is an exception.\n")
    settings = Settings(data_dir=tmp_path / "index", corpus_dir=corpus)
    html = ui.reingest_corpus(Assistant(settings, embedder=WordEmbedder(settings)))
    assert "<td>sub/broken.pdf</td><td><span class=\"ipqa-status\">failed</span>" in html and "1 added" in html
    assert str(tmp_path) not in html
    missing = Settings(data_dir=tmp_path / "index", corpus_dir=tmp_path / "nowhere")
    assert str(tmp_path) not in ui.reingest_corpus(Assistant(missing, embedder=WordEmbedder(missing)))
