"""ipqa benchmarks (issue #7): each figure is printed beside the baseline or target it is compared with.

`make bench` runs everything on ../shared/corpus (about 12 minutes on 2 cores);
`.venv/bin/python benchmarks/run.py --quick` is a 2-minute check on a subset. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import scale  # noqa: E402
from probe import peak_rss_mb  # noqa: E402

from ipqa.api import Assistant  # noqa: E402
from ipqa.embedding import Embedder  # noqa: E402
from ipqa.ingest import embed_text  # noqa: E402
from ipqa.settings import Settings  # noqa: E402
from ipqa.store import Store  # noqa: E402

SECTIONS = ("ingest", "noop", "query", "serve")
# --quick ingests these (about 400 passages) instead of the whole corpus.
QUICK_DOCS = [
    "wipo-berne-convention.md", "wipo-copyright-treaty-wct-1996.md", "wipo-phonograms-convention-1971.md",
    "wipo-japan-ai-ip-2026-commentary.txt", "cn-genai-interim-measures-2023-zh.html", "us-ndcal-bartz-v-anthropic-2025-fair-use-order.pdf",
]
TARGETS = {"ingest_ratio": 0.85, "noop_s": 2.0, "p50_100k_ms": 150.0, "serve_rss_mb": 1536.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="Corpus subset, sizes 1k and 10k, fewer questions.")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"Comma-separated sections of {SECTIONS}.")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus", help="Documents to ingest.")
    parser.add_argument("--sizes", help="Passages per scratch collection, e.g. 1000,10000,100000.")
    parser.add_argument("--questions", type=int, help="Timed questions per size (default 40, 20 with --quick).")
    parser.add_argument("--work", type=Path, default=HERE / "results" / "work", help="Scratch indexes (kept between runs).")
    parser.add_argument("--rebuild", action="store_true", help="Rebuild scratch collections that already exist.")
    args = parser.parse_args()
    only = [s for s in args.only.split(",") if s]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}")
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([1000, 10000] if args.quick else [1000, 10000, 100000])
    n_questions = args.questions or (20 if args.quick else 40)
    files = [args.corpus / n for n in QUICK_DOCS] if args.quick else [args.corpus]
    args.work.mkdir(parents=True, exist_ok=True)

    results: dict = {"machine": machine(), "quick": args.quick, "started": datetime.now().isoformat(timespec="seconds")}
    print(f"# ipqa benchmarks — {results['machine']['cpu']} ({results['machine']['cores']} cores), {results['started']}"
          f"{' [--quick]' if args.quick else ''}", flush=True)
    embedder = Embedder(Settings())
    t0 = time.perf_counter()
    embedder.embed(["warm-up: load the model before anything is timed"])
    results["model_load_s"] = time.perf_counter() - t0
    base_settings = Settings(data_dir=args.work / ("corpus-quick" if args.quick else "corpus"))
    questions = load_questions(n_questions + 3)

    if "ingest" in only or not base_settings.index_dir.exists():
        results["ingest"] = bench_ingest(base_settings, files, embedder)
    if "noop" in only:
        results["noop"] = bench_noop(base_settings, files, embedder)
    if "query" in only or "serve" in only:
        results["scratch"] = prepare_scales(base_settings, args.work, sizes, rebuild=args.rebuild)
    if "query" in only:
        results["query"] = {size: bench_query(scale.scratch_settings(args.work, size, base_settings.data_dir.name), questions, embedder) for size in sizes}
    if "serve" in only:
        results["serve"] = bench_serve(scale.scratch_settings(args.work, max(sizes), base_settings.data_dir.name), questions[: min(len(questions), 6)], args.work)
    results["machine"]["loadavg_end"] = os.getloadavg()
    results["bench_peak_rss_mb"] = peak_rss_mb()
    out = HERE / "results" / f"bench-{datetime.now():%Y%m%d-%H%M%S}{'-quick' if args.quick else ''}.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nload average at start {fmt_load(results['machine']['loadavg_start'])}, at end {fmt_load(results['machine']['loadavg_end'])}"
          f" (other work on the machine slows both sides of each ratio)\nresults: {out.relative_to(ROOT)}")


# -- 1. ingestion throughput --------------------------------------------------------------------
def bench_ingest(settings: Settings, files: list[Path], embedder: Embedder) -> dict:
    """`Assistant.ingest` from scratch vs `SentenceTransformer.encode` of the same texts, same model and batch size.

    The raw encode is split in two halves run just before and just after the ingest, so that a change
    in the machine's load during the run weighs on both sides alike.
    """
    print("\n## 1. Ingestion throughput", flush=True)
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    planned = planned_texts(settings, files, embedder)
    halves = [planned[0::2], planned[1::2]]
    raw_s, raw_cpu = encode(embedder, halves[0])
    assistant = Assistant(settings, embedder=embedder)
    cpu0 = time.process_time()
    report = assistant.ingest(files)
    pipeline_cpu = time.process_time() - cpu0
    assert not report.failed, report.failed
    texts = embedded_texts(settings)
    assert len(texts) == report.embedded, (len(texts), report.embedded)
    same = sorted(texts) == sorted(planned)
    if not same:  # our replica of the loader/chunker drifted from ingest: time the real texts, after the ingest only
        print("note        : planned texts differ from what ingest embedded; the raw encode runs after the ingest only")
        halves, raw_s, raw_cpu = [[], texts], 0.0, 0.0
    s2, c2 = encode(embedder, halves[1])
    raw_s, raw_cpu = raw_s + s2, raw_cpu + c2

    n = report.embedded
    out = {
        "documents": len(report.added), "passages": n, "batch_size": embedder.batch_size, "threads": batch_threads(embedder), "pipeline_s": report.seconds,
        "pipeline_pps": n / report.seconds, "raw_s": raw_s, "raw_pps": n / raw_s, "ratio": raw_s / report.seconds,
        "cpu_ratio": raw_cpu / pipeline_cpu, "timings": report.timings, "raw_split": same,
    }
    split = ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items())
    other = report.seconds - sum(report.timings.values())
    print(f"ipqa ingest : {n} passages of {len(report.added)} documents in {report.seconds:.1f}s = {out['pipeline_pps']:.1f} passages/s"
          f"  ({split}, other {other:.1f}s)")
    print(f"raw encode  : the same {n} texts, batch {embedder.batch_size}, {out['threads']} threads, in {raw_s:.1f}s = {out['raw_pps']:.1f} passages/s"
          + (" (half before the ingest, half after)" if same else ""))
    print(f"ratio       : {out['ratio']:.2f} (target >= {TARGETS['ingest_ratio']}) {verdict(out['ratio'] >= TARGETS['ingest_ratio'])}"
          f"; by CPU time {out['cpu_ratio']:.2f}", flush=True)
    return out


def encode(embedder: Embedder, texts: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one raw `SentenceTransformer.encode` call."""
    if not texts:
        return 0.0, 0.0
    import torch

    model = embedder.model._model
    before = torch.get_num_threads()
    torch.set_num_threads(batch_threads(embedder))  # the thread count Embedder.embed uses for batches
    try:
        cpu0, t0 = time.process_time(), time.perf_counter()
        model.encode(texts, batch_size=embedder.batch_size, normalize_embeddings=True, show_progress_bar=False)
        return time.perf_counter() - t0, time.process_time() - cpu0
    finally:
        torch.set_num_threads(before)


