"""BM25 over the stored passages (bm25s), with tokens for legal references and CJK bigrams."""

from __future__ import annotations

import bisect
import json
import os
import re
import shutil
import time
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from .chunking import ja_number

# Latin words, and runs of CJK ideographs with Japanese kana (ー々〆 included): bigrammed below, as for Chinese.
CJK_CHARS = r"\u3005\u3006\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff"
_WORD = re.compile(rf"[a-z0-9]+(?:[-'][a-z0-9]+)*|[{CJK_CHARS}]+", re.I)
HIRAGANA = re.compile(r"[\u3040-\u309f]+")
_CJK_QUERY = re.compile(f"[{CJK_CHARS}]")  # a query in Japanese or Chinese: what search() reads its script from
# Japanese statutes enacted before 1988 write no small kana ("行つた", "使つて", "取扱い"), a question does ("行った"):
# small kana are read as full-size on both sides, so "行っ" and "行つ" are one bigram.
_FULL_SIZE_KANA = str.maketrans("ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮ", "あいうえおつやゆよわアイウエオツヤユヨワ")
# "Suppl. Article 1" (a supplementary provision's label) is not a reference to Article 1.
_REF = re.compile(
    r"(?<!Suppl\. )(?P<kind>articles?|arts?\.|recitals?|§{1,2}|sections?|secs?\.|annex|chapter)\s*(?P<num>\d+[a-z]{0,6}(?:-\d+)?|[ivxlc]+\b)",
    re.I,
)
_CN_NUM = "零〇一二两三四五六七八九十百千0-9"
# 第二十四条 (Chinese), 第三十条の四 / 三十条の四 / 第30条の4 (Japanese); not 附則第一条 (a supplementary provision).
_CN_REF = re.compile(rf"(?<!附則)(?<![第{_CN_NUM}])第?([{_CN_NUM}]+)条((?:の[{_CN_NUM}]+)*)")
_STOP = set(
    "a an and are as at be by for from has have how in is it its of on or that the this to was what when where which who "
    "why will with does do did under can may shall must any all their there these those into about than other such".split()
)


def refs(text: str) -> list[str]:
    """Normalised legal references in text: 'art:53', 'sec:107', 'rec:105', 'annex:xi'."""
    text = unicodedata.normalize("NFKC", text)
    out = []
    for m in _REF.finditer(text):
        kind = m.group("kind").lower()
        key = "art" if kind.startswith("art") else "rec" if kind.startswith("rec") else "annex" if kind == "annex" else "ch" if kind == "chapter" else "sec"
        out.append(f"{key}:{m.group('num').lower()}")
    out.extend(f"art:{ja_number(m.group(1) + m.group(2))}" for m in _CN_REF.finditer(text))
    return out


# Bump when tokenize() changes: a saved BM25 index of another version is rebuilt, not misread.
TOKENIZER_VERSION = "5"  # 5: small kana read as full-size (行った = 行つた)


