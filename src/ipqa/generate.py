"""Generative answers: an LLM writes from numbered passages, every sentence is checked against what it cites.

Pipeline: retrieve -> refuse without the model when the evidence gate finds nothing -> prompt with passages
[1]..[k] and their section labels -> parse the reply's `[n]` markers (unknown numbers removed) -> verify each
sentence against the passages it cites (verify.py) -> renumber markers to citations whose quote is the
best-matching span. Any failure of the model (unreachable, timeout, malformed reply) gives the extractive
answer with a notice saying why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace

from .answer import citation_label, compose, evidence_for
from .embedding import Embedder
from .llm import ChatModel, LlmError, LlmMalformed, LlmTimeout, LlmUnavailable
from .prompts import (
    EMPTY_QUESTION,
    LLM_HISTORY,
    LLM_MALFORMED,
    LLM_NOT_CONFIGURED,
    LLM_PASSAGE,
    LLM_SYSTEM,
    LLM_TIMED_OUT,
    LLM_UNREACHABLE,
    LLM_UNSUPPORTED,
    LLM_USER,
    REFUSAL,
    UNCITED_MARK,
    UNSUPPORTED_MARK,
)
from .retrieve import Filters
from .settings import Settings
from .store import Store
from .types import ANSWERED, Answer, Citation, Hit, SourceInfo
from .verify import UNSUPPORTED, Claim, Embed, Support, is_claim, split_claims, strip_reasoning, support


def build_prompt(question: str, hits: Sequence[Hit], infos: dict[str, SourceInfo], history: Sequence[tuple[str, str]] = ()) -> tuple[str, str]:
    """System and user messages: passages numbered [1]..[k] with title and section label, then the question."""
    blocks = []
    for n, hit in enumerate(hits, 1):
        p = hit.passage
        info = infos.get(p.doc_id)
        page = f", p. {p.page}" if p.page is not None else ""
        title = re.sub(r"^the\s+", "", info.short_title) if info else p.doc_id
        blocks.append(LLM_PASSAGE.format(n=n, title=title, section=p.section, page=page, text=p.text.strip()))
    previous = LLM_HISTORY.format(previous=history[-1][0]) if history else ""
    return LLM_SYSTEM, LLM_USER.format(passages="\n\n".join(blocks), history=previous, question=question)


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()


# A model's own way of saying the passages do not answer (it was asked for the exact refusal sentence, but may paraphrase).
_REFUSAL_LIKE = re.compile(
    r"^(?:the |these )?(?:indexed |provided |given |numbered )?(?:sources|passages|documents|texts) (?:do|does) not (?:answer|address|say|mention|contain|state|cover)"
    r"|^i (?:cannot|can t|am unable to|am not able to) (?:answer|find|determine)"
)


def _is_refusal(text: str) -> bool:
    norm = _norm(text)
    return norm.startswith(_norm(REFUSAL)) or bool(_REFUSAL_LIKE.search(norm))


def verified_answer(question: str, reply: str, hits: Sequence[Hit], infos: dict[str, SourceInfo], embed: Embed, engine: str) -> Answer:
    """Parse a reply's citations and verify each sentence; raises LlmMalformed when nothing usable is left."""
    hits = tuple(hits)
    claims = split_claims(reply, len(hits))
    if not claims:
        raise LlmMalformed("empty reply")
    if any(_is_refusal(c.text) for c in claims) and not any(c.cited for c in claims):
        return Answer(question, REFUSAL, False, (), hits, engine=engine, reason="model-refused")
    if not any(c.cited for c in claims):
        raise LlmMalformed("it cites none of the passages")
    writer = _Writer(hits, infos, embed)
    for i, claim in enumerate(claims, 1):
        writer.add(i, claim)
    notice = LLM_UNSUPPORTED.format(n=writer.unsupported, total=writer.checked) if writer.unsupported else ""
    return Answer(question, writer.text(), True, tuple(writer.citations), hits, engine=engine, notice=notice, flags=tuple(writer.flags))


