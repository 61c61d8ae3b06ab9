"""Bilingual IP-law glossary (English / Japanese / Chinese): a question's terms in the other languages, for BM25.

The bundled embedding model reads English only and Japan's Copyright Act has no English rendition here, so an
English question ("text and data mining") reaches 第三十条の四 only through its Japanese words (情報解析). The data
is package data (data/glossary.tsv); the terms of a row are one concept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

LANGUAGES = ("en", "ja", "zh")
# Which languages a question's wording points to: a jurisdiction named in English, or the question's own script.
_CUES = {
    "ja": re.compile(r"\b(?:japan|japanese|japan's)\b|[\u3040-\u30ff]", re.I),
    "zh": re.compile(r"\b(?:china|chinese|china's|prc)\b", re.I),
}
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


@dataclass(frozen=True)
class Concept:
    """One row: the concept's terms in each language."""

    terms: dict[str, tuple[str, ...]]
    to_english_only: bool = False  # looked up only from Japanese/Chinese questions


@lru_cache(maxsize=1)
def concepts() -> tuple[Concept, ...]:
    """The shipped glossary, read once."""
    text = resources.files("ipqa").joinpath("data/glossary.tsv").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = (line.split("\t") + ["", "", "", ""])[:4]
        terms = {lang: tuple(t.strip() for t in cell.split(";") if t.strip()) for lang, cell in zip(LANGUAGES, cells)}
        rows.append(Concept(terms, cells[3].strip() == "to-en"))
    return tuple(rows)


@lru_cache(maxsize=1)
def _matchers() -> tuple[tuple[re.Pattern[str] | None, tuple[str, ...]], ...]:
    """Per concept: one pattern for its English terms (word-bounded, plural 's' allowed), and its CJK terms."""
    out = []
    for c in concepts():
        english = sorted(c.terms["en"], key=len, reverse=True)
        pattern = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(t) for t in english) + r")(?:s|es)?(?![\w-])", re.I) if english else None
        # A single CJK character (国, 条) matches inside unrelated words: only longer terms are looked for.
        cjk = tuple(t for t in c.terms["ja"] + c.terms["zh"] if len(t) >= 2)
        out.append((pattern, cjk))
    return tuple(out)


def target_languages(question: str) -> set[str]:
    """Languages whose documents a question may be answered from, besides the language it is asked in."""
    wanted = {lang for lang, cue in _CUES.items() if cue.search(question)}
    if _CJK.search(question):
        wanted.add("en")
        if not re.search(r"[\u3040-\u30ff]", question):
            wanted.add("zh")  # Chinese script, no kana
    return wanted


# A question's own phrasing ("how long") names a concept for Japanese and Chinese texts, which share no word with it,
# but is no phrase whose English synonyms an English text is searched by ("term", "copyright term" ranked § 304's
# renewal terms above § 302(a)'s rule for "How long does copyright last under US law?").
_QUESTION_WORDS = re.compile(r"(?:how|what|when|which|who|why|where)\b", re.I)


@lru_cache(maxsize=1024)
def _named_concepts(
    question: str, named_languages: frozenset[str], scope_languages: frozenset[str]
) -> tuple[str, tuple[tuple[Concept, tuple[str, ...], frozenset[str]], ...]]:
    """The question's language and the concepts it names, each with the words (English matches, CJK terms) that named
    it and the languages to look it up in: what translations() and alternatives() both read (several times a question:
    cached, since a long question costs a scan of every row)."""
    own = question_language(question)
    # The languages of the documents it names count too: "the IP Basic Act" (in Japanese only) names no country.
    langs = target_languages(question) | {lang for lang in scope_languages | named_languages if lang != own and lang in LANGUAGES}
    if own == "en" and "en" in named_languages:
        langs = set()
    found: list[tuple[Concept, tuple[str, ...], frozenset[str]]] = []
    cjk_question = not question.isascii()  # a CJK term cannot be in an ASCII question
    for concept, (pattern, cjk) in zip(concepts(), _matchers()):
        if concept.to_english_only and own == "en":
            continue
        named = [m.group() for m in pattern.finditer(question)] if pattern is not None else []
        named += [t for t in cjk if t in question] if cjk_question else []
        # An English question that points to no other language (about English documents) gets the first two English
        # synonyms (_terms) of the concepts it names by a phrase: "the three-step test" is TRIPS's "unreasonably
        # prejudice", "term of protection" a "duration". Not a single word's ("program": a computer program, or Japan's
        # IP Strategic Program), nor where other languages' terms are added (their English synonyms flooded the query:
        # "generative AI" and "how long" lost two gold quotes). Train: 3 gold quotes gained (t115, t122, t186), none lost;
        # every English synonym of every word: 8 gained, 9 lost. All synonyms of a phrase, "how long" included, also won
        # t119 but failed four of the examples over the whole corpus (tests/test_evidence_priors.py).
        phrase = own == "en" and not langs and any(re.search(r"[\s-]", n) and not _QUESTION_WORDS.match(n) for n in named)
        if named and (langs or phrase):
            found.append((concept, tuple(named), frozenset(langs | ({"en"} if phrase else set()))))
    return own, tuple(found)


