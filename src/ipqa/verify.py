"""Does the cited passage support the sentence? Pure functions over offline signals.

A generated sentence is *supported* by a passage when
  1. every figure it states (numbers, article numbers, years, number words) occurs in the quoted span or the passage's
     label, and every legal key term it names (which right, whose right: "communication", "performers", …) in the passage,
  2. its support score — a weighted sum of lexical overlap and embedding similarity with the best-matching
     sentence span of the passage — reaches `THRESHOLD`.
That best span is what the citation quotes and the UI highlights. The weight and threshold were calibrated on
hand-labelled examples (eval/verifier_calibration.jsonl; figures in eval/README.md, "Verifier calibration").
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from .lexical import tokenize
from .sentences import cjk_sentence_ends, sentence_spans, strip_span

Embed = Callable[[Sequence[str]], list[list[float]]]

# Calibrated on eval/verifier_calibration.jsonl (`python -m ipqa.verify eval/verifier_calibration.jsonl`).
LEXICAL_WEIGHT = 0.35
THRESHOLD = 0.71
# A span made of two adjacent sentences must beat the best single sentence by this much to be quoted.
PAIR_MARGIN = 0.03
UNSUPPORTED = "unsupported"  # prefix of the Answer.flags entries that count as unsupported sentences

# "[2]", "[1, 3]", "[1-3]", and the "[Passage 2]" / "[source 2]" some small models write.
_MARKERS = re.compile(r"\[\s*(?:(?:passages?|sources?)\s*)?(\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*)\s*\]", re.I)
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.S | re.I)
_END = re.compile(r"[.!?][\"”’)]*(?:\s*\[(?:passages?|sources?)?[\d\s,;–-]+\])*(?=\s|$)", re.I)
# Markers written after a CJK full stop ("…を有する。[1]") belong to the sentence before it.
_CJK_MARKERS = re.compile(r"(?:\s*\[(?:passages?|sources?)?\s*[\d\s,;–-]+\])*", re.I)
_ABBREV = re.compile(r"(?:\b(?:No|Nos|Art|Arts|Sec|para|paras|pp|cf|Inc|Co|Stat|v|vs|e\.g|i\.e|U\.S|et al|ibid|id)|\b[A-Z])$")
_GENERIC = set(
    "article articles section recital paragraph treaty convention agreement act law provide provides provided provision "
    "state states stated say says according regarding mean means text document also".split()
)
_UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_ORDINALS = {
    "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
    "twentieth": 20, "thirtieth": 30, "fiftieth": 50,
}
_WORD_NUMBER = re.compile(
    r"\b(?:(?P<tens>" + "|".join(_TENS) + r")(?:[-\s](?P<unit>" + "|".join(_UNITS[1:10]) + "|" + "|".join(list(_ORDINALS)[:7]) + r"))?"
    r"|(?P<single>" + "|".join(_UNITS) + "|" + "|".join(_ORDINALS) + r"))\b",
    re.I,
)
_UNIT_VALUE = {w: i for i, w in enumerate(_UNITS)} | _ORDINALS
_DIGITS = re.compile(r"(?<![\d,])(\d{1,3}(?:,\d{3})+|\d+)(bis|ter|quater|quinquies|sexies|septies)?", re.I)
# "seven million", "1.5 million", "half a million": the count itself, so that "half a million books" is a figure the
# sentence "over seven million pirated copies" does not state.
_SCALED_NUMBER = re.compile(
    r"\b(?P<n>\d+(?:\.\d+)?|" + "|".join([*_TENS, *_UNITS[1:]]) + r"|half\s+an?|an?)\s+(?P<s>million|billion)\b",
    re.I,
)


# -- the model's reply, sentence by sentence --------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """One sentence of a generated answer and the passages it cites."""

    text: str  # the sentence with its markers removed
    cited: tuple[int, ...]  # valid passage numbers (1-based), in order of appearance
    invalid: tuple[str, ...] = ()  # markers naming no passage ("[9]"), removed
    sep: str = ""  # the whitespace that preceded it in the reply (keeps paragraphs and list items)


def strip_reasoning(text: str) -> str:
    """Drop a reasoning model's <think>…</think> block."""
    return _THINK.sub("", text).strip()


