"""A fresh process that loads an `Assistant` and answers questions, timing each start-up phase.

Run by `benchmarks/run.py`, printing one JSON object on stdout:
- `probe.py ask DATA_DIR QUESTIONS.json`: the stand-in for `ipqa serve` (same library calls, no web
  layer): cold start to first answer, later latencies, peak RSS.
- `probe.py ingest DATA_DIR PATH...`: a whole `ingest` in a new process (the no-op re-ingest check):
  its time from process start, embedding calls, and whether torch was imported at all.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory (VmHWM) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    mode, data_dir = sys.argv[1], Path(sys.argv[2])
    phases: dict[str, float] = {}
    mark = STARTED

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases[name] = now - mark
        mark = now

    from ipqa.api import Assistant
    from ipqa.settings import Settings

    lap("import ipqa")
    assistant = Assistant(Settings(data_dir=data_dir))
    if mode == "ingest":
        report = assistant.ingest([Path(p) for p in sys.argv[3:]])
        lap("ingest")
        json.dump({"phases": phases, "seconds_in_ingest": report.seconds, "unchanged": len(report.unchanged), "embedded": report.embedded,
                   "embed_calls": assistant.embedder.calls, "torch_imported": "torch" in sys.modules, "total_s": time.perf_counter() - STARTED},
                  sys.stdout)
        return
    questions = json.loads(Path(sys.argv[3]).read_text())
    first = assistant.ask(questions[0])
    lap("first answer")
    latencies = []
    for question in questions[1:]:
        t0 = time.perf_counter()
        assistant.ask(question)
        latencies.append(time.perf_counter() - t0)
    json.dump({"phases": phases, "first_answered": first.answered, "latencies": latencies, "peak_rss_mb": peak_rss_mb(),
               "embed_calls": assistant.embedder.calls, "modules": sorted(m for m in ("torch", "gradio", "chromadb") if m in sys.modules)},
              sys.stdout)


if __name__ == "__main__":
    main()
