"""Pure scoring functions for the eval: span overlap, key-fact normalisation, language, ratios and bootstrap intervals."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .chunking import cn_number

Span = tuple[str, int, int]  # (doc_id, start, end) in the document's extracted text

# --- spans --------------------------------------------------------------------------------------------------------------


def overlaps(a: Span, b: Span) -> bool:
    """Whether two document spans share at least one character."""
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


def merge(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of half-open intervals, sorted and non-overlapping."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        elif end > start:
            out.append((start, end))
    return out


def covered(span: tuple[int, int], merged: Sequence[tuple[int, int]]) -> int:
    """Characters of `span` inside a merged interval list."""
    return sum(max(0, min(span[1], e) - max(span[0], s)) for s, e in merged)


def by_doc(spans: Iterable[Span]) -> dict[str, list[tuple[int, int]]]:
    """Merged intervals per document."""
    out: dict[str, list[tuple[int, int]]] = {}
    for doc, start, end in spans:
        out.setdefault(doc, []).append((start, end))
    return {doc: merge(v) for doc, v in out.items()}


# --- key facts ----------------------------------------------------------------------------------------------------------
# Hand-written because no maintained library converts both English number words and CJK numerals inside running
# text (word2number / cn2an each do one, on whole strings); both sides of a match go through the same function.

_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
)}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}
_NUMBER_WORD = "|".join(sorted([*_UNITS, *_TENS, *_SCALES], key=len, reverse=True))
# A run of number words (joined by spaces, hyphens or "and"), optionally led by digits ("35 million").
_WORD_RUN = re.compile(
    rf"\b(?:\d+\s+(?=(?:{'|'.join(_SCALES)})\b))?(?:{_NUMBER_WORD})(?:(?:\s+|-|\s+and\s+)(?:{_NUMBER_WORD}))*\b"
)
_CJK_RUN = re.compile("[〇零一二两三四五六七八九十百千万萬]+")
_QUOTES = str.maketrans({c: '"' for c in "“”„‟«»「」『』〝〞＂"} | {c: "'" for c in "‘’‚‛′＇`"})
_DASHES = re.compile(r"[\u2010-\u2015\u2212\u30fc\ufe58\ufe63\uff0d]")


def _words_to_int(words: list[str]) -> int:
    total = current = 0
    for w in words:
        if w.isdigit():
            current += int(w)
        elif w in _UNITS:
            current += _UNITS[w]
        elif w in _TENS:
            current += _TENS[w]
        elif w == "hundred":
            current = max(current, 1) * 100
        else:
            total += max(current, 1) * _SCALES[w]
            current = 0
    return total + current


def _cjk_number(match: re.Match[str]) -> str:
    return str(cn_number(match.group(0)))


def normalise_fact(text: str) -> str:
    """Text in the form key facts are matched in: case, width, quotes, dashes, whitespace and numerals folded."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = _DASHES.sub("-", text).casefold()
    text = _CJK_RUN.sub(_cjk_number, text)
    text = _WORD_RUN.sub(lambda m: str(_words_to_int([w for w in re.split(r"[\s-]+", m.group(0)) if w and w != "and"])), text)
    text = re.sub(r"(?<=\d)[ ,\u00a0\u202f](?=\d{3}\b)", "", text)  # 35 000 000, 35,000,000 -> 35000000
    text = re.sub(r"(?<=\d)[ ,](?=\d{3}\b)", "", text)  # a second pass catches every other group
    return " ".join(text.split())


def fact_in(fact: str, text: str) -> bool:
    """Whether a key fact occurs in a text once both are normalised ("fifty years" matches "50 years")."""
    needle = normalise_fact(fact)
    hay = normalise_fact(text)
    if not needle:
        return False
    # Numbers must not match inside a longer number ("5" in "50").
    pattern = (r"(?<!\d)" if needle[0].isdigit() else "") + re.escape(needle) + (r"(?!\d)" if needle[-1].isdigit() else "")
    return re.search(pattern, hay) is not None


# --- language -----------------------------------------------------------------------------------------------------------