def batch_threads(embedder: Embedder) -> int:
    """Torch threads the embedder uses for passage batches."""
    import torch

    return getattr(embedder, "batch_threads", None) or torch.get_num_threads()


def planned_texts(settings: Settings, files: list[Path], embedder: Embedder) -> list[str]:
    """The texts ingest will embed, worked out beforehand with the same loader, catalog and chunker (checked afterwards)."""
    from dataclasses import replace

    from ipqa.catalog import Catalog, doc_id_for
    from ipqa.chunking import chunk
    from ipqa.errors import DocumentError
    from ipqa.ingest import IngestReport, collect, sha256_of
    from ipqa.loaders import load

    catalog = Catalog.for_settings(settings)
    texts = []
    for path in collect(files, IngestReport()):
        try:
            doc = load(path)
        except DocumentError:
            continue
        entry = catalog.match(path, sha256_of(path))
        doc_id = entry.info.doc_id if entry else doc_id_for(path)
        info = replace(catalog.info_for(path, doc, doc_id, entry), file=str(path.resolve()))
        passages = chunk(doc, doc_id, embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap)
        texts.extend(embed_text(info, p) for p in passages)
    return texts


def embedded_texts(settings: Settings) -> list[str]:
    """The texts ingest embedded, rebuilt from the index and checked against the hashes stored with the vectors."""
    store = Store(settings)
    texts = [embed_text(d.info, p) for d in store.docs() for p in store.doc_passages(d.doc_id)]
    stored = {m["embed_sha"] for m in store.collection.get(include=["metadatas"])["metadatas"]}
    assert {hashlib.sha1(t.encode()).hexdigest() for t in texts} == stored, "rebuilt embed texts differ from what ingest embedded"
    return texts


