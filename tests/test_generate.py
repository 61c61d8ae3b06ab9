"""Generative answers against a scripted OpenAI-compatible server on 127.0.0.1, over the real `small` index.

The server is a real HTTP server (stdlib) speaking the chat-completions API, plain and streamed (SSE); each
test scripts what the "model" replies — correct citations, wrong ones, out-of-range markers, unsupported
sentences, fabricated figures, malformed or empty output, slow replies — and checks what reaches the user.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ipqa.api import Assistant
from ipqa.embedding import Embedder
from ipqa.errors import ConfigError
from ipqa.generate import build_prompt
from ipqa.prompts import (
    LLM_NOT_CONFIGURED,
    LLM_SYSTEM,
    REFUSAL,
    UNCITED_MARK,
    UNSUPPORTED_MARK,
)
from ipqa.settings import Settings
from ipqa.verify import count_unsupported

Q_ART8 = "What does the WIPO Copyright Treaty say about the right of communication to the public?"
ART8 = "authors of literary and artistic works shall enjoy the exclusive right of authorizing any communication to the public of their works"


class ScriptedLLM:
    """What the scripted server answers next; every request body is kept."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.reply: str | Callable[[str], str] = ""
        self.delay = 0.0  # before the response starts
        self.chunk_delay = 0.0  # between streamed chunks (after the first)
        self.status = 200
        self.raw: bytes | None = None  # a body sent as-is (malformed output)
        self.requests: list[dict] = []

    def text_for(self, body: dict) -> str:
        prompt = body["messages"][-1]["content"]
        return self.reply(prompt) if callable(self.reply) else self.reply