def split_claims(reply: str, k: int) -> list[Claim]:
    """Sentences of a reply with their `[n]` markers; markers outside 1..k are removed and reported."""
    claims: list[Claim] = []
    text = strip_reasoning(reply)
    pos = 0
    for piece_start, piece_end in _pieces(text):
        piece = text[piece_start:piece_end]
        cited: list[int] = []
        invalid: list[str] = []
        for m in _MARKERS.finditer(piece):
            for n in _marker_numbers(m.group(1)):
                if 1 <= n <= k:
                    if n not in cited:
                        cited.append(n)
                elif f"[{n}]" not in invalid:
                    invalid.append(f"[{n}]")
        clean = _MARKERS.sub("", piece)
        clean = re.sub(r"[ \t]+([.,;:!?])", r"\1", clean)
        clean = re.sub(r"[ \t]{2,}", " ", clean).strip()
        if clean:
            claims.append(Claim(clean, tuple(cited), tuple(invalid), text[pos:piece_start]))
        elif claims and (cited or invalid):  # a line holding only markers belongs to the sentence before it
            last = claims[-1]
            merged = tuple(dict.fromkeys(last.cited + tuple(cited)))
            claims[-1] = Claim(last.text, merged, last.invalid + tuple(invalid), last.sep)
        pos = piece_end
    return claims