# -- 2. no-op re-ingest ----------------------------------------------------------------------
def bench_noop(settings: Settings, files: list[Path], embedder: Embedder) -> dict:
    """Re-ingest of unchanged files, in this process and in a new `ipqa ingest` process."""
    print("\n## 2. No-op re-ingest", flush=True)
    assistant = Assistant(settings, embedder=embedder)
    calls = embedder.calls
    report = assistant.ingest(files)
    out = {"documents": len(report.unchanged), "in_process_s": report.seconds, "embed_calls": embedder.calls - calls}
    assert not (report.added or report.changed or report.removed) and report.embedded == 0
    # A new process pays the imports too; three runs each, the median kept.
    children = [run_json([sys.executable, str(HERE / "probe.py"), "ingest", str(settings.data_dir), *map(str, files)]) for _ in range(3)]
    child = sorted(children, key=lambda c: c["total_s"])[1]
    cli_times = []
    for _ in range(3):
        t0 = time.perf_counter()
        cli = subprocess.run([str(Path(sys.executable).parent / "ipqa"), "--data-dir", str(settings.data_dir), "ingest", *map(str, files)],
                             capture_output=True, text=True, check=True)
        cli_times.append(time.perf_counter() - t0)
    out.update({"process_s": child["total_s"], "process_embed_calls": max(c["embed_calls"] for c in children),
                "process_torch": any(c["torch_imported"] for c in children), "cli_s": sorted(cli_times)[1], "cli_runs_s": cli_times,
                "cli_summary": cli.stdout.strip().splitlines()[-1]})
    ok = out["in_process_s"] < TARGETS["noop_s"] and out["cli_s"] < TARGETS["noop_s"] and out["embed_calls"] == out["process_embed_calls"] == 0
    print(f"in process  : {out['documents']} documents unchanged in {out['in_process_s']:.2f}s, {out['embed_calls']} embedding calls")
    print(f"new process : {out['process_s']:.2f}s from interpreter start, median of 3 ({out['process_embed_calls']} embedding calls, "
          f"torch {'imported' if out['process_torch'] else 'never imported'})")
    print(f"`ipqa ingest`: {out['cli_s']:.2f}s wall, median of 3 — {out['cli_summary']}")
    print(f"target      : < {TARGETS['noop_s']:.0f}s and 0 embedding calls {verdict(ok)}", flush=True)
    return out


