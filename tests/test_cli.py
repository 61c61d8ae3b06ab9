"""The CLI as a user runs it: exit codes and exact messages."""

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import DATA

IPQA = [sys.executable, "-m", "ipqa"]


def run(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([*IPQA, "--data-dir", str(data_dir), *args], capture_output=True, text=True, env=env, timeout=300)


def test_ask_without_index_says_what_to_do(tmp_path: Path) -> None:
    out = run("ask", "What is fair use?", data_dir=tmp_path / "none")
    assert out.returncode == 1
    assert out.stderr.strip() == f"Error: No index yet at {tmp_path / 'none'} — run `ipqa ingest corpus/` first."


def test_ingest_ask_sources_remove(tmp_path: Path) -> None:
    data = tmp_path / "idx"
    out = run("ingest", str(DATA / "treaty_sample.md"), str(DATA / "empty.txt"), data_dir=data)
    assert out.returncode == 0, out.stderr
    assert "added: treaty_sample" in out.stdout
    assert "1 added, 0 changed, 0 unchanged, 0 removed, 1 failed" in out.stdout
    assert f"failed: {DATA / 'empty.txt'}: empty file (no text)" in out.stderr

    out = run("ask", "--json", "What exceptions may Contracting Parties provide for reading rooms?", data_dir=data)
    answer = json.loads(out.stdout)
    assert answer["answered"] and answer["citations"][0]["section"].startswith("Article 2")

    out = run("sources", data_dir=data)
    assert out.stdout.startswith("treaty_sample ")

    out = run("remove", "nope", data_dir=data)
    assert out.returncode == 1 and out.stderr.strip() == "Error: No document 'nope' in the index — see `ipqa sources`."
    out = run("remove", "treaty_sample", data_dir=data)
    assert out.returncode == 0 and out.stdout.strip().startswith("removed: treaty_sample (")


def test_missing_optional_dependency_is_one_line_naming_the_extra(tmp_path: Path) -> None:
    # The extra's package made unimportable for this one process (None in sys.modules is how Python marks a module absent).
    hide = "import sys; sys.modules['llama_index.llms.openai_like'] = None; from ipqa.cli import main; sys.argv[0] = 'ipqa'; main()"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "IPQA_LLM": "openai", "IPQA_LLM_URL": "http://127.0.0.1:9/v1"}
    out = subprocess.run([sys.executable, "-c", hide, "--data-dir", str(tmp_path / "none"), "ask", "What is fair use?"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 2
    assert out.stderr == "Error: IPQA_LLM=openai needs llama-index-llms-openai-like, which is not installed — pip install 'ipqa[llm]'\n"
