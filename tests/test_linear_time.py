"""Pathological shapes cost linear time (issue #14 item 2): each shape at sizes s and 4s, the larger costs at
most about 6x the smaller (a ratio measured in one run, never a wall-clock limit). A cheap deterministic
token counter stands in for the model's tokenizer, so the chunker's own work is what is measured."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ipqa.chunking import MAX_PASSAGE_CHARS, chunk
from ipqa.loaders import load
from ipqa.types import Document

_TOKEN = re.compile(r"\w+|[^\w\s]")
RATIO = 6.0


def count_tokens(text: str) -> int:
    """One token per word or punctuation mark (linear, deterministic)."""
    return len(_TOKEN.findall(text))


def run_on_line(n: int) -> str:
    return " ".join(f"word{i % 97}" for i in range(n))  # one line, no punctuation


def flat_text(n: int) -> str:
    return "\n".join(" ".join(f"term{(i + j) % 89}" for j in range(12)) for i in range(n // 12))


def blank_lines(n: int) -> str:
    return "Opening words of the notice.\n" + "\n" * n + "Closing words of the notice.\n" + "\n \n" * n + "The end."


def giant_word(n: int) -> str:
    return "x" * (6 * n)


def many_articles(n: int) -> str:
    return "".join(f"Article {i}\n\n1. Each Party shall protect works of kind {i}.\n(a) in print;\n" for i in range(n // 15))


def cjk_run(n: int) -> str:
    return "著作権者は" * (n // 3)


def _ratio(make: Callable[[int], Callable[[], object]], size: int) -> tuple[float, float]:
    """CPU seconds of the work at size s and at 4s: each the best of three runs, interleaved so load on the machine hits
    both. CPU time of this process (not wall time), so other processes competing for the cores do not inflate one side."""
    works = make(size), make(4 * size)
    best = [float("inf"), float("inf")]
    for _ in range(3):
        for k, work in enumerate(works):
            started = time.process_time()
            work()
            best[k] = min(best[k], time.process_time() - started)
    print(f"s={size}: {best[0]:.3f}s, 4s: {best[1]:.3f}s, ratio {best[1] / max(best[0], 1e-9):.1f}")
    return best[0], best[1]


# Sizes s where one run takes about 0.05-0.2 s, well above the noise of a shared machine.
SIZES = {"giant word": 60_000, "CJK without spaces": 100_000}
SHAPES = {"run-on line": run_on_line, "flat text": flat_text, "blank lines": blank_lines, "giant word": giant_word,
          "many articles": many_articles, "CJK without spaces": cjk_run}


@pytest.mark.parametrize("shape", SHAPES)
def test_chunking_is_linear(shape: str) -> None:
    def make(n: int) -> Callable[[], object]:
        doc = Document("x.txt", SHAPES[shape](n), "text")
        return lambda: chunk(doc, "x", count_tokens, 200, 32)

    small, large = _ratio(make, SIZES.get(shape, 20_000))
    assert large <= RATIO * max(small, 0.005), f"{shape}: {small:.3f}s at s, {large:.3f}s at 4s"


@pytest.mark.parametrize("shape", SHAPES)
def test_passages_respect_both_caps(shape: str) -> None:
    doc = Document("x.txt", SHAPES[shape](20_000), "text")
    passages = chunk(doc, "x", count_tokens, 200, 32)
    assert passages and all(p.end - p.start <= MAX_PASSAGE_CHARS and count_tokens(p.text) <= 200 for p in passages)
    assert all(doc.text[p.start : p.end] == p.text for p in passages)


def test_markdown_heading_before_a_sea_of_spaces_loads_in_linear_time(tmp_path: Path) -> None:
    def make(n: int) -> Callable[[], object]:
        path = tmp_path / f"spaces-{n}.md"
        path.write_text("# A heading" + " " * n + "\n\nBody text under the heading.\n" + ("## x" + " " * n + "y\n") * 3)
        return lambda: load(path)

    small, large = _ratio(make, 30_000)
    assert large <= RATIO * max(small, 0.005), f"{small:.3f}s at s, {large:.3f}s at 4s"
    assert load(tmp_path / "spaces-30000.md").headings[0].text == "A heading"


@pytest.mark.parametrize("shape", ["nested divs", "unclosed fonts"])
def test_deep_html_loads_in_linear_time(tmp_path: Path, shape: str) -> None:
    def make(n: int) -> Callable[[], object]:
        path = tmp_path / f"{shape}-{n}.html"
        if shape == "nested divs":
            path.write_text("<html><body>" + "<div>x " * n + "</div>" * n + "</body></html>")
        else:
            path.write_text("<html><body><p>" + "<font>x " * n + "</p></body></html>")
        return lambda: load(path)

    small, large = _ratio(make, 1_000)
    assert large <= RATIO * max(small, 0.005), f"{shape}: {small:.3f}s at s, {large:.3f}s at 4s"