_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def language_of(question: str) -> str:
    """en / zh / ja from the question's script: mostly Han with kana is Japanese, mostly Han without is Chinese."""
    kana, han, latin = len(_KANA.findall(question)), len(_HAN.findall(question)), len(_LATIN.findall(question))
    if kana + han <= latin:
        return "en"
    return "ja" if kana else "zh"


# --- ratios, F1 and bootstrap -------------------------------------------------------------------------------------------


def ratio(num: Any, den: Any) -> Any:
    """num / den, NaN where den is 0 (works on floats and numpy arrays)."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def f1(p: Any, r: Any) -> Any:
    """Harmonic mean of precision and recall; NaN without positives (recall undefined), 0 when recall is 0."""
    p, r = np.asarray(p, dtype=float), np.asarray(r, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        harmonic = np.where(p + r > 0, 2 * p * r / np.where(p + r > 0, p + r, 1), 0.0)
        return np.where(np.isnan(r), np.nan, np.where(np.isnan(p), np.where(r == 0, 0.0, np.nan), harmonic))


@dataclass(frozen=True)
class Metric:
    """A metric computed from per-question components summed over a set of questions."""

    key: str
    label: str
    compute: Callable[[Mapping[str, Any]], Any]
    headline: bool = True
    lower_is_better: bool = False


def value(metric: Metric, sums: Mapping[str, Any]) -> float | None:
    """The metric on one set of sums, None when undefined."""
    v = float(metric.compute(sums))
    return None if np.isnan(v) else v


def _matrix(components: Sequence[Mapping[str, float]], names: Sequence[str]) -> np.ndarray:
    return np.array([[c.get(n, 0.0) for n in names] for c in components], dtype=float).reshape(len(components), len(names))


def resample_weights(n: int, reps: int = 2000, seed: int = 20261125) -> np.ndarray:
    """How often each of n questions is drawn in each bootstrap resample (reps x n), fixed seed."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(reps, n))
    weights = np.zeros((reps, n))
    np.add.at(weights, (np.arange(reps)[:, None], draws), 1.0)
    return weights


def bootstrap(metrics: Sequence[Metric], components: Sequence[Mapping[str, float]], reps: int = 2000, seed: int = 20261125) -> dict[str, tuple[float, float] | None]:
    """Percentile 95% interval of each metric, resampling questions with replacement."""
    if not components:
        return {m.key: None for m in metrics}
    names = sorted({k for c in components for k in c})
    sums = resample_weights(len(components), reps, seed) @ _matrix(components, names)
    cols = {n: sums[:, i] for i, n in enumerate(names)}
    out: dict[str, tuple[float, float] | None] = {}
    for m in metrics:
        vals = np.asarray(m.compute(cols), dtype=float)
        vals = vals[~np.isnan(vals)]
        out[m.key] = (float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))) if len(vals) else None
    return out


def paired_deltas(
    metrics: Sequence[Metric], new: Sequence[Mapping[str, float]], old: Sequence[Mapping[str, float]], reps: int = 2000, seed: int = 20261125
) -> dict[str, tuple[float, float] | None]:
    """95% interval of (new - old) per metric, resampling the same questions in both runs (paired bootstrap)."""
    if not new:
        return {m.key: None for m in metrics}
    names = sorted({k for c in [*new, *old] for k in c})
    weights = resample_weights(len(new), reps, seed)
    a, b = weights @ _matrix(new, names), weights @ _matrix(old, names)
    cols_a = {n: a[:, i] for i, n in enumerate(names)}
    cols_b = {n: b[:, i] for i, n in enumerate(names)}
    out: dict[str, tuple[float, float] | None] = {}
    for m in metrics:
        d = np.asarray(m.compute(cols_a), dtype=float) - np.asarray(m.compute(cols_b), dtype=float)
        d = d[~np.isnan(d)]
        out[m.key] = (float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5))) if len(d) else None
    return out