def translations(question: str, named_languages: frozenset[str] = frozenset(), scope_languages: frozenset[str] = frozenset()) -> list[str]:
    """Glossary terms, in the languages the question points to, of the concepts the question names.

    `scope_languages`: the languages of the documents a search is restricted to (a jurisdiction or documents chosen
    by filter, e.g. one column of `ipqa compare`): an English question searched among Japanese statutes gets its
    Japanese terms even when its wording names no country.

    Another language gets a concept's first two terms (its usual renderings), the question's own language all its
    synonyms: a flood of translated words would outweigh the question's own. An English question that names a work
    with an English rendition (`named_languages` holds "en") is answered from that rendition: no other language, only the
    English synonyms of a phrase it names (as for any English question pointing to no other language)."""
    own, found = _named_concepts(question, named_languages, scope_languages)
    out: list[str] = []
    for concept, _, langs in found:
        for lang in langs:
            out.extend(_terms(concept, lang, own, langs, question))
    return list(dict.fromkeys(out))


def _terms(concept: Concept, lang: str, own: str, langs: frozenset[str], question: str) -> list[str]:
    """A concept's terms a question is searched by: another language's first two (its usual renderings), all of the
    question's own language, but for an English phrase's English synonyms (langs is {"en"} alone) the first two the
    question does not say: "text and data mining" brought "training data" and "machine learning" too, and the EU column
    of a comparison on mining quoted the AI Act's definition of training data instead of Article 53(1)(c)."""
    said = question.lower()
    terms = [t for t in concept.terms[lang] if t.lower() not in said]  # "ai promotion act" is what "the AI Promotion Act" says
    if lang != own or (own == "en" and langs == {"en"}):
        return terms[:2]
    return terms


def alternatives(question: str, named_languages: frozenset[str] = frozenset(), scope_languages: frozenset[str] = frozenset()) -> list[tuple[str, tuple[str, ...]]]:
    """The concepts behind translations(): each as (the question's own words that named it, every term of the concept
    in the question's language and in the languages it points to). A sentence that states any one term states the
    concept: the terms are alternatives, scored once, not extra words the sentence should also have said."""
    own, found = _named_concepts(question, named_languages, scope_languages)
    return [
        (
            " ".join(dict.fromkeys(named)),
            tuple(dict.fromkeys([*named, *(t for lang in sorted(langs | {own}) for t in _terms(concept, lang, own, langs, question))]))
            if own == "en" and langs == {"en"}
            else tuple(dict.fromkeys(t for lang in sorted(langs | {own}) for t in concept.terms[lang])),
        )
        for concept, named, langs in found
    ]


@lru_cache(maxsize=4096)
def english_concepts(statement: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """The concepts an English statement names by one of the several English terms of their row, each as (the words
    that named it, the pattern of all its English terms): a sentence saying "artificial intelligence" or "making
    available" states a statement's "AI" or "communication to the public" in other words."""
    return tuple(
        (" ".join(named), pattern)
        for concept, (pattern, _) in zip(concepts(), _matchers())
        if pattern is not None and len(concept.terms["en"]) > 1 and (named := [m.group() for m in pattern.finditer(statement)])
    )


def concept_units(question: str) -> list[tuple[str, tuple[str, ...]]]:
    """An English question's glossary concepts, each as (the English words that named it, its Japanese and Chinese
    terms): what a Japanese or Chinese sentence can state of the question in its own words."""
    if question_language(question) != "en":
        return []
    out: list[tuple[str, tuple[str, ...]]] = []
    for concept, (pattern, cjk) in zip(concepts(), _matchers()):
        if concept.to_english_only or pattern is None or not cjk:
            continue
        found = [m.group() for m in pattern.finditer(question)]
        if found:
            out.append((" ".join(found), cjk))
    return out


_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’-]*")


def english_rendering(question: str) -> str:
    """A Japanese or Chinese question as English words: its Latin-script words (WIPO, AI) and the English terms of the
    glossary concepts it names; '' for an English question or one naming no concept.

    What the English-only model and English passages can read of the question: the second dense query and BM25 list
    of retrieve.py, and the words an English sentence is scored against (evidence.py)."""
    if question_language(question) == "en":
        return ""
    out = _LATIN_WORD.findall(question)
    for concept, (pattern, cjk) in zip(concepts(), _matchers()):
        if concept.terms["en"] and ((pattern is not None and pattern.search(question)) or any(t in question for t in cjk)):
            out.extend(concept.terms["en"][:2])
    return " ".join(dict.fromkeys(out))


def question_language(question: str) -> str:
    """'ja' (kana), 'zh' (CJK ideographs, no kana) or 'en'."""
    if re.search(r"[\u3040-\u30ff]", question):
        return "ja"
    return "zh" if _CJK.search(question) else "en"

