"""Command line: `ipqa ingest | ask | compare | verify-memo | sources | remove | serve | hash-password | eval | doctor`."""

from __future__ import annotations

import json
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import click

from .errors import IpqaError
from .markers import plain_text
from .settings import Settings


def shown(text: str) -> str:
    """Text for the terminal with control and invisible characters escaped: a file name cannot forge report lines."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in str(text))


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def _assistant(ctx: click.Context):  # type: ignore[no-untyped-def]
    from .api import Assistant

    if "assistant" not in ctx.obj:
        ctx.obj["assistant"] = Assistant(_settings(ctx))
    return ctx.obj["assistant"]


@click.group()
@click.option("--data-dir", type=click.Path(path_type=Path), help="Index location (default .ipqa, or IPQA_DATA_DIR).")
@click.version_option(package_name="ipqa")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None) -> None:
    """Answer questions over IP-policy sources, with verifiable citations."""
    overrides = {"data_dir": data_dir} if data_dir else {}
    ctx.obj = {"settings": Settings(**overrides)}


@cli.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--prune/--no-prune", default=True, show_default=True, help="Drop documents whose files left the ingested folders.")
@click.pass_context
def ingest_cmd(ctx: click.Context, paths: tuple[Path, ...], prune: bool) -> None:
    """Ingest files or folders; unchanged files are skipped, changed ones replaced."""
    report = _assistant(ctx).ingest(list(paths), prune=prune, progress=sys.stderr.isatty())
    for doc_id in report.recovered:
        click.echo(f"recovered: {shown(doc_id)} (an earlier ingest was interrupted; re-ingested)")
    for path, reason in report.failed:
        click.echo(f"failed: {shown(path)}: {shown(reason)}", err=True)
    for path, reason in report.skipped:
        click.echo(f"skipped: {shown(path)}: {shown(reason)}", err=True)
    for path, note in report.warnings:
        click.echo(f"warning: {shown(path)}: {shown(note)}", err=True)
    for doc_id in report.rechunked:
        click.echo(f"re-chunked: {shown(doc_id)} (indexed by an older loader/chunker; unchanged passages keep their vectors)")
    for path, note in report.collisions:
        click.echo(f"name collision: {shown(path)}: {shown(note)}", err=True)
    for label, ids in (("added", report.added), ("changed", report.changed), ("removed", report.removed)):
        for doc_id in ids:
            click.echo(f"{label}: {shown(doc_id)}")
    click.echo(report.summary())
    if report.failed and not (report.added or report.changed or report.unchanged):
        ctx.exit(1)


@cli.command("ask")
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer's record as JSON (the same record the answer log keeps).")
@click.option("--top-k", type=int, help="Passages to retrieve.")
@click.option("--jurisdiction", "jurisdictions", multiple=True, help="Only these jurisdictions (repeatable).")
@click.option("--doc", "doc_ids", multiple=True, help="Only these document ids (repeatable).")
@click.option("--engine", help="extractive or openai (default IPQA_LLM).")
@click.option("--memo", "memo_out", type=click.Path(path_type=Path), help="Also write a verifiable memo (Markdown, or HTML for .html); see `ipqa verify-memo`.")
@click.pass_context
def ask_cmd(
    ctx: click.Context, question: str, as_json: bool, top_k: int | None, jurisdictions: tuple[str, ...], doc_ids: tuple[str, ...], engine: str | None,
    memo_out: Path | None,
) -> None:
    """Ask a question; the answer quotes its sources."""
    result, record = _assistant(ctx).ask_with_record(question, top_k=top_k, jurisdictions=jurisdictions, doc_ids=doc_ids, engine=engine)
    _write_memo(ctx, result, memo_out)
    if as_json:  # the answer-log record: what was asked, the engine, the answer kind, every cited quote with its document's SHA-256
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    text = plain_text(result.text, result.citations)  # a document's own "[2]" printed as \[2], never as a citation
    click.echo("\n\n".join(textwrap.fill(shown(" ".join(p.split())), 100) for p in text.split("\n\n")))
    if result.notice:
        click.echo(f"\nNote: {result.notice}", err=True)
    if result.citations:
        click.echo("\nSources:")
    for c in result.citations:
        where = f", p. {c.page}" if c.page else ""
        click.echo(f"  [{c.n}] {shown(c.title)} — {shown(c.section)}{where}")
        click.echo(f"      {shown(c.url or c.file)}")
        if c.counterpart:  # the same article in the work's other language, and which text is authoritative
            click.echo(f"      also: {shown(c.counterpart.section)} ({shown(c.counterpart.doc_id)}) — {shown(c.counterpart.note)}")


def _write_memo(ctx: click.Context, result, path: Path | None) -> None:  # type: ignore[no-untyped-def]
    if path is None:
        return
    from .memo import write_memo

    write_memo(_assistant(ctx).memo(result), path)
    click.echo(f"memo: {path} (check it later with `ipqa verify-memo {path}`)", err=True)


@cli.command("verify-memo")
@click.argument("memo", type=click.Path(path_type=Path))
@click.pass_context
def verify_memo_cmd(ctx: click.Context, memo: Path) -> None:
    """Re-read the files a memo cites; report quote by quote whether each is still there verbatim (exit 1 if not)."""
    from .memo import verify_memo

    checks = verify_memo(memo)
    for c in checks:
        group = f"{c.label} " if c.label else ""
        click.echo(f"{group}[{c.n}] {c.status:8} {c.doc_id} — {c.provision}: {c.detail}")
    failed = [c for c in checks if not c.passed]
    click.echo(f"{len(checks)} quote{'s' * (len(checks) != 1)}: {len(checks) - len(failed)} still verbatim, {len(failed)} not")
    if failed:
        ctx.exit(1)


def _wrap(text: str) -> str:
    return "\n\n".join(textwrap.fill(shown(" ".join(p.split())), 100) for p in text.split("\n\n"))


@cli.command("compare")
@click.argument("question")
@click.option("--by", type=click.Choice(["jurisdiction", "document"]), help="Group by jurisdiction (default) or by document (default with --doc).")
@click.option("--doc", "doc_ids", multiple=True, help="Only these document ids (repeatable); each is its own group unless --by jurisdiction.")
@click.option("--jurisdiction", "jurisdictions", multiple=True, help="Only these jurisdictions (repeatable).")
@click.option("--top-k", type=int, help="Passages to retrieve per group.")
@click.option("--engine", help="extractive or openai (default IPQA_LLM).")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@click.option("--md", "md_out", type=click.Path(path_type=Path), help="Also write it as Markdown to this file.")
@click.option("--csv", "csv_out", type=click.Path(path_type=Path), help="Also write it as CSV (one row per citation) to this file.")
@click.option("--memo", "memo_out", type=click.Path(path_type=Path), help="Also write a verifiable memo (Markdown, or HTML for .html); see `ipqa verify-memo`.")
@click.pass_context
def compare_cmd(
    ctx: click.Context, question: str, by: str | None, doc_ids: tuple[str, ...], jurisdictions: tuple[str, ...], top_k: int | None,
    engine: str | None, as_json: bool, md_out: Path | None, csv_out: Path | None, memo_out: Path | None,
) -> None:
    """Answer a question separately for each jurisdiction (or document), side by side."""
    from .compare import to_csv, to_markdown

    comparison = _assistant(ctx).compare(question, by=by, documents=doc_ids, jurisdictions=jurisdictions, top_k=top_k, engine=engine)
    for out, text in ((md_out, to_markdown), (csv_out, to_csv)):
        if out:
            out.write_text(text(comparison), encoding="utf-8")
    _write_memo(ctx, comparison, memo_out)
    if as_json:
        click.echo(json.dumps(comparison.to_dict(), ensure_ascii=False, indent=2))
        return
    for g in comparison.groups:
        click.echo(f"== {g.label} ==")
        click.echo(_wrap(plain_text(g.text, g.answer.citations)))  # a document's own "[2]" printed as \[2]
        for c in g.answer.citations if g.answered else ():
            where = f", p. {c.page}" if c.page else ""
            click.echo(f"  [{c.n}] {shown(c.title)} — {shown(c.section)}{where}")
            click.echo(f"      {shown(c.url or c.file)}")
        click.echo("")


@cli.command("sources")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable list.")
@click.pass_context
def sources_cmd(ctx: click.Context, as_json: bool) -> None:
    """List indexed documents."""
    from .catalog import is_upload

    docs = _assistant(ctx).sources()
    if as_json:
        click.echo(json.dumps([d.to_dict() for d in docs], ensure_ascii=False, indent=2))
        return
    if not docs:
        click.echo("The index is empty — run `ipqa ingest corpus/`.")
    for d in docs:
        when = datetime.fromtimestamp(d.ingested_at).strftime("%Y-%m-%d %H:%M")
        mark = " (uploaded)" if is_upload(d.doc_id) else ""
        click.echo(shown(f"{d.doc_id:50} {d.file_type:8} {d.n_passages:6} passages  {when}  {d.info.title[:60]}{mark}"))


@cli.command("remove")
@click.argument("doc_id")
@click.pass_context
def remove_cmd(ctx: click.Context, doc_id: str) -> None:
    """Remove a document (by id, see `ipqa sources`) and its passages."""
    n = _assistant(ctx).remove(doc_id)
    click.echo(f"removed: {doc_id} ({n} passages)")


@cli.command("serve")
@click.option("--host", help="Interface to bind (default 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 7860).")
@click.option("--no-auth", is_flag=True, help="Serve a non-loopback address without authentication (refused otherwise).")
@click.pass_context
def serve_cmd(ctx: click.Context, host: str | None, port: int | None, no_auth: bool) -> None:
    """Start the web chat."""
    settings = _settings(ctx)
    if host:
        settings.host = host
    if port:
        settings.port = port
    from .ui import check_exposure, launch

    check_exposure(settings, no_auth=no_auth)  # before the model loads: a refusal is immediate
    launch(settings, assistant=_assistant(ctx), no_auth=no_auth)


@cli.command("hash-password")
@click.option("--user", "name", required=True, help="User name.")
@click.option("--role", type=click.Choice(["admin", "reader"]), default="admin", show_default=True, help="reader: may ask, not upload, remove or re-ingest.")
@click.password_option("--password", help="The password (prompted, hidden, when not given; read from stdin when piped).")
def hash_password_cmd(name: str, role: str, password: str) -> None:
    """Print a line for IPQA_AUTH_FILE: name:role:scrypt hash of the password."""
    from .webauth import hash_password

    if not name or ":" in name or any(not ch.isprintable() or ch.isspace() for ch in name):
        raise click.BadParameter("a user name without ':' or spaces", param_hint="--user")
    if not password:
        raise click.BadParameter("an empty password", param_hint="--password")
    click.echo(f"{name}:{role}:{hash_password(password)}")


@cli.command("eval")
@click.option("--set", "eval_set", type=click.Path(path_type=Path), default=Path("eval/questions.jsonl"), show_default=True, help="Eval file (JSONL).")
@click.option("--corpus", type=click.Path(path_type=Path), help="Folder of documents to ingest first (default: the corpus folder).")
@click.option("--index-dir", type=click.Path(path_type=Path), help="Index for the eval (default: <data-dir>/eval, reused incrementally).")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=Path("eval/reports/latest.json"), show_default=True)
@click.option("--md", "md_out", type=click.Path(path_type=Path), default=Path("eval/reports/latest.md"), show_default=True)
@click.option("--html", "html_out", type=click.Path(path_type=Path), default=Path("eval/reports/latest.html"), show_default=True)
@click.option("--gate", type=click.Path(path_type=Path, exists=True), help="TOML thresholds (checked on the first engine); exit 1 when a metric misses one.")
@click.option("--baseline", type=click.Path(path_type=Path, exists=True), help="An earlier JSON report: print each metric's change, flag those outside the interval.")
@click.option("--engine", "engines", multiple=True, help="extractive and/or openai (repeat to compare side by side; default IPQA_LLM).")
@click.pass_context
def eval_cmd(
    ctx: click.Context, eval_set: Path, corpus: Path | None, index_dir: Path | None, json_out: Path, md_out: Path, html_out: Path,
    gate: Path | None, baseline: Path | None, engines: tuple[str, ...],
) -> None:
    """Measure retrieval, citation and refusal accuracy on an eval set (a citation that is not verbatim stops the run)."""
    from . import evalreport, evaluate
    from .api import Assistant

    questions = evaluate.load_set(eval_set)
    old = None
    if baseline:
        try:
            old = json.loads(baseline.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise evaluate.EvalSetError(f"{baseline}: not a JSON eval report ({exc})") from None
    base = _settings(ctx)
    settings = base.model_copy(update={"data_dir": index_dir or base.data_dir / "eval"})
    assistant = Assistant(settings, embedder=_assistant(ctx).embedder)
    report = assistant.ingest([corpus or base.corpus_dir], progress=sys.stderr.isatty())
    click.echo(f"index: {report.summary()}", err=True)
    for path, reason in report.failed:
        click.echo(f"failed: {shown(path)}: {shown(reason)}", err=True)
    questions = evaluate.resolve(questions, assistant)
    runs = [evaluate.run(assistant, questions, engine=engine, progress=sys.stderr.isatty()) for engine in (engines or (None,))]
    if old is not None:
        for r in runs:
            r["baseline"] = evaluate.compare_baseline(r, evaluate.baseline_of(old, r["engine"]))
    evalreport.write_reports(runs, json_out, md_out, html_out, note=lambda line: click.echo(line, err=True))
    click.echo(evalreport.side_by_side(runs))
    click.echo(f"reports: {md_out}, {html_out}, {json_out}")
    results = runs[0]
    if old is not None:
        click.echo(evalreport.baseline_text(results["baseline"]))
    if gate:
        failures = evaluate.check_gate(results, gate)
        for failure in failures:
            click.echo(f"below threshold: {failure}", err=True)
        if failures:
            ctx.exit(1)
        click.echo(f"gate passed: {gate}")


@cli.command("doctor")
@click.option("--fix", is_flag=True, help="Repair what is safe: finish crash recovery, delete orphan vectors, rebuild BM25.")
@click.pass_context
def doctor_cmd(ctx: click.Context, fix: bool) -> None:
    """Check the model, the catalog and the index; print what to fix (exit 1 on a problem)."""
    from .doctor import FAIL, WARN, repair, run_checks

    settings = _settings(ctx)
    if fix:
        for line in repair(settings):
            click.echo(f"fixed: {line}")
    checks = run_checks(settings, _assistant(ctx).embedder)
    for check in checks:
        click.echo(check.line())
    problems = sum(c.status == FAIL for c in checks)
    warnings = sum(c.status == WARN for c in checks)
    click.echo(f"{problems} problem{'s' * (problems != 1)}, {warnings} warning{'s' * (warnings != 1)}" + (" — see the fixes above" if problems else ""))
    if problems:
        ctx.exit(1)


def main() -> None:
    """Entry point: one clear line and a non-zero exit on any ipqa error."""
    try:
        # Without standalone mode click returns (not raises) the code of `ctx.exit(n)`.
        code = cli(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except IpqaError as exc:
        if Settings().debug:
            raise
        click.echo(f"Error: {shown(str(exc))}", err=True)
        sys.exit(getattr(exc, "exit_code", 1))
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