class _Writer:
    """Builds the verified text: markers renumbered to citations, unsupported sentences marked."""

    def __init__(self, hits: tuple[Hit, ...], infos: dict[str, SourceInfo], embed: Embed) -> None:
        self.hits = hits
        self.infos = infos
        self.embed = _cached(embed)
        self.citations: list[Citation] = []
        self.flags: list[str] = []
        self.parts: list[str] = []
        self.unsupported = 0
        self.checked = 0
        self._numbers: dict[tuple[int, int, int], int] = {}

    def add(self, i: int, claim: Claim) -> None:
        sep = claim.sep if "\n" in claim.sep else " "
        if claim.invalid:
            self.flags.append(f"removed-marker: {' '.join(claim.invalid)} in sentence {i} (passages are [1]–[{len(self.hits)}])")
        if _is_refusal(claim.text) and not claim.cited:
            return  # the refusal sentence next to an answer says nothing
        if not claim.cited:
            if is_claim(claim.text):
                self.checked += 1
                self.unsupported += 1
                self.flags.append(f"{UNSUPPORTED}: sentence {i} cites no passage — “{_clip(claim.text)}”")
                self.parts.append(f"{sep}{claim.text} {UNCITED_MARK}")
            else:
                self.parts.append(f"{sep}{claim.text}")
            return
        self.checked += 1
        verdicts = {n: self._support(claim.text, n) for n in claim.cited}
        good = [n for n in claim.cited if verdicts[n].supported]
        if good:
            for n in claim.cited:
                if n not in good:
                    self.flags.append(f"dropped-citation: [{n}] from sentence {i} — that passage does not support it")
            markers = "".join(f"[{self._cite(n, verdicts[n])}]" for n in good)
            self.parts.append(f"{sep}{claim.text} {markers}".rstrip())
            return
        self.unsupported += 1
        best = max(claim.cited, key=lambda n: verdicts[n].score)
        v = verdicts[best]
        why = f"{', '.join(v.missing)} not in the cited passage" if v.missing else f"support {v.score:.2f} below the threshold"
        self.flags.append(f"{UNSUPPORTED}: sentence {i} ({why}) — “{_clip(claim.text)}”")
        markers = "".join(f"[{self._cite(n, verdicts[n])}]" for n in claim.cited)
        self.parts.append(f"{sep}{claim.text} {markers} {UNSUPPORTED_MARK}")

    def _support(self, sentence: str, n: int) -> Support:
        p = self.hits[n - 1].passage
        info = self.infos.get(p.doc_id)
        context = " — ".join(filter(None, [info.title if info else p.doc_id, p.section, p.headings]))
        return support(sentence, p.text, self.embed, context=context)

    def _cite(self, n: int, verdict: Support) -> int:
        """Citation number for the quote of passage n (one citation per distinct quote)."""
        key = (n, verdict.start, verdict.end)
        if key not in self._numbers:
            hit = self.hits[n - 1]
            self._numbers[key] = len(self.citations) + 1
            self.citations.append(_citation(len(self.citations) + 1, hit, self.infos, verdict.start, verdict.end))
        return self._numbers[key]

    def text(self) -> str:
        return "".join(self.parts).strip()


def _citation(n: int, hit: Hit, infos: dict[str, SourceInfo], start: int, end: int) -> Citation:
    p = hit.passage
    info = infos.get(p.doc_id) or SourceInfo(p.doc_id, p.doc_id, p.doc_id, p.doc_id)
    breaks = p.meta.get("page_breaks") or []
    page = None if p.page is None else p.page + sum(1 for b in breaks if b <= start)
    return Citation(
        n=n, passage_id=p.passage_id, doc_id=p.doc_id, work_id=info.work_id, title=info.title, section=citation_label(hit, start),
        page=page, quote=p.text[start:end], quote_start=start, quote_end=end, doc_start=p.start + start, doc_end=p.start + end,
        passage=p.text, url=info.url, file=info.file, jurisdiction=info.jurisdiction, date=info.date,
    )


