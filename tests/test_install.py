"""A non-editable install (a wheel, no source tree beside it) still has the built-in catalog."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import ROOT, shared_doc


@pytest.mark.slow
def test_wheel_install_ships_the_catalog(tmp_path: Path) -> None:
    # Build from a copy, so the build leaves nothing in the checkout, and install the wheel (not the source tree).
    source = tmp_path / "source"
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source)],
        check=True, timeout=300,
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = next((venv / "lib").glob("python3*/site-packages"))
    # The dependencies come from the current environment's site-packages as a plain path (a .pth line is not
    # processed for further .pth files, so this environment's editable ipqa stays out of the new one).
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    python = venv / "bin" / "python"
    wheel = next(wheels.glob("ipqa-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)], check=True, timeout=300)
    ipqa = venv / "bin" / "ipqa"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",) and not k.startswith("IPQA_")}
    env["HF_HUB_OFFLINE"] = "1"
    where = subprocess.run([str(python), "-c", "import ipqa; print(ipqa.__file__)"], env=env, capture_output=True, text=True, check=True)
    assert where.stdout.strip().startswith(str(site)), where.stdout  # the installed copy, not the checkout
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(shared_doc("wipo-phonograms-convention-1971.md"), folder)
    data = tmp_path / "data"
    run = subprocess.run([str(ipqa), "--data-dir", str(data), "ingest", str(folder)], env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    listed = subprocess.run([str(ipqa), "--data-dir", str(data), "sources"], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "wipo-phonograms-convention-1971" in listed.stdout
    assert "Convention for the Protection of Producers of Phonograms" in listed.stdout
    as_json = subprocess.run([str(ipqa), "--data-dir", str(data), "sources", "--json"], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    (doc,) = json.loads(as_json.stdout)
    assert doc["jurisdiction"] == "International"  # only the catalog says so; the file itself does not
    # Every file of the package's data folder is in the wheel (answerability model, glossary, catalog, ...).
    shipped = sorted(p.name for p in (site / "ipqa" / "data").iterdir())
    assert shipped == sorted(p.name for p in (ROOT / "src" / "ipqa" / "data").iterdir() if p.is_file())
    asked = subprocess.run([str(ipqa), "--data-dir", str(data), "ask", "What does the Phonograms Convention protect producers against?"],
                           env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert asked.returncode == 0 and "Sources:" in asked.stdout, asked.stdout + asked.stderr