def _r(num: str, den: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda s: ratio(s.get(num, 0.0), s.get(den, 0.0))


def _f1(p: Callable[[Mapping[str, Any]], Any], r: Callable[[Mapping[str, Any]], Any]) -> Callable[[Mapping[str, Any]], Any]:
    return lambda s: f1(p(s), r(s))


def _sum(*names: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda s: sum(np.asarray(s.get(n, 0.0), dtype=float) for n in names)


def _ratio_of(num: Callable[[Mapping[str, Any]], Any], den: Callable[[Mapping[str, Any]], Any]) -> Callable[[Mapping[str, Any]], Any]:
    return lambda s: ratio(num(s), den(s))


# Refusal (declined) precision in a pool of answerable + one kind of non-answerable question (Trust-Score style).
_refusal_p_unans = _ratio_of(_sum("unans_declined"), _sum("unans_declined", "ans_declined"))
_refusal_r_unans = _r("unans_declined", "unans")
_answered_p_unans = _ratio_of(_sum("ans_answered"), _sum("ans_answered", "unans_answered"))
_refusal_p_fp = _ratio_of(_sum("fp_handled"), _sum("fp_declined", "ans_declined"))
_refusal_r_fp = _r("fp_handled", "fp")
_answered_p_fp = _ratio_of(_sum("ans_answered"), _sum("ans_answered", "fp_answered"))
_answered_r = _r("ans_answered", "ans")

METRICS: tuple[Metric, ...] = (
    Metric("citation_precision", "Citation precision (quote)", _r("cit_gold_quote", "cit_ans")),
    Metric("citation_recall_spans", "Citation recall (gold spans, quote)", _r("gold_cited_quote", "ans")),
    Metric("citation_recall_questions", "Citation recall (questions, quote)", _r("any_gold_quote", "ans")),
    Metric("citation_precision_passage", "Citation precision (passage)", _r("cit_gold_passage", "cit_ans")),
    Metric("citation_recall_questions_passage", "Citation recall (questions, passage)", _r("any_gold_passage", "ans")),
    Metric("recall_at_k", "Recall@k (evidence items)", _r("recall_k", "ans")),
    Metric("mrr", "MRR", _r("rr", "ans")),
    Metric("char_recall_at_k", "Character recall@k", _r("char_recall", "ans")),
    Metric("char_precision_at_k", "Character precision@k", _r("char_precision", "ans")),
    Metric("key_fact_recall", "Key-fact recall", _r("facts", "has_facts")),
    Metric("answered_wrong_rate", "Answered but no gold quote (answerable)", _r("ans_answered_wrong", "ans"), lower_is_better=True),
    Metric("false_abstention_rate", "False refusal rate (answerable)", _r("ans_declined", "ans"), lower_is_better=True),
    Metric("refusal_precision_unanswerable", "Refusal precision (unanswerable)", _refusal_p_unans),
    Metric("refusal_recall_unanswerable", "Refusal recall (unanswerable)", _refusal_r_unans),
    Metric("refusal_f1_unanswerable", "Refusal F1 (unanswerable)", _f1(_refusal_p_unans, _refusal_r_unans)),
    Metric("answered_f1_unanswerable", "Answered F1 (vs unanswerable)", _f1(_answered_p_unans, _answered_r)),
    Metric("refusal_precision_false_premise", "Refusal precision (false premise)", _refusal_p_fp),
    Metric("refusal_recall_false_premise", "Refusal recall (false premise)", _refusal_r_fp),
    Metric("refusal_f1_false_premise", "Refusal F1 (false premise)", _f1(_refusal_p_fp, _refusal_r_fp)),
    Metric("answered_f1_false_premise", "Answered F1 (vs false premise)", _f1(_answered_p_fp, _answered_r)),
    Metric("premise_caught_rate", "False premise contradicted with the right quote", _r("fp_caught", "fp")),
    Metric("abstention_accuracy", "Abstention accuracy (not answered, all non-answerable)", _ratio_of(_sum("unans_declined", "fp_declined"), _sum("unans", "fp"))),
    Metric("answered_recall", "Answered recall (answerable answered)", _answered_r, headline=False),
    Metric("citation_integrity", "Citation integrity (verbatim, resolving)", _r("cit_valid", "cit"), headline=False),
)


def summarise(components: Sequence[Mapping[str, float]]) -> dict[str, float | None]:
    """Every metric over a set of questions."""
    sums: dict[str, float] = {}
    for c in components:
        for k, v in c.items():
            sums[k] = sums.get(k, 0.0) + v
    return {m.key: value(m, sums) for m in METRICS}
