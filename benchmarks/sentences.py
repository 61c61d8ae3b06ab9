"""Sentence vectors stored at ingest (issue #10): query latency before/after and the ingest cost, each measured in one run.

    .venv/bin/python benchmarks/sentences.py query --data-dir /tmp/idx            # index made (or backfilled) by this checkout
    .venv/bin/python benchmarks/sentences.py ingest                              # 6 shared documents into scratch indexes

`query`: three warm worker processes answer the same questions of eval/train.jsonl (never the test set), in turn and
in a rotated order per question, so a change in the machine's load weighs on all of them alike:
  before — the code at --before-rev (git archive of src/; default 86418b5, the last commit that encoded sentences at
           query time), on the same index (it ignores the stored sentence vectors);
  after  — this checkout: every candidate sentence scored from its stored vector;
  words  — this checkout with sentence meaning switched off (no sentence and no question compared by vector): what
           answering costs without any sentence scoring, the reference of issue #10's "at most 3x" target.
Each worker times `Assistant.ask` (retrieval + evidence + answerability + write-up) and counts embedding calls.

`ingest`: the same documents ingested into fresh indexes, alternately without and with sentence vectors (without,
with, without, with), in one process with one warm model; the ratio of the times is the cost of storing them.
Results go to benchmarks/results/sentences-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MODES = ("before", "after", "words")
INGEST_DOCS = [
    "wipo-berne-convention.md",
    "wipo-copyright-treaty-wct-1996.md",
    "wipo-phonograms-convention-1971.md",
    "wipo-japan-ai-ip-2026-commentary.txt",
    "cn-genai-interim-measures-2023-zh.html",
    "us-ndcal-bartz-v-anthropic-2025-fair-use-order.pdf",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("section", choices=("query", "ingest", "worker"))
    parser.add_argument("--data-dir", type=Path, help="query: an index of the shared corpus made or backfilled by this checkout")
    parser.add_argument("--before-rev", default="86418b5", help="query: the commit measured as 'before'")
    parser.add_argument("--questions", type=int, default=60, help="query: timed questions (after 3 warm-up questions)")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--work", type=Path, default=HERE / "results" / "work" / "sentences")
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.section == "worker":
        worker(args.mode, args.data_dir)
        return
    out = {"started": datetime.now().isoformat(timespec="seconds"), "loadavg_start": os.getloadavg(), "cores": os.cpu_count()}
    if args.section == "query":
        if args.data_dir is None:
            parser.error("query needs --data-dir")
        out["query"] = bench_query(args.data_dir, args.before_rev, args.questions)
    else:
        out["ingest"] = bench_ingest([args.corpus / n for n in INGEST_DOCS], args.work)
    out["loadavg_end"] = os.getloadavg()
    path = HERE / "results" / f"sentences-{args.section}-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2, default=str))
    print(
        f"load average {'/'.join(f'{x:.1f}' for x in out['loadavg_start'])} at start, {'/'.join(f'{x:.1f}' for x in out['loadavg_end'])} at end; "
        f"results: {path.relative_to(ROOT)}"
    )


# -- query latency ------------------------------------------------------------------------------
def train_questions(n: int) -> list[str]:
    """The first n questions of eval/train.jsonl (answerable and not, all languages)."""
    lines = (ROOT / "eval" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()][:n]


def bench_query(data_dir: Path, before_rev: str, n: int) -> dict:
    questions = train_questions(n + 3)
    before_src = Path(tempfile.mkdtemp(prefix="ipqa-before-"))
    archive = subprocess.run(["git", "archive", before_rev, "src"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(before_src, filter="data")
    srcs = {"before": before_src / "src", "after": ROOT / "src", "words": ROOT / "src"}
    workers = {}
    try:
        for mode in MODES:
            env = {**os.environ, "PYTHONPATH": str(srcs[mode]), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
            workers[mode] = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "worker", "--mode", mode, "--data-dir", str(data_dir)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
                cwd=ROOT,
            )
        for mode, proc in workers.items():
            ready = json.loads(proc.stdout.readline())  # type: ignore[union-attr]
            print(f"{mode:6}: ready ({ready['src']})", flush=True)
        rows: dict[str, list[dict]] = {m: [] for m in MODES}
        for k, question in enumerate(questions):
            order = MODES[k % 3 :] + MODES[: k % 3]
            for mode in order:
                proc = workers[mode]
                proc.stdin.write(json.dumps({"q": question}) + "\n")  # type: ignore[union-attr]
                proc.stdin.flush()  # type: ignore[union-attr]
                got = json.loads(proc.stdout.readline())  # type: ignore[union-attr]
                if k >= 3:
                    rows[mode].append(got)
    finally:
        for proc in workers.values():
            proc.stdin.close()  # type: ignore[union-attr]
            proc.wait(timeout=60)
        shutil.rmtree(before_src, ignore_errors=True)
    out: dict = {"questions": n, "before_rev": before_rev, "index": str(data_dir)}
    for mode in MODES:
        ms = sorted(r["ms"] for r in rows[mode])
        out[mode] = {
            "p50_ms": pct(ms, 50),
            "p95_ms": pct(ms, 95),
            "mean_ms": sum(ms) / len(ms),
            "answered": sum(r["answered"] for r in rows[mode]),
            "embed_calls_per_ask": sum(r["calls"] for r in rows[mode]) / len(ms),
            "texts_per_ask": sum(r["texts"] for r in rows[mode]) / len(ms),
        }
        o = out[mode]
        print(
            f"{mode:6}: p50 {o['p50_ms']:6.1f} ms, p95 {o['p95_ms']:6.1f} ms, mean {o['mean_ms']:6.1f} ms over {len(ms)} questions "
            f"({o['answered']} answered); {o['embed_calls_per_ask']:.2f} embedding calls and {o['texts_per_ask']:.1f} texts encoded per question"
        )
    for a, b in (("after", "before"), ("after", "words"), ("before", "words")):
        out[f"p50_{a}_over_{b}"] = out[a]["p50_ms"] / out[b]["p50_ms"]
        print(f"p50 {a} / {b}: {out[f'p50_{a}_over_{b}']:.2f}")
    same = sum(x["text"] == y["text"] for x, y in zip(rows["before"], rows["after"], strict=True))
    out["same_answer_before_after"] = same
    print(f"same answer text before and after: {same} of {len(rows['after'])}", flush=True)
    return out


def worker(mode: str, data_dir: Path) -> None:
    """Answer questions read from stdin (one JSON line each), print one JSON line per answer."""
    from ipqa.api import Assistant
    from ipqa.settings import Settings

    if mode == "words":
        from ipqa import evidence

        def no_meaning(question, full, rows, texts, *args, **kwargs):  # type: ignore[no-untyped-def]
            return [0.0] * len(rows), [0.0] * len(rows)

        evidence._meanings = no_meaning  # the benchmark's reference: sentences scored by words and position only
    assistant = Assistant(Settings(data_dir=data_dir))
    assistant.embedder.embed_query("warm up")
    import ipqa

    print(json.dumps({"src": str(Path(ipqa.__file__).parent)}), flush=True)
    embedder = assistant.embedder
    for line in sys.stdin:
        question = json.loads(line)["q"]
        calls, texts = embedder.calls, embedder.texts_embedded
        t0 = time.perf_counter()
        answer = assistant.ask(question)
        ms = (time.perf_counter() - t0) * 1000
        print(
            json.dumps(
                {
                    "ms": ms,
                    "answered": bool(answer.answered),
                    "calls": embedder.calls - calls,
                    "texts": embedder.texts_embedded - texts,
                    "text": answer.text,
                }
            ),
            flush=True,
        )


# -- ingest cost ------------------------------------------------------------------------------
def bench_ingest(files: list[Path], work: Path) -> dict:
    from ipqa import ingest as ingest_module
    from ipqa.api import Assistant
    from ipqa.embedding import Embedder
    from ipqa.settings import Settings

    embedder = Embedder(Settings())
    embedder.embed(["warm-up: load the model before anything is timed"])
    real_sets, real_backfill = ingest_module._sentence_sets, ingest_module.backfill_sentences
    runs: dict[str, list[dict]] = {"without": [], "with": []}
    for n, kind in enumerate(("without", "with", "without", "with")):
        if kind == "without":  # the ingest as it was: no sentence vectors written
            ingest_module._sentence_sets = lambda docs, reuse, embedder, settings: ({}, 0)
            ingest_module.backfill_sentences = lambda *a, **k: None
        else:
            ingest_module._sentence_sets, ingest_module.backfill_sentences = real_sets, real_backfill
        # A new folder each time: Chroma keeps a system per path in the process, which a deleted folder would leave read-only.
        settings = Settings(data_dir=work / f"{kind}-{n}-{os.getpid()}")
        shutil.rmtree(settings.data_dir, ignore_errors=True)
        assistant = Assistant(settings, embedder=embedder)
        cpu0, t0 = time.process_time(), time.perf_counter()
        report = assistant.ingest(files)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        assert not report.failed, report.failed
        runs[kind].append(
            {
                "wall_s": wall,
                "cpu_s": cpu,
                "passages": report.embedded,
                "sentences": report.sentences_embedded,
                "stored": assistant.store.sentence_count(),
                "timings": report.timings,
            }
        )
        print(
            f"{kind:7}: {wall:6.1f} s wall, {cpu:6.1f} s CPU — {report.embedded} passages, {report.sentences_embedded} sentences encoded "
            f"({', '.join(f'{k} {v:.1f}s' for k, v in report.timings.items())})",
            flush=True,
        )
        assistant.store.close()
        shutil.rmtree(settings.data_dir, ignore_errors=True)
    ingest_module._sentence_sets, ingest_module.backfill_sentences = real_sets, real_backfill
    wall = {k: sum(r["wall_s"] for r in v) for k, v in runs.items()}
    cpu = {k: sum(r["cpu_s"] for r in v) for k, v in runs.items()}
    out = {
        "documents": [f.name for f in files],
        "runs": runs,
        "wall_ratio": wall["with"] / wall["without"],
        "cpu_ratio": cpu["with"] / cpu["without"],
    }
    print(
        f"ingest with / without sentence vectors: wall {out['wall_ratio']:.2f}, CPU {out['cpu_ratio']:.2f} (two runs each, alternated)",
        flush=True,
    )
    return out


def pct(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q))


if __name__ == "__main__":
    main()