def _marker_numbers(inside: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*[,;]\s*", inside.strip()):
        if re.fullmatch(r"\d+\s*[–-]\s*\d+", part):
            a, b = (int(x) for x in re.split(r"\s*[–-]\s*", part))
            out.extend(range(a, b + 1) if 0 < b - a < 10 else (a, b))
        elif part.isdigit():
            out.append(int(part))
    return out


def _pieces(text: str) -> Iterable[tuple[int, int]]:
    """Sentence spans: a line break ends one; so does . ! ? before whitespace, or a CJK 。！？； outside brackets
    (sentences.cjk_sentence_ends), each with the markers that follow it."""
    for line in re.finditer(r"[^\n]+", text):
        ends = set()
        for m in _END.finditer(line.group()):
            before = line.group()[max(0, m.start() - 12) : m.start()]
            after = text[line.start() + m.end() : line.start() + m.end() + 3].lstrip()
            if not (_ABBREV.search(before) or (after and after[0].islower())):
                ends.add(line.start() + m.end())
        for c in cjk_sentence_ends(line.group()):
            ends.add(line.start() + _CJK_MARKERS.match(line.group(), c).end())  # type: ignore[union-attr]
        start = line.start()
        for end in sorted(ends):
            if end > start and text[start:end].strip():
                yield strip_span(text, start, end)
                start = end
        if text[start : line.end()].strip():
            yield strip_span(text, start, line.end())


# -- signals ----------------------------------------------------------------------------------


def figures(text: str) -> set[str]:
    """Numbers a sentence commits to: digits ('1,000' -> '1000', '6bis'), number words ('fifty' -> '50')."""
    found = {m.group(1).replace(",", "") + (m.group(2) or "").lower() for m in _DIGITS.finditer(text)}
    for m in _WORD_NUMBER.finditer(text):
        if m.group("single"):
            word = m.group("single").lower()
            if word != "one":  # "one of", "no one": rarely a figure in prose
                found.add(str(_UNIT_VALUE[word]))
        else:
            found.add(str(_TENS[m.group("tens").lower()] + (_UNIT_VALUE[m.group("unit").lower()] if m.group("unit") else 0)))
    for m in _SCALED_NUMBER.finditer(text):
        found.add(str(by_the_million(m.group("n"), m.group("s"))))
    return found


def by_the_million(count: str, scale: str) -> int | None:
    """A count by the million or billion as an integer ("seven", "million" -> 7000000; "half a", "a", "1.5",
    "twenty-five" too); None when the count is no number this reads."""
    words = re.split(r"[\s-]+", count.strip().lower())
    if words[0] == "half":
        base = 0.5
    elif words[0] in ("a", "an"):
        base = 1.0
    elif re.fullmatch(r"\d[\d,]*(?:\.\d+)?", count.strip()):
        base = float(count.replace(",", ""))
    elif all(w in _TENS or w in _UNIT_VALUE for w in words):
        base = float(sum(_TENS.get(w) or _UNIT_VALUE[w] for w in words))
    else:
        return None
    return round(base * (10**9 if scale.lower() == "billion" else 10**6))


def passage_figures(text: str) -> set[str]:
    """Figures a passage offers (including 'one', and '6' for '6bis' so 'Article 6' still matches)."""
    found = figures(text) | ({"1"} if re.search(r"\bone\b", text, re.I) else set())
    return found | {re.sub(r"[a-z]+$", "", f) for f in found}


def missing_figures(sentence: str, passage: str, context: str = "") -> tuple[str, ...]:
    """Figures of the sentence that appear neither in the passage nor in its label/title."""
    offered = passage_figures(passage + "\n" + context)
    return tuple(sorted(figures(sentence) - offered, key=lambda f: (len(f), f)))


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    from nltk.stem.snowball import SnowballStemmer  # pure Python, needs no NLTK data download

    return SnowballStemmer("english")


@lru_cache(maxsize=20000)
def _stem(word: str) -> str:
    return _stemmer().stem(word)


def content_words(text: str) -> set[str]:
    """Stemmed content words (no stopwords, figures, reference tokens or generic legal words)."""
    return {_stem(t) for t in tokenize(text) if ":" not in t and not t[0].isdigit() and t not in _GENERIC and len(t) > 1}


def lexical_overlap(sentence: str, span: str, context: str = "") -> float:
    """Share of the sentence's content words found in the span (or the passage's label/title)."""
    words = content_words(sentence)
    if not words:
        return 1.0
    return len(words & (content_words(span) | content_words(context))) / len(words)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def support_score(lexical: float, semantic: float, weight: float = LEXICAL_WEIGHT) -> float:
    """The calibrated mix of lexical overlap and embedding similarity."""
    return weight * lexical + (1 - weight) * semantic


# Which right, whose right, what subject matter: a sentence naming one of these must be quoting a span that names it
# too (a swapped term — "communication" for "distribution", "performers" for "authors" — keeps the rest of the words).
_KEY_TERMS = (
    "communication distribution rental reproduction broadcasting rebroadcasting translation adaptation importation "
    "performer producer phonogram broadcaster database compilation photographic cinematographic computer "
    "circumvention quotation exhaustion remuneration compulsory moral"
).split()


def key_terms(text: str) -> dict[str, str]:
    """Legal key terms of a text, by stem: {'communic': 'communication', 'perform': 'performers'}."""
    keys = {_stem(t) for t in _KEY_TERMS}
    out: dict[str, str] = {}
    for word in re.findall(r"[A-Za-z]+", text):
        stem = _stem(word.lower())
        if stem in keys:
            out.setdefault(stem, word.lower())
    return out


def is_claim(sentence: str) -> bool:
    """Whether a sentence states something checkable (not 'In short:' or a bare heading)."""
    return len(content_words(sentence)) >= 3 or bool(figures(sentence))


# -- support ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Support:
    """How well one passage supports one sentence, and the span that shows it."""

    start: int  # the quote: verbatim passage[start:end]
    end: int
    lexical: float  # of the quote
    semantic: float  # of the quote
    score: float  # best support score of any span that carries the sentence's figures
    missing: tuple[str, ...]  # figures no span carries, key terms the passage lacks
    supported: bool


@dataclass(frozen=True)
class SpanSignals:
    """Signals of one candidate span."""

    start: int
    end: int
    lexical: float
    semantic: float
    missing: tuple[str, ...]  # figures this span lacks, then key terms the whole passage lacks
    pair: bool  # two adjacent sentences rather than one


def candidate_spans(passage: str) -> list[tuple[int, int]]:
    """Quotable spans: each sentence of the passage, and each pair of adjacent sentences."""
    singles = sentence_spans(passage) or [strip_span(passage, 0, len(passage))]
    return singles + [(a[0], b[1]) for a, b in pairwise(singles)]


def span_signals(sentence: str, passage: str, embed: Embed, context: str = "") -> list[SpanSignals]:
    """Lexical overlap, embedding similarity, and missing figures and key terms, for every candidate span."""
    singles = len(sentence_spans(passage)) or 1
    spans = candidate_spans(passage)
    vectors = embed([sentence, *(passage[s:e] for s, e in spans)])
    stated = figures(sentence)
    # Key terms must be in the passage (its heading may name the right); figures in the quoted span itself.
    absent = tuple(word for stem, word in key_terms(sentence).items() if stem not in key_terms(passage + "\n" + context))
    out = []
    for i, ((s, e), vec) in enumerate(zip(spans, vectors[1:], strict=True)):
        missing = tuple(sorted(stated - passage_figures(passage[s:e] + "\n" + context), key=lambda f: (len(f), f))) + absent
        out.append(SpanSignals(s, e, lexical_overlap(sentence, passage[s:e], context), cosine(vectors[0], vec), missing, i >= singles))
    return out


def judge(signals: Sequence[SpanSignals], weight: float = LEXICAL_WEIGHT, threshold: float = THRESHOLD) -> Support:
    """Verdict and quote from span signals.

    Only spans that carry every figure of the sentence (so the highlighted quote shows them), of a passage naming its
    key terms, can support it.
    The quote is the best single sentence, or a pair of adjacent ones when that scores clearly higher.
    """
    carrying = [s for s in signals if not s.missing] or list(signals)
    score = {id(s): support_score(s.lexical, s.semantic, weight) for s in carrying}
    best = max(carrying, key=lambda s: score[id(s)])
    singles = [s for s in carrying if not s.pair]
    quote = best
    if best.pair and singles:
        single = max(singles, key=lambda s: score[id(s)])
        quote = best if score[id(best)] >= score[id(single)] + PAIR_MARGIN else single
    missing = best.missing
    return Support(quote.start, quote.end, quote.lexical, quote.semantic, score[id(best)], missing, not missing and score[id(best)] >= threshold)


def support(
    sentence: str, passage: str, embed: Embed, *, context: str = "", weight: float = LEXICAL_WEIGHT, threshold: float = THRESHOLD
) -> Support:
    """Score a sentence against a passage (context: its title and section label); the best span becomes the quote."""
    return judge(span_signals(sentence, passage, embed, context), weight, threshold)


def count_unsupported(flags: Iterable[str]) -> int:
    """Unsupported sentences recorded in an Answer's flags (what `ipqa eval` counts)."""
    return sum(1 for f in flags if f.startswith(UNSUPPORTED))


# -- calibration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """A hand-labelled (sentence, passage, supported?) case."""

    id: str
    sentence: str
    passage: str
    context: str
    supported: bool


def load_examples(path: Path) -> list[Example]:
    """Read eval/verifier_calibration.jsonl."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            context = f"{row.get('title', '')} — {row.get('section', '')}"
            out.append(Example(row["id"], row["sentence"], row["passage"], context, bool(row["supported"])))
    return out


def agreement(predicted: Sequence[bool], labels: Sequence[bool]) -> dict[str, float]:
    """Accuracy, and precision/recall of the verdict 'unsupported'."""
    tp = sum(1 for p, y in zip(predicted, labels, strict=True) if not p and not y)
    fp = sum(1 for p, y in zip(predicted, labels, strict=True) if not p and y)
    fn = sum(1 for p, y in zip(predicted, labels, strict=True) if p and not y)
    correct = sum(1 for p, y in zip(predicted, labels, strict=True) if p == y)
    return {
        "n": len(labels),
        "accuracy": correct / len(labels) if labels else 0.0,
        "precision_unsupported": tp / (tp + fp) if tp + fp else 1.0,
        "recall_unsupported": tp / (tp + fn) if tp + fn else 1.0,
    }


def calibrate(examples: Sequence[Example], embed: Embed) -> dict[str, object]:
    """Grid-search weight and threshold for accuracy; also leave-one-out accuracy (honest on a small set)."""
    signals = [span_signals(ex.sentence, ex.passage, embed, ex.context) for ex in examples]
    labels = [ex.supported for ex in examples]
    weights = [w / 20 for w in range(21)]
    thresholds = [t / 100 for t in range(20, 96)]
    verdicts = {w: [judge(sig, w, 0.0) for sig in signals] for w in weights}  # threshold applied below

    def predict(i: int, w: float, t: float) -> bool:
        v = verdicts[w][i]
        return not v.missing and v.score >= t

    def fit(indices: Sequence[int]) -> tuple[float, float]:
        def key(wt: tuple[float, float]) -> tuple[int, float, float]:
            hits = sum(predict(i, *wt) == labels[i] for i in indices)
            return (hits, -abs(wt[0] - 0.5), -abs(wt[1] - 0.6))  # ties: a balanced mix, a middling threshold

        return max(((w, t) for w in weights for t in thresholds), key=key)

    everyone = range(len(examples))
    weight, threshold = fit(everyone)
    loo = [predict(i, *fit([j for j in everyone if j != i])) for i in everyone]
    current = [judge(sig).supported for sig in signals]
    return {
        "best": {"weight": weight, "threshold": threshold, **agreement([predict(i, weight, threshold) for i in everyone], labels)},
        "current": {"weight": LEXICAL_WEIGHT, "threshold": THRESHOLD, **agreement(current, labels)},
        "leave_one_out": agreement(loo, labels),
        "errors": [ex.id for ex, p in zip(examples, current, strict=True) if p != ex.supported],
    }


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m ipqa.verify eval/verifier_calibration.jsonl`: print the calibration as JSON."""
    import sys

    from .embedding import Embedder
    from .settings import Settings

    args = list(argv if argv is not None else sys.argv[1:])
    path = Path(args[0] if args else "eval/verifier_calibration.jsonl")
    print(json.dumps(calibrate(load_examples(path), Embedder(Settings()).embed), indent=2))


if __name__ == "__main__":
    main()
