"""Issue #15 figures, measured in one run: `ipqa ask` against importing sentence-transformers, ingest on ONNX
against torch, and the same answers from both backends.

    .venv/bin/python benchmarks/startup.py                 # about 5 minutes on 2 cores
    .venv/bin/python benchmarks/startup.py --questions 40  # more eval questions in the same-answers check

Each timing alternates its two sides (A B A B …) so a change in the machine's load weighs on both alike;
the result is saved to benchmarks/results/startup-<date>.json. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
IPQA = [sys.executable, "-m", "ipqa"]
# A subset of the shared corpus in three languages (about 220 passages): English treaties and commentary, the Chinese measures.
DOCS = ["wipo-copyright-treaty-wct-1996.md", "wipo-phonograms-convention-1971.md", "wipo-japan-ai-ip-2026-commentary.txt",
        "cn-genai-interim-measures-2023-zh.html", "wipo-berne-convention.md"]
QUESTION = "What exceptions may Contracting Parties provide?"


def wall(cmd: list[str], env: dict[str, str]) -> float:
    """Seconds from start to exit of a subprocess (which must succeed)."""
    started = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env, timeout=600)
    return time.perf_counter() - started


def startup(data_dir: Path, runs: int, env: dict[str, str]) -> dict:
    """`ipqa ask` (ONNX, and torch as before) against `python -c "import sentence_transformers"`, interleaved."""
    times: dict[str, list[float]] = {"import_st": [], "ask_onnx": [], "ask_torch": []}
    ask = [*IPQA, "--data-dir", str(data_dir), "ask", QUESTION]
    for _ in range(runs):
        times["import_st"].append(wall([sys.executable, "-c", "import sentence_transformers"], env))
        times["ask_onnx"].append(wall(ask, {**env, "IPQA_EMBED_BACKEND": "onnx"}))
        times["ask_torch"].append(wall(ask, {**env, "IPQA_EMBED_BACKEND": "torch"}))
    med = {k: statistics.median(v) for k, v in times.items()}
    out = {"runs": times, "median_s": med, "ask_over_import": med["ask_onnx"] / med["import_st"],
           "torch_ask_over_import": med["ask_torch"] / med["import_st"]}
    print(f"import sentence_transformers: median {med['import_st']:.2f}s  {fmt(times['import_st'])}")
    print(f"ipqa ask (ONNX)             : median {med['ask_onnx']:.2f}s  {fmt(times['ask_onnx'])}  -> {out['ask_over_import']:.2f}x the import (target <= 0.3)")
    print(f"ipqa ask (torch, as before) : median {med['ask_torch']:.2f}s  {fmt(times['ask_torch'])}  -> {out['torch_ask_over_import']:.2f}x the import")
    return out


def serve_first_answer(data_dir: Path, env: dict[str, str]) -> dict:
    """`ipqa serve` from start to its first answer through the `/ask` API endpoint (gradio_client), each backend once."""
    import socket

    from gradio_client import Client

    out = {}
    for backend in ("onnx", "torch"):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        started = time.perf_counter()
        child = subprocess.Popen([*IPQA, "--data-dir", str(data_dir), "serve", "--port", str(port)], env={**env, "IPQA_EMBED_BACKEND": backend},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    if child.poll() is not None or time.perf_counter() - started > 600:
                        raise RuntimeError(f"ipqa serve ({backend}) did not start") from None
                    time.sleep(0.2)
            served = time.perf_counter() - started
            record = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(QUESTION, api_name="/ask")
            first = time.perf_counter() - started
            assert record, "an answer record"
        finally:
            child.terminate()
            child.wait(timeout=30)
        out[backend] = {"served_s": served, "first_answer_s": first}
        print(f"ipqa serve ({backend:5}): page served after {served:.1f}s, first answer after {first:.1f}s")
    return out


def ingest_throughput(texts: list[str]) -> dict:
    """Passages per second embedding the same texts with each backend, same batch size and threads, halves interleaved."""
    from ipqa.embedding import Embedder
    from ipqa.settings import Settings

    onnx, torch_ = Embedder(Settings(embed_backend="onnx")), Embedder(Settings(embed_backend="torch"))
    onnx.embed(texts[:4]), torch_.embed(texts[:4])  # load both models before timing
    half = len(texts) // 2
    spent = {"onnx": 0.0, "torch": 0.0}
    cpu = {"onnx": 0.0, "torch": 0.0}
    for part in (texts[:half], texts[half:]):
        for name, embedder in (("onnx", onnx), ("torch", torch_)) if part is texts[:half] else (("torch", torch_), ("onnx", onnx)):
            t, c = time.perf_counter(), time.process_time()
            embedder.embed(part)
            spent[name] += time.perf_counter() - t
            cpu[name] += time.process_time() - c
    out = {"passages": len(texts), "threads": onnx.batch_threads, "batch": onnx.batch_size,
           "onnx_pps": len(texts) / spent["onnx"], "torch_pps": len(texts) / spent["torch"],
           "wall_ratio": spent["torch"] / spent["onnx"], "cpu_ratio": cpu["torch"] / cpu["onnx"]}
    print(f"ingest embedding, {len(texts)} passages: ONNX {out['onnx_pps']:.1f}/s, torch {out['torch_pps']:.1f}/s "
          f"-> ONNX {out['wall_ratio']:.2f}x faster (CPU time {out['cpu_ratio']:.2f}x)")
    return out


def same_answers(data_dir: Path, n: int) -> dict:
    """The first `n` eval questions about the indexed documents, answered with each backend: same text, same citations?"""
    from ipqa.api import Assistant
    from ipqa.embedding import Embedder
    from ipqa.settings import Settings

    docs = {Path(d).stem for d in DOCS}
    questions = []
    for line in (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line) if line.strip() else None
        if q and (not q["evidence"] or {e["doc"] for e in q["evidence"]} <= docs):
            questions.append(q["question"])
    questions = questions[:n]
    answers = {}
    for backend in ("onnx", "torch"):
        settings = Settings(data_dir=data_dir, embed_backend=backend)
        assistant = Assistant(settings, embedder=Embedder(settings))
        answers[backend] = [assistant.ask(q) for q in questions]
    differ = [q for q, a, b in zip(questions, answers["onnx"], answers["torch"])
              if (a.text, [c.passage_id for c in a.citations]) != (b.text, [c.passage_id for c in b.citations])]
    answered = sum(a.answered for a in answers["onnx"])
    print(f"same answers: {len(questions) - len(differ)} of {len(questions)} eval questions identical (text and cited passages); "
          f"{answered} answered")
    return {"questions": len(questions), "identical": len(questions) - len(differ), "differ": differ, "answered": answered}


def fmt(values: list[float]) -> str:
    return "(" + " / ".join(f"{v:.2f}" for v in values) + ")"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--runs", type=int, default=3, help="Interleaved runs of each command (median reported).")
    parser.add_argument("--questions", type=int, default=30, help="Eval questions in the same-answers check.")
    parser.add_argument("--only", default="startup,serve,ingest,answers", help="Comma-separated sections.")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH", "")) if p)}
    load = os.getloadavg()
    print(f"# issue #15 figures — {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {load[0]:.1f}")
    results: dict = {"started": datetime.now().isoformat(timespec="seconds"), "load_start": load, "python": platform.python_version()}
    with tempfile.TemporaryDirectory(prefix="ipqa-startup-") as tmp:
        one = Path(tmp) / "one"
        subprocess.run([*IPQA, "--data-dir", str(one), "ingest", str(args.corpus / DOCS[0])], check=True, capture_output=True, env=env)
        if "startup" in args.only:
            results["startup"] = startup(one, args.runs, env)
        if "serve" in args.only:
            results["serve"] = serve_first_answer(one, env)

        if {"ingest", "answers"} & set(args.only.split(",")):
            from ipqa.api import Assistant
            from ipqa.settings import Settings

            several = Path(tmp) / "several"
            assistant = Assistant(Settings(data_dir=several))
            assistant.ingest([args.corpus / d for d in DOCS])
            texts = [p.text for d in assistant.sources() for p in assistant.passages(d.doc_id)]
            if "ingest" in args.only:
                results["ingest"] = ingest_throughput(texts)
            if "answers" in args.only:
                results["answers"] = same_answers(several, args.questions)
    results["load_end"] = os.getloadavg()
    out = HERE / "results" / f"startup-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(f"saved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
