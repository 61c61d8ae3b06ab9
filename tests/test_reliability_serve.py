"""Exposure (issue #6): `ipqa serve` binds loopback by default, warns when bound elsewhere without a
password, and with IPQA_AUTH refuses unauthenticated requests; uploads over HTTP cannot escape or be huge.
Every request goes to 127.0.0.1 only."""

from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, shared_doc, stop_process

from ipqa.api import Assistant
from ipqa.embedding import Embedder
from ipqa.settings import Settings
from ipqa.ui import exposure_warning

pytestmark = pytest.mark.slow  # starts `ipqa serve` processes

IPQA = str(Path(sys.executable).parent / "ipqa")
USER, PASSWORD = "reader", "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, child: subprocess.Popen, seconds: float = 240, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise AssertionError(f"ipqa serve exited with {child.returncode}: {log.read_text()[-3000:] if log else ''}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"ipqa serve did not listen on 127.0.0.1:{port} within {seconds:.0f}s")


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on `port`, from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                raw = bytes.fromhex(address)
                if len(raw) == 4:
                    found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                else:
                    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                    found.add(socket.inet_ntop(socket.AF_INET6, words))
    return found


def stop(child: subprocess.Popen) -> None:
    stop_process(child, timeout=5)


def first_line_with(child: subprocess.Popen, text: str, seconds: float = 180) -> str | None:
    """The first stderr line of `child` containing `text` (None if it exits or the time is up first)."""
    assert child.stderr is not None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([child.stderr], [], [], 1)
        if ready:
            line = child.stderr.readline()
            if not line:
                return None
            if text in line:
                return line.strip()
    return None


@pytest.fixture(scope="module")
def authed_server(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[tuple[str, Path, Settings]]:
    """`ipqa serve` on a free loopback port (default host), IPQA_AUTH set, over a one-document index."""
    base = tmp_path_factory.mktemp("serve")
    settings = Settings(data_dir=base / "index")
    assert not Assistant(settings, embedder=embedder).ingest([shared_doc("wipo-japan-ai-ip-2026-commentary.txt")]).failed
    port = free_port()
    gradio_tmp = base / "gradio-uploads"
    env = {
        **os.environ, "HF_HUB_OFFLINE": "1", "IPQA_DATA_DIR": str(settings.data_dir), "IPQA_AUTH": f"{USER}:{PASSWORD}",
        "GRADIO_TEMP_DIR": str(gradio_tmp), "NO_PROXY": "*",
    }
    env.pop("IPQA_HOST", None)
    log = base / "serve.log"
    with open(log, "w") as sink:  # a file, not a pipe nobody reads while the server runs
        child = subprocess.Popen([IPQA, "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, child, log=log)
        yield f"http://127.0.0.1:{port}", gradio_tmp, settings
    finally:
        stop(child)
    assert "Warning: serving on" not in log.read_text(), "no warning on loopback"


def test_binds_loopback_by_default(authed_server: tuple[str, Path, Settings]) -> None:
    assert Settings().host == "127.0.0.1"
    port = int(authed_server[0].rsplit(":", 1)[1])
    assert listening_addresses(port) == {"127.0.0.1"}, "reachable from this machine only"


def test_unauthenticated_requests_are_refused(authed_server: tuple[str, Path, Settings]) -> None:
    url, _, settings = authed_server
    doc = Assistant(settings).sources()[0].path
    with httpx.Client(base_url=url, timeout=30, trust_env=False) as anonymous:
        refused = {
            "GET /config": anonymous.get("/config").status_code,
            "GET /gradio_api/info": anonymous.get("/gradio_api/info").status_code,
            "POST /gradio_api/queue/join": anonymous.post("/gradio_api/queue/join", json={"data": ["q"], "fn_index": 0, "session_hash": "x"}).status_code,
            "GET /gradio_api/queue/data": anonymous.get("/gradio_api/queue/data", params={"session_hash": "x"}).status_code,
            "POST /gradio_api/upload": anonymous.post("/gradio_api/upload", files=[("files", ("a.md", b"# A\n"))]).status_code,
            "GET /gradio_api/file=": anonymous.get(f"/gradio_api/file={doc}").status_code,
            "POST /gradio_api/run/predict": anonymous.post("/gradio_api/run/predict", json={"data": []}).status_code,
        }
        assert refused == dict.fromkeys(refused, 401), refused
        assert anonymous.post("/login", data={"username": USER, "password": "wrong"}).status_code == 400
        assert anonymous.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 400
        page = anonymous.get("/")
        assert page.status_code == 200 and "ipqa-question" not in page.text, "only the login page is served"

    with httpx.Client(base_url=url, timeout=30, trust_env=False) as user:
        assert user.post("/login", data={"username": USER, "password": PASSWORD}).json() == {"success": True}
        config = user.get("/config")
        assert config.status_code == 200 and any(c.get("props", {}).get("elem_id") == "ipqa-question" for c in config.json()["components"])


def test_http_uploads_cannot_escape_or_be_huge(authed_server: tuple[str, Path, Settings], tmp_path: Path) -> None:
    url, gradio_tmp, settings = authed_server
    with httpx.Client(base_url=url, timeout=60, trust_env=False) as user:
        user.post("/login", data={"username": USER, "password": PASSWORD}).raise_for_status()
        names = ["../../../../tmp/ipqa-escape.md", "..\\..\\ipqa-escape-2.md", "/etc/ipqa-escape-3.md"]
        stored = []
        for name in names:
            response = user.post("/gradio_api/upload", files=[("files", (name, b"# Escape\n\nThis note tries to leave the upload folder.\n", "text/markdown"))])
            assert response.status_code == 200, response.text
            stored.extend(Path(p) for p in response.json())
        for path in stored:
            assert path.resolve().is_relative_to(gradio_tmp.resolve()), f"{path} is outside the upload folder"
            assert ".." not in path.parts and path.is_file()
        assert not Path("/tmp/ipqa-escape.md").exists() and not Path("/etc/ipqa-escape-3.md").exists()

        big = b"x" * ((settings.max_file_mb + 1) * 1024 * 1024)
        response = user.post("/gradio_api/upload", files=[("files", ("huge.txt", big, "text/plain"))])
        assert response.status_code == 413, response.text[:200]


def test_public_bind_without_auth_warns(tmp_path: Path) -> None:
    warning = (
        "Warning: serving on 0.0.0.0 without a password — anyone who can reach this machine can read the chat and change the index. "
        "Set IPQA_AUTH=user:password (or bind 127.0.0.1)."
    )
    assert exposure_warning(Settings(host="0.0.0.0")) == warning
    assert exposure_warning(Settings(host="0.0.0.0", auth=f"{USER}:{PASSWORD}")) is None
    assert exposure_warning(Settings()) is None and exposure_warning(Settings(host="::1")) is None

    # The real command, bound to every interface of a private network namespace (nothing outside
    # can reach it), open by explicit --no-auth (refused without it): the warning is printed before it serves anything.
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "--net", "true"], capture_output=True).returncode != 0:
        pytest.skip("no `unshare --net` here (needs root or user namespaces): checked exposure_warning() only")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "IPQA_DATA_DIR": str(tmp_path / "index")}
    env.pop("IPQA_AUTH", None)
    child = subprocess.Popen(
        [unshare, "--net", IPQA, "serve", "--host", "0.0.0.0", "--port", str(free_port()), "--no-auth"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        printed = first_line_with(child, "Warning:")
    finally:
        child.kill()
        child.wait()
    assert printed == warning