def _clip(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cached(embed: Embed) -> Embed:
    """Embed each distinct text once per answer (several sentences may cite one passage)."""
    memo: dict[str, list[float]] = {}

    def run(texts: Sequence[str]) -> list[list[float]]:
        todo = list(dict.fromkeys(t for t in texts if t not in memo))
        for t, v in zip(todo, embed(todo) if todo else [], strict=True):
            memo[t] = v
        return [memo[t] for t in texts]

    return run


def fallback(extractive: Answer, notice: str, reason: str) -> Answer:
    """The extractive answer, saying why the LLM's was not used."""
    return replace(extractive, engine="extractive", notice=notice, flags=(*extractive.flags, f"fallback: {reason}"))


def _failure(exc: LlmError | None, llm: ChatModel | None, settings: Settings) -> tuple[str, str]:
    """(notice, flag reason) for a model that could not answer."""
    if llm is None or exc is None:
        return LLM_NOT_CONFIGURED, "not-configured"
    if isinstance(exc, LlmTimeout):
        return LLM_TIMED_OUT.format(url=llm.url, seconds=settings.llm_timeout), "timeout"
    if isinstance(exc, LlmUnavailable):
        return LLM_UNREACHABLE.format(url=llm.url, reason=exc), "unreachable"
    return LLM_MALFORMED.format(reason=exc), "malformed"


def answer(
    question: str,
    *,
    store: Store,
    embedder: Embedder,
    settings: Settings,
    llm: ChatModel | None,
    engine: str,
    history: Sequence[tuple[str, str]] = (),
    filters: Filters | None = None,
    top_k: int | None = None,
) -> Answer:
    """A verified generative answer, the refusal, or the extractive fallback with a notice."""
    steps = stream(question, store=store, embedder=embedder, settings=settings, llm=llm, engine=engine, history=history, filters=filters, top_k=top_k, tokens=False)
    for _, result in steps:
        if result is not None:
            return result
    raise AssertionError("stream() always ends with an Answer")


def stream(
    question: str,
    *,
    store: Store,
    embedder: Embedder,
    settings: Settings,
    llm: ChatModel | None,
    engine: str,
    history: Sequence[tuple[str, str]] = (),
    filters: Filters | None = None,
    top_k: int | None = None,
    tokens: bool = True,
) -> Iterator[tuple[str, Answer | None]]:
    """Yield (text so far, None) as the model writes, then (verified text, Answer) — which replaces what streamed."""
    # Retrieval and the answerability stage are the gate: when the sources do not answer (nothing retrieved, a name or
    # provision the index lacks, weak evidence) or contradict the premise, this engine says so as the extractive one
    # does, without calling the model. The extractive answer is written only as the fallback.
    question = question.strip()
    if not question:
        empty = Answer(question, EMPTY_QUESTION, False, (), (), engine=engine, reason="empty")
        yield empty.text, empty
        return
    query, evidence, infos = evidence_for(question, store=store, embedder=embedder, settings=settings, history=history, filters=filters, top_k=top_k)
    extractive = compose(question, query, evidence, infos, settings, store=store, embedder=embedder)
    if extractive.kind != ANSWERED:
        yield extractive.text, replace(extractive, engine=engine)
        return
    if llm is None:
        result = fallback(extractive, *_failure(None, None, settings))
        yield result.text, result
        return
    hits = list(evidence.hits)
    system, user = build_prompt(question, hits, infos, history)
    try:
        if tokens:
            received: list[str] = []
            for piece in llm.stream(system, user):
                received.append(piece)
                shown = strip_reasoning("".join(received))
                if shown:
                    yield shown, None
            reply = "".join(received)
        else:
            reply = llm.complete(system, user)
        result = verified_answer(extractive.question, reply, hits, infos, embedder.embed, engine)
    except LlmError as exc:
        result = fallback(extractive, *_failure(exc, llm, settings))
    yield result.text, result