# -- 3. query latency by collection size ------------------------------------------------------
def prepare_scales(base_settings: Settings, work: Path, sizes: list[int], *, rebuild: bool) -> dict:
    """Build the scratch collections that are missing (vectors reused from the ingested corpus)."""
    print("\n## Scratch collections (real passages, stored vectors + noise, distinct ids)", flush=True)
    base = None
    out = {}
    for size in sizes:
        settings = scale.scratch_settings(work, size, base_settings.data_dir.name)
        # A kept index is reused only while the current code can read its BM25 (its format is versioned) and it has
        # the sentence vectors answers are scored with (made before they were stored: rebuilt).
        if settings.index_dir.exists() and not rebuild and Store(settings).bm25 is not None and Store(settings).sentence_versions():
            out[size] = {"passages": Store(settings).passage_count(), "reused": True}
            print(f"{size:>7}: kept from an earlier run ({out[size]['passages']} passages; --rebuild to redo)")
            continue
        shutil.rmtree(settings.data_dir, ignore_errors=True)
        base = base or scale.load_base(base_settings)
        out[size] = scale.build(base, size, settings)
        print(f"{size:>7}: {out[size]['passages']:.0f} passages written in {out[size]['write_s']:.1f}s, BM25 built in {out[size]['bm25_s']:.1f}s",
              flush=True)
    return out