def _handler(script: ScriptedLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            script.requests.append(body)
            try:
                time.sleep(script.delay)
                if script.status != 200:
                    self._send(script.status, json.dumps({"error": {"message": "scripted failure", "type": "server_error"}}).encode())
                elif script.raw is not None and not body.get("stream"):
                    self._send(200, script.raw)
                elif body.get("stream"):
                    self._stream(body)
                else:
                    message = {"role": "assistant", "content": script.text_for(body)}
                    self._send(200, json.dumps(_completion(body, {"index": 0, "message": message, "finish_reason": "stop"})).encode())
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout tests)

        def _send(self, status: int, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _stream(self, body: dict) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            if script.raw is not None:
                self.wfile.write(b"data: " + script.raw + b"\n\n")
                self.wfile.flush()
                return
            pieces = re.findall(r"\S+\s*|\s+", script.text_for(body))
            for i, piece in enumerate(pieces):
                if i and script.chunk_delay:
                    time.sleep(script.chunk_delay)
                chunk = _completion(body, {"index": 0, "delta": {"content": piece}, "finish_reason": None}, "chat.completion.chunk")
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            done = _completion(body, {"index": 0, "delta": {}, "finish_reason": "stop"}, "chat.completion.chunk")
            self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
            self.wfile.flush()

    return Handler


def _completion(body: dict, choice: dict, kind: str = "chat.completion") -> dict:
    return {"id": "cmpl-test", "object": kind, "created": 1700000000, "model": body.get("model", "scripted"), "choices": [choice]}


@pytest.fixture(scope="module")
def llm_server() -> Iterator[tuple[str, ScriptedLLM]]:
    """The scripted server on a free port of 127.0.0.1: (base URL, script)."""
    script = ScriptedLLM()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", script
    server.shutdown()
    server.server_close()


@pytest.fixture
def llm(llm_server: tuple[str, ScriptedLLM]) -> ScriptedLLM:
    """The script, reset for this test."""
    llm_server[1].reset()
    return llm_server[1]


@pytest.fixture
def gen(small: Assistant, embedder: Embedder, llm_server: tuple[str, ScriptedLLM]) -> Assistant:
    """An assistant over the small index whose engine is the scripted server."""
    settings = Settings(data_dir=small.settings.data_dir, llm="openai", llm_url=llm_server[0], llm_model="scripted", llm_timeout=5)
    return Assistant(settings, embedder=embedder)


def number_of(prompt: str, title: str, section: str) -> int:
    """The [n] the prompt gave the passage of `title` labelled `section` (what a model would read)."""
    for m in re.finditer(r"^\[(\d+)\] (.+?) — (.+)$", prompt, re.M):
        if title.lower() in m.group(2).lower() and m.group(3).split(",")[0].strip() == section:
            return int(m.group(1))
    raise AssertionError(f"{title} {section} not among the prompt's passages:\n{prompt[:2000]}")


def other_than(prompt: str, n: int) -> int:
    """The last passage of the prompt that is not passage n's provision (a wrong citation)."""
    headers = {int(m.group(1)): m.group(2) for m in re.finditer(r"^\[(\d+)\] (.+)$", prompt, re.M)}
    return max(x for x, header in headers.items() if header != headers[n])


def art8(prompt: str) -> int:
    return number_of(prompt, "WIPO Copyright Treaty", "Article 8")


def assert_citations_verbatim(result) -> None:  # type: ignore[no-untyped-def]
    for c in result.citations:
        assert c.passage[c.quote_start : c.quote_end] == c.quote
        assert c.quote.strip() and c.quote_end > c.quote_start
        assert f"[{c.n}]" in result.text


# -- prompting ------------------------------------------------------------------------------------


def test_prompt_numbers_passages_with_labels_and_requires_citations(gen: Assistant, llm: ScriptedLLM) -> None:
    llm.reply = lambda prompt: f"Authors enjoy the exclusive right of authorizing any communication to the public of their works [{art8(prompt)}]."
    result = gen.ask(Q_ART8)
    body = llm.requests[-1]
    system, user = body["messages"][0]["content"], body["messages"][1]["content"]
    assert system == LLM_SYSTEM and REFUSAL in system and "[2]" in system
    assert re.search(r"^\[1\] .+ — .+\n", user, re.M)
    numbers = [int(n) for n in re.findall(r"^\[(\d+)\] ", user, re.M)]
    assert numbers == list(range(1, len(result.hits) + 1))
    assert user.rstrip().endswith("with [n] after every sentence.") and Q_ART8 in user
    assert body["model"] == "scripted" and body["temperature"] == 0.0


def test_build_prompt_is_pure(small: Assistant) -> None:
    hits = small.store.doc_passages("wipo-copyright-treaty-wct-1996")[:2]
    from ipqa.types import Hit

    infos = {r.doc_id: r.info for r in small.sources()}
    system, user = build_prompt("Q?", [Hit(p, 1.0) for p in hits], infos, history=[("Earlier?", "A.")])
    assert user.startswith("Passages:\n\n[1] ") and "\n\n[2] " in user and "Earlier question in this conversation: Earlier?" in user


# -- what the model writes -------------------------------------------------------------------------


def test_correct_citations_are_verified_and_quoted(gen: Assistant, llm: ScriptedLLM) -> None:
    llm.reply = lambda p: (
        f"Under Article 8 of the WCT, authors enjoy the exclusive right of authorizing any communication to the public of their works, "
        f"by wire or wireless means [{art8(p)}]. This includes making works available so that members of the public may access them "
        f"from a place and at a time individually chosen by them [{art8(p)}]."
    )
    result = gen.ask(Q_ART8)
    assert result.engine == "openai" and result.answered and not result.notice
    assert count_unsupported(result.flags) == 0 and not result.flags
    assert UNSUPPORTED_MARK not in result.text
    assert {c.section.split("(")[0] for c in result.citations} == {"Article 8"}
    assert any(ART8 in c.quote for c in result.citations)
    assert_citations_verbatim(result)
    assert result.text == (
        "Under Article 8 of the WCT, authors enjoy the exclusive right of authorizing any communication to the public of their works, "
        "by wire or wireless means. [1] This includes making works available so that members of the public may access them "
        "from a place and at a time individually chosen by them. [1]"
    )


def test_wrong_citation_is_flagged_not_presented_as_supported(gen: Assistant, llm: ScriptedLLM) -> None:
    llm.reply = lambda p: f"Authors enjoy the exclusive right of authorizing any communication to the public of their works [{other_than(p, art8(p))}]."
    result = gen.ask(Q_ART8)
    assert result.engine == "openai" and result.answered
    assert count_unsupported(result.flags) == 1
    assert result.text.endswith(UNSUPPORTED_MARK)
    assert "1 of 1 sentences are not supported" in result.notice
    assert ART8 not in result.citations[0].quote  # it quotes what the cited passage actually says
    assert_citations_verbatim(result)


def test_one_wrong_marker_among_right_ones_is_dropped(gen: Assistant, llm: ScriptedLLM) -> None:
    llm.reply = lambda p: (
        "Authors enjoy the exclusive right of authorizing any communication to the public of their works, by wire or wireless means "
        f"[{art8(p)}][{other_than(p, art8(p))}]."
    )
    result = gen.ask(Q_ART8)
    assert count_unsupported(result.flags) == 0
    assert [f for f in result.flags if f.startswith("dropped-citation:")]
    assert len(result.citations) == 1 and ART8 in result.citations[0].quote
    assert result.text.endswith("[1]")


def test_out_of_range_markers_are_removed(gen: Assistant, llm: ScriptedLLM) -> None:
    llm.reply = lambda p: (
        f"Authors enjoy the exclusive right of authorizing any communication to the public of their works [{art8(p)}][99]. "
        "The treaty also obliges States to tax streaming platforms [0]."
    )
    result = gen.ask(Q_ART8)
    assert "[99]" not in result.text and "[0]" not in result.text
    assert any(f.startswith("removed-marker: [99] in sentence 1") for f in result.flags)
    assert any(f.startswith("removed-marker: [0] in sentence 2") for f in result.flags)
    # The second sentence had only a bad marker: it is uncited, hence unsupported.
    assert count_unsupported(result.flags) == 1
    assert result.text.endswith(f"platforms. {UNCITED_MARK}")
    assert [c.n for c in result.citations] == [1]


def test_unsupported_sentence_is_flagged(gen: Assistant, llm: ScriptedLLM) -> None:
    llm.reply = lambda p: (
        f"Authors enjoy the exclusive right of authorizing any communication to the public of their works [{art8(p)}]. "
        f"Contracting Parties must also impose criminal penalties on platforms that host pirated films [{art8(p)}]."
    )
    result = gen.ask(Q_ART8)
    assert count_unsupported(result.flags) == 1
    first, second = result.text.split("\n")[0].split(". ", 1)
    assert UNSUPPORTED_MARK not in first and second.endswith(UNSUPPORTED_MARK)
    assert any("sentence 2" in f and "criminal penalties" in f for f in result.flags if f.startswith("unsupported"))
    assert "1 of 2 sentences" in result.notice


def test_fabricated_number_is_flagged(gen: Assistant, llm: ScriptedLLM) -> None:
    llm.reply = lambda p: (
        f"Under Article 8, authors enjoy for 70 years the exclusive right of authorizing any communication to the public of their works [{art8(p)}]."
    )
    result = gen.ask(Q_ART8)
    assert count_unsupported(result.flags) == 1
    assert any("70 not in the cited passage" in f for f in result.flags)
    assert result.text.endswith(UNSUPPORTED_MARK)


def test_model_refusal_is_an_abstention(gen: Assistant, llm: ScriptedLLM) -> None:
    llm.reply = REFUSAL
    result = gen.ask(Q_ART8)
    assert (result.text, result.answered, result.citations, result.engine) == (REFUSAL, False, (), "openai")


def test_reasoning_block_is_not_shown(gen: Assistant, llm: ScriptedLLM) -> None:
    llm.reply = lambda p: f"<think>Passage {art8(p)} is the one.</think>Authors have the exclusive right of authorizing communication to the public [{art8(p)}]."
    result = gen.ask(Q_ART8)
    assert "think" not in result.text and result.text.startswith("Authors have") and not result.flags


# -- the refusal never calls the model ----------------------------------------------------------------


def test_nothing_retrieved_refuses_without_calling_the_model(gen: Assistant, llm: ScriptedLLM) -> None:
    result = gen.ask(Q_ART8, doc_ids=["no-such-document"])
    assert (result.text, result.answered) == (REFUSAL, False)
    missing = gen.ask("What does Article 45 of the WIPO Copyright Treaty provide?")
    assert not missing.answered and "Article 45" in missing.text
    assert llm.requests == []


def test_the_answerability_gate_refuses_and_corrects_like_the_extractive_engine(gen: Assistant, small: Assistant, llm: ScriptedLLM) -> None:
    """Names the index lacks and premise contradictions are judged before the model is asked, the same for both engines."""
    for question in ("What did the court hold in Thaler v. Vidal?", "Why does the WCT protect computer programs for 70 years after publication?"):
        by_model, extractive = gen.ask(question), small.ask(question, engine="extractive")
        assert (by_model.kind, by_model.reason, by_model.text) == (extractive.kind, extractive.reason, extractive.text)
        assert [c.quote for c in by_model.citations] == [c.quote for c in extractive.citations]
        assert by_model.kind != "answered"
    assert llm.requests == []


def test_a_paraphrased_model_refusal_is_recognised(gen: Assistant, llm: ScriptedLLM) -> None:
    llm.reply = "The provided passages do not address this question."
    result = gen.ask(Q_ART8)
    assert (result.kind, result.reason, result.citations) == ("refused", "model-refused", ())


# -- failures of the model give the extractive answer with a notice -----------------------------------


def _assert_fallback(result, notice_start: str) -> None:  # type: ignore[no-untyped-def]
    assert result.engine == "extractive"
    assert result.notice.startswith(notice_start), result.notice
    assert result.answered and result.citations  # the extractive answer to this question
    assert any(f.startswith("fallback: ") for f in result.flags)
    assert_citations_verbatim(result)


@pytest.mark.parametrize(
    ("raw", "reply", "reason"),
    [
        (b"this is not JSON", "", "could not be used"),
        (b'{"id": "x", "object": "chat.completion", "choices": []}', "", "could not be used"),
        (None, "", "could not be used (empty reply)"),
        (None, "Authors have rights over communication to the public, as the treaty says.", "could not be used (it cites none"),
    ],
    ids=["not-json", "no-choices", "empty", "no-citations"],
)
def test_malformed_output_falls_back(gen: Assistant, llm: ScriptedLLM, raw: bytes | None, reply: str, reason: str) -> None:
    llm.raw, llm.reply = raw, reply
    _assert_fallback(gen.ask(Q_ART8), f"The LLM's reply {reason}")


def test_timeout_falls_back_quickly(small: Assistant, embedder: Embedder, llm_server: tuple[str, ScriptedLLM], llm: ScriptedLLM) -> None:
    settings = Settings(data_dir=small.settings.data_dir, llm="openai", llm_url=llm_server[0], llm_timeout=0.5)
    llm.delay, llm.reply = 4.0, "too late [1]."
    result = Assistant(settings, embedder=embedder).ask(Q_ART8)  # how fast: benchmarks, not a wall-clock assert here
    _assert_fallback(result, f"The LLM at {llm_server[0]} did not answer within 0.5 s")


def test_http_error_falls_back(gen: Assistant, llm: ScriptedLLM) -> None:
    llm.status = 500
    result = gen.ask(Q_ART8)
    _assert_fallback(result, "The LLM at http://127.0.0.1:")
    assert "HTTP 500" in result.notice and "scripted failure" in result.notice


def test_unreachable_server_falls_back(small: Assistant, embedder: Embedder) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free, and nothing listens once closed
    settings = Settings(data_dir=small.settings.data_dir, llm="openai", llm_url=f"http://127.0.0.1:{port}/v1", llm_timeout=2)
    result = Assistant(settings, embedder=embedder).ask(Q_ART8)
    _assert_fallback(result, f"The LLM at http://127.0.0.1:{port}/v1 could not be reached")


def test_llm_without_url_falls_back_with_notice(small: Assistant, embedder: Embedder) -> None:
    result = Assistant(Settings(data_dir=small.settings.data_dir, llm="openai"), embedder=embedder).ask(Q_ART8)
    _assert_fallback(result, LLM_NOT_CONFIGURED)


# -- streaming ------------------------------------------------------------------------------------------


def test_stream_yields_model_tokens_then_the_verified_answer(gen: Assistant, llm: ScriptedLLM) -> None:
    llm.reply = lambda p: (
        f"Authors enjoy the exclusive right of authorizing any communication to the public of their works [{art8(p)}]. "
        f"The treaty sets a 95-year term for such works [{art8(p)}]."
    )
    steps = list(gen.stream(Q_ART8))
    partials = [text for text, result in steps if result is None]
    text, result = steps[-1]
    assert llm.requests[-1]["stream"] is True
    assert len(partials) > 10 and all(a in b or b.startswith(a.rstrip()) for a, b in zip(partials, partials[1:], strict=False))
    assert partials[0].startswith("Authors") and "95-year" in partials[-1]
    assert result is not None and text == result.text and result.engine == "openai"
    assert count_unsupported(result.flags) == 1 and "95 not in the cited passage" in " ".join(result.flags)
    assert_citations_verbatim(result)


def test_stream_timeout_mid_answer_falls_back(small: Assistant, embedder: Embedder, llm_server: tuple[str, ScriptedLLM], llm: ScriptedLLM) -> None:
    settings = Settings(data_dir=small.settings.data_dir, llm="openai", llm_url=llm_server[0], llm_timeout=0.5)
    llm.reply, llm.chunk_delay = "Authors enjoy rights [1] and more words follow slowly.", 2.0
    steps = list(Assistant(settings, embedder=embedder).stream(Q_ART8))
    assert steps[0] == ("Authors", None)
    _assert_fallback(steps[-1][1], f"The LLM at {llm_server[0]} did not answer within 0.5 s")


def test_stream_malformed_event_falls_back(gen: Assistant, llm: ScriptedLLM) -> None:
    llm.raw = b"{this is not json"
    text, result = list(gen.stream(Q_ART8))[-1]
    _assert_fallback(result, "The LLM's reply could not be used")


# -- choosing the engine ---------------------------------------------------------------------------------


def test_engine_can_be_chosen_per_assistant_and_per_call(gen: Assistant, small: Assistant, embedder: Embedder, llm: ScriptedLLM) -> None:
    assert gen.engine == "openai" and small.engine == "extractive"
    extractive = gen.ask(Q_ART8, engine="extractive")
    assert extractive.engine == "extractive" and not extractive.notice and llm.requests == []
    llm.reply = lambda p: f"Authors have the exclusive right of authorizing communication to the public [{art8(p)}]."
    forced = Assistant(gen.settings.model_copy(update={"llm": "extractive"}), embedder=embedder, engine="openai")
    assert forced.ask(Q_ART8).engine == "openai" and len(llm.requests) == 1
    with pytest.raises(ConfigError, match="Unknown answer engine 'gpt' — use one of: extractive, openai"):
        gen.ask(Q_ART8, engine="gpt")


def test_settings_read_llm_fields_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPQA_LLM", "openai")
    monkeypatch.setenv("IPQA_LLM_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("IPQA_LLM_API_KEY", "sk-test")
    monkeypatch.setenv("IPQA_LLM_TIMEOUT", "7.5")
    settings = Settings()
    assert (settings.llm, settings.llm_url, settings.llm_timeout) == ("openai", "http://127.0.0.1:9/v1", 7.5)
    assert settings.llm_api_key is not None and settings.llm_api_key.get_secret_value() == "sk-test"
    assert "sk-test" not in repr(settings)