def stem(word: str) -> str:
    """Light plural folding ('models' -> 'model', 'parties' -> 'party'), enough for matching."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")) and not word[-2].isdigit():
        return word[:-1]
    return word


_POSSESSIVE = re.compile(r"(?<=[a-z0-9])['’]s\b")


def tokenize(text: str) -> list[str]:
    """Lower-cased, plural-folded words minus stopwords, CJK (and kana) bigrams, plus reference tokens."""
    tokens = []
    # A possessive names its owner: "Japan's" and "Japan’s" are the token "japan" (not "japan'", nor "japan" plus "s").
    for word in _WORD.findall(_POSSESSIVE.sub("", unicodedata.normalize("NFKC", text).lower())):
        if word[0] >= "\u3005":
            word = word.translate(_FULL_SIZE_KANA)
            # Bigrams of hiragana alone are grammar (する, こと, ない): they match everywhere, so they are left out.
            grams = [word[i : i + 2] for i in range(max(1, len(word) - 1))]
            tokens.extend(g for g in grams if not HIRAGANA.fullmatch(g))
        elif word not in _STOP:
            tokens.append(stem(word))
    tokens.extend(refs(text))
    return tokens


class Bm25Index:
    """A bm25s index persisted beside the store, with the passage ids in index order."""

    def __init__(self, ids: list[str], model) -> None:  # type: ignore[no-untyped-def]
        self.ids = ids
        self.model = model
        self._sorted: list[str] | None = None  # the vocabulary, sorted (spelled_as_indexed looks words up by prefix)

    @classmethod
    def build(cls, items: Iterable[tuple[str, str]]) -> Bm25Index:
        """Index (passage id, indexed text) pairs."""
        import bm25s

        ids, corpus = [], []
        for pid, text in items:
            ids.append(pid)
            corpus.append(tokenize(text) or ["\x00empty"])
        model = bm25s.BM25()
        if corpus:
            model.index(corpus, show_progress=False)
        return cls(ids, model)

    def save(self, folder: Path) -> str:
        """Save as `folder`, atomically: the files go into a new directory, then the link `folder` is renamed onto it,
        so a reader (in any process) loads the old index or the new one, never new arrays with old ids. Returns the
        new directory's name (what `saved_key` reports from now on)."""
        token = f"{time.time_ns():x}-{os.getpid()}"
        target = folder.parent / f"{folder.name}.{token}"
        target.mkdir(parents=True)
        if self.ids:
            self.model.save(str(target))
        (target / "ids.json").write_text(json.dumps(self.ids))
        (target / "version").write_text(TOKENIZER_VERSION)
        link = folder.parent / f".{folder.name}.link-{token}"
        os.symlink(target.name, link)
        if folder.is_dir() and not folder.is_symlink():  # an index saved in place by an earlier ipqa: moved aside, then deleted
            folder.rename(folder.parent / f"{folder.name}.{token}-old")
        previous = os.readlink(folder) if folder.is_symlink() else None
        os.replace(link, folder)
        # Keep the directory just replaced (a reader may be loading it now); older ones go.
        for old in folder.parent.glob(f"{folder.name}.*"):
            if old.name not in (target.name, previous) and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
        return target.name

    @staticmethod
    def saved_key(folder: Path) -> str | None:
        """Which saved index `folder` holds now (changes with every save), or None when there is none."""
        if folder.is_symlink():
            return os.readlink(folder)
        ids = folder / "ids.json"
        return f"in-place:{ids.stat().st_mtime_ns}" if ids.exists() else None

    @classmethod
    def load(cls, folder: Path) -> Bm25Index | None:
        """Read a saved index, or None when there is none (or it was written by another tokenizer version)."""
        for _ in range(20):
            target = folder.resolve()  # one directory, whatever a concurrent save does to the link
            try:
                index = cls._load(target)
            except FileNotFoundError:
                if not folder.exists():
                    return None  # nothing saved
                continue  # that directory was replaced twice while we read it: read the current one
            # A directory being deleted by a save two generations on can lose its files mid-read and look like
            # "no index": that answer only stands if the link still points where it pointed.
            if index is not None or folder.resolve() == target:
                return index
        return None

    @classmethod
    def _load(cls, folder: Path) -> Bm25Index | None:
        import bm25s

        if not folder.is_dir():
            raise FileNotFoundError(folder)
        version = folder / "version"
        if not (folder / "ids.json").exists() or not version.exists() or version.read_text() != TOKENIZER_VERSION:
            return None
        ids = json.loads((folder / "ids.json").read_text())
        model = bm25s.BM25.load(str(folder)) if ids else bm25s.BM25()
        return cls(ids, model)

    def spelled_as_indexed(self, text: str) -> str:
        """`text` with each English word the index never saw, written closed where the documents write it open, split
        as they write it: "deepfakes" -> "deep fakes" (the AI Act's spelling), which neither BM25 nor the model matched
        (Article 50(4) not among the first 30 passages). A word some indexed word begins like ("watermarked" beside
        "watermark") is another form of a known word, not a compound; both halves must be indexed words of 4+ letters.
        Hand-written: no segmenter we can install knows the index's vocabulary."""
        vocab = getattr(self.model, "vocab_dict", None) if self.ids else None  # an empty index has no vocabulary
        if not vocab:
            return text

        def split(m: re.Match[str]) -> str:
            word = m.group().lower()
            if len(word) < 8 or stem(word) in vocab or word in vocab or self._known_prefix(word[:-3]):
                return m.group()
            for i in range(4, len(word) - 3):
                if word[:i] in vocab and stem(word[i:]) in vocab:
                    return f"{m.group()[:i]} {m.group()[i:]}"
            return m.group()

        return re.sub(r"(?<![\w-])[A-Za-z]{8,}(?![\w-])", split, text)

    def _known_prefix(self, prefix: str) -> bool:
        if self._sorted is None:
            self._sorted = sorted(self.model.vocab_dict)
        k = bisect.bisect_left(self._sorted, prefix)
        return k < len(self._sorted) and self._sorted[k].startswith(prefix)

    def search(self, query: str, k: int, *, terms: Sequence[str] = ()) -> list[tuple[str, float]]:
        """Top-k (passage id, score), best first; only positive scores.

        `terms`: the glossary's renderings of the query's concepts (glossary.translations), searched with it. Those in
        the query's own script count as written (its synonyms), but a word of another script counts once: a concept's
        translations repeat words ("work", "work for hire", "work made for hire"), and bm25s scores a query word once per
        occurrence, so the English renderings of a Chinese question outweighed its own words (train: citation recall
        0.780 -> 0.789, zh 0.692 -> 0.769; recall@k 0.836 -> 0.845).
        """
        if not self.ids:
            return []
        vocab = self.model.vocab_dict
        known = [t for t in tokenize(query) if t in vocab]
        cjk = _CJK_QUERY.search(query) is not None
        seen = set(known)
        for t in (t for term in terms for t in tokenize(term) if t in vocab):
            if (t[0] >= "\u3005") == cjk or t not in seen:  # "\u3005" and above: the CJK and kana bigrams of tokenize()
                known.append(t)
                seen.add(t)
        if not known:
            return []
        import numpy as np

        scores = self.model.get_scores(known)
        k = min(k, len(self.ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]


# -- Japanese names of instruments, cases and reports (what the answerability check looks up in the index's titles) --

_KANA = re.compile(r"[\u3040-\u30ff]")
_JA_RUN = "\u4e00-\u9fff\u30a0-\u30ffA-Za-zＡ-Ｚａ-ｚ々"
# An act: a run of kanji/katakana/Latin ending in 法 (特許法, 不正競争防止法, AI推進法), not 法律/法令/法人 and not a generic
# word (国内法, 同法); at least three characters, so 憲法, 方法 and 違法 are no names.
_JA_LAW = re.compile(rf"(?<![{_JA_RUN}])([{_JA_RUN}]{{2,24}}法)(?![律令人務的規案])")
_JA_GENERIC_LAW = re.compile(r"^(?:国内|国際|関係|現行|特別|一般|各国|外国|準拠|実体|手続|国家|基本|個別|他国|本|同|新|旧)法$")
# A case or a judgment: DABUS事件, 〇〇判決.
_JA_CASE = re.compile(rf"(?<![{_JA_RUN}・])([{_JA_RUN}・]{{2,30}}(?:事件|判決))")
# A body's report, guidance or view: 文化庁の「AIと著作権に関する考え方について」, 検討会の中間とりまとめ.
_JA_REPORT = re.compile(
    rf"(?<![{_JA_RUN}])([{_JA_RUN}]{{0,20}}(?:庁|省|検討会|委員会|審議会|研究会|裁判所|高裁|地裁))(?:の|が)?[^。？?、]{{0,30}}?"
    r"(「[^」]{1,60}」|ガイドライン|指針|報告書|中間とりまとめ|とりまとめ|白書|通達|答申|考え方|見解)"
)


def ja_names(question: str) -> list[tuple[str, str]]:
    """(name, kind word) of the acts, cases and bodies' reports a Japanese question names; the kind word ('法', '事件',
    'ガイドライン', the 「title」) is what an indexed document's title must hold for the name to be one of its own."""
    if not _KANA.search(question):
        return []  # Chinese (no kana) writes its laws alike but its own way (中国著作权法): not read here
    text = unicodedata.normalize("NFKC", question)
    out: list[tuple[str, str]] = []
    for m in _JA_LAW.finditer(text):
        if not _JA_GENERIC_LAW.match(m.group(1)):
            out.append((m.group(1), "法"))
    out.extend((m.group(1), m.group(1)[-2:]) for m in _JA_CASE.finditer(text))
    for m in _JA_REPORT.finditer(text):
        out.append((m.group(0), m.group(2).strip("「」")))
    return out