def bench_query(settings: Settings, questions: list[str], embedder: Embedder) -> dict:
    """Warm `Assistant.ask` (retrieve + extractive answer) latencies, with the parts timed on their own."""
    assistant = Assistant(settings, embedder=embedder)
    store = assistant.store
    n = store.passage_count()
    for q in questions[:3]:
        assistant.ask(q)
    calls = embedder.calls
    latencies, answered = [], 0
    for q in questions[3:]:
        t0 = time.perf_counter()
        answered += assistant.ask(q).answered
        latencies.append(time.perf_counter() - t0)
    per_ask_calls = (embedder.calls - calls) / len(latencies)
    parts: dict[str, list[float]] = {"embed query": [], "dense (Chroma)": [], "BM25": []}
    from llama_index.core.vector_stores.types import VectorStoreQuery

    for q in questions[3:]:
        t0 = time.perf_counter()
        vec = embedder.embed_query(q)
        t1 = time.perf_counter()
        store.vector_store.query(VectorStoreQuery(query_embedding=vec, similarity_top_k=24))
        t2 = time.perf_counter()
        store.bm25.search(q, 96)
        t3 = time.perf_counter()
        for name, dt in zip(parts, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            parts[name].append(dt)
    out = {"passages": n, "p50_ms": pct(latencies, 50), "p95_ms": pct(latencies, 95), "answered": answered, "asked": len(latencies),
           "embed_calls_per_ask": per_ask_calls, "parts_p50_ms": {k: pct(v, 50) for k, v in parts.items()}}
    head = f"{n:>7} passages: p50 {out['p50_ms']:6.1f} ms, p95 {out['p95_ms']:6.1f} ms over {len(latencies)} questions ({answered} answered)"
    split = ", ".join(f"{k} {v:.1f}" for k, v in out["parts_p50_ms"].items())
    print(f"{head}; parts p50 ms: {split}; {per_ask_calls:.0f} embedding call per question", flush=True)
    return out


# -- 4/5. serve: peak memory and cold start -----------------------------------------------------
PENDING_JS = """n => { const bots = document.querySelectorAll('#ipqa-chat [data-testid="bot"]');
  return bots.length >= n && !bots[n - 1].querySelector('.ipqa-pending') && bots[n - 1].innerText.trim().length > 0; }"""


def bench_serve(settings: Settings, questions: list[str], work: Path) -> dict:
    """`ipqa serve` on the largest index, asked through a browser: time to first answer and peak RSS."""
    n = Store(settings).passage_count()
    print(f"\n## 4–5. `ipqa serve` on {n} passages: cold start and peak RSS", flush=True)
    chromium = shutil.which("chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        chromium = None
    if chromium:
        out = serve_in_browser(settings, questions, work, chromium)
        print(f"process     : `ipqa serve` (pid {out['pid']}), questions typed into the chat by headless Chromium")
        print(f"cold start  : {out['cold_start_s']:.1f}s from `ipqa serve` to the first answer on the page "
              f"(page served after {out['http_ready_s']:.1f}s)")
        print(f"next answers: p50 {out['warm_p50_ms']:.0f} ms through the browser ({len(questions) - 1} questions)")
    else:
        qfile = work / "questions.json"
        qfile.write_text(json.dumps(questions))
        child = run_json([sys.executable, str(HERE / "probe.py"), "ask", str(settings.data_dir), str(qfile)])
        out = {"kind": "probe", "cold_start_s": sum(child["phases"].values()), "phases": child["phases"], "peak_rss_mb": child["peak_rss_mb"],
               "warm_p50_ms": pct(child["latencies"], 50)}
        print("process     : benchmarks/probe.py (no Chromium/Playwright here): loads Assistant as `ipqa serve` does, no web layer")
        print(f"cold start  : {out['cold_start_s']:.1f}s to first answer (" + ", ".join(f"{k} {v:.1f}s" for k, v in child["phases"].items()) + ")")
    print(f"peak RSS    : {out['peak_rss_mb']:.0f} MB (VmHWM; target <= {TARGETS['serve_rss_mb']:.0f} MB) "
          f"{verdict(out['peak_rss_mb'] <= TARGETS['serve_rss_mb'])}", flush=True)
    return out


def serve_in_browser(settings: Settings, questions: list[str], work: Path, chromium: str) -> dict:
    """Start `ipqa serve`, ask in a real page, read the server's VmHWM, stop it."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    cmd = [str(Path(sys.executable).parent / "ipqa"), "--data-dir", str(settings.data_dir), "serve", "--host", "127.0.0.1", "--port", str(port)]
    times: list[float] = []
    with sync_playwright() as pw, open(work / "serve.log", "w") as log:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])  # open before the clock starts, as a user's is
        page = browser.new_page()
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            while True:
                if proc.poll() is not None:
                    raise SystemExit(f"ipqa serve exited with {proc.returncode}: see {work / 'serve.log'}")
                try:
                    with urllib.request.urlopen(url, timeout=2):
                        break
                except OSError:
                    time.sleep(0.1)
            ready = time.perf_counter() - started
            page.goto(url)
            for i, question in enumerate(questions, 1):
                page.locator("#ipqa-question textarea").fill(question)
                t0 = time.perf_counter()
                page.locator("#ipqa-ask").click()
                try:
                    page.wait_for_function(PENDING_JS, arg=i, timeout=120_000, polling=20)
                except Exception:
                    page.screenshot(path=str(work / "serve-timeout.png"))
                    raise
                times.append(time.perf_counter() - (started if i == 1 else t0))
            rss = peak_rss_mb(proc.pid)
        finally:
            browser.close()
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    return {"kind": "ipqa serve + headless Chromium", "pid": proc.pid, "http_ready_s": ready, "cold_start_s": times[0],
            "peak_rss_mb": rss, "warm_p50_ms": pct(times[1:], 50)}


# -- helpers --------------------------------------------------------------------------------
def load_questions(n: int) -> list[str]:
    """The first n questions of the eval set (answerable and not, all languages)."""
    lines = (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()][:n]


def run_json(cmd: list[str]) -> dict:
    """Run a helper process and parse the JSON it prints."""
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd[:3])} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def pct(values: list[float], q: float) -> float:
    """Percentile in milliseconds."""
    return float(np.percentile(values, q) * 1000)


def verdict(ok: bool) -> str:
    return "— met" if ok else "— NOT met"


def fmt_load(load: tuple[float, float, float] | list[float]) -> str:
    return "/".join(f"{x:.1f}" for x in load)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def machine() -> dict:
    """What the figures were measured on."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "?")
    mem = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), 0)
    import chromadb
    import sentence_transformers
    import torch

    return {"cpu": cpu, "cores": os.cpu_count(), "memory_mb": mem, "python": platform.python_version(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "sentence_transformers": sentence_transformers.__version__, "chromadb": chromadb.__version__,
            "loadavg_start": os.getloadavg()}


if __name__ == "__main__":
    main()
