"""Evidence sentences: whole sentences of the retrieved passages, scored by meaning and by shared words.

A passage may end (or start) inside a sentence; the rest is taken from the neighbouring passage of the same
document, so a quote is always a whole sentence (or list item), verbatim, at exact offsets."""

from __future__ import annotations

import hashlib
import math
import re
import time
import weakref
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .catalog import named_docs
from .embedding import Embedder
from .glossary import alternatives, concept_units, english_rendering, translations
from .lexical import HIRAGANA, tokenize
from .premise import statement
from .retrieve import question_languages, section_refs
from .sentences import cjk_sentence_ends, sentence_spans
from .store import Store
from .types import Hit, Passage, SourceInfo

_GENERIC = {"article", "section", "recital", "act", "law", "provide", "provides", "say", "says", "require", "requires",
            "regarding", "according", "mean", "means", "state", "states", "text", "document", "legal", "rule", "rules",
            "long", "many", "much", "often"}
# How a sentence's score mixes shared words (in context) with meaning (cosine of question and sentence vectors).
# Chosen on eval/train.jsonl (see answerability.py's fit command), never on eval/questions.jsonl; answers use the
# fitted mix (answerability.mix()), these defaults mirror it. With every sentence scored by meaning (stored vectors)
# 0.7/0.3 quoted gold most often on train, answering everything (0.5/0.5: 0.507, 0.6/0.4: 0.511, 0.7/0.3: 0.520).
LEXICAL_WEIGHT = 0.7
SEMANTIC_WEIGHT = 0.3
_CLOSED_END = re.compile(r"[.!?;:。；！？\"”’)\]—]\s*$")  # a dash closes a lead-in ("…shall include—"), no title
_OPEN_START = re.compile(r"\s*[a-z,;]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


@dataclass(frozen=True)
class Quote:
    """A candidate sentence: where it sits in which hit, and how well it matches the question."""

    hit_index: int
    start: int
    end: int
    score: float
    lexical: float = 0.0
    semantic: float = 0.0
    premise: float = 0.0  # similarity to what a "why" question takes for granted (0 for other questions)
    adjust: float = 0.0  # added to the mix: an exception when the rule was asked for scores lower


@dataclass(frozen=True)
class Evidence:
    """The hits (passages completed to whole sentences) and their candidate sentences, best first."""

    hits: tuple[Hit, ...]
    quotes: tuple[Quote, ...]
    # Hit index -> the sentence introducing the list its passage opens with, in the passage before it (a hit `via`
    # "lead-in"): "次の各号のいずれかに該当する者は、…に処し" above items a chunk boundary cut from it.
    leads: dict[int, Quote] = field(default_factory=dict)
    # Hit index -> where the retrieved passage itself begins in its completed text (sentences before it came from the
    # passage before, to complete one: what a citation of this hit may not quote).
    starts: dict[int, int] = field(default_factory=dict)

    def text(self, q: Quote) -> str:
        """The sentence itself."""
        return self.hits[q.hit_index].passage.text[q.start : q.end]

    def lead_of(self, q: Quote) -> Quote | None:
        """The sentence introducing the list a quoted item belongs to (in its passage or the one before), or None."""
        text = self.hits[q.hit_index].passage.text
        if not _ITEM.match(text[q.start : q.end]):
            return None
        floor = self.starts.get(q.hit_index, 0)
        found = _lead_before(text, [(s, e) for s, e in sentence_spans(text) if e <= q.start and s >= floor])
        if found is None:  # only items before it in its passage: the list began in the passage before
            return self.leads.get(q.hit_index)
        return replace(q, start=found[0], end=found[1]) if found[0] >= 0 else None

    def antecedent_of(self, q: Quote) -> Quote | None:
        """The sentence before a quoted one that opens by pointing back to it ("This obligation shall not apply…",
        "At the same time, Japan is also…", "ただし、…"): the one before it in the same paragraph of its passage, or None.
        Quoted alone such a sentence does not say what "this" is."""
        text = self.hits[q.hit_index].passage.text
        if not _POINTS_BACK.match(text[q.start : q.end]):
            return None
        floor = self.starts.get(q.hit_index, 0)
        before = [(s, e) for s, e in sentence_spans(text) if e <= q.start and s >= floor]
        if not before or _PARAGRAPH_BREAK.search(text[before[-1][1] : q.start]):
            return None
        return replace(q, start=before[-1][0], end=before[-1][1])

    def proviso_of(self, q: Quote) -> Quote | None:
        """The sentence after a quoted one when it is the proviso qualifying it ("ただし、…この限りでない。", "但是…",
        "Provided that…") or says in other words what it means ("In other words, …", "It concerns…"), in the same
        paragraph of its passage; None otherwise."""
        text = self.hits[q.hit_index].passage.text
        after = next(((s, e) for s, e in sentence_spans(text) if s >= q.end), None)
        if after is None or not _QUALIFIES.match(text[slice(*after)]) or _PARAGRAPH_BREAK.search(text[q.end : after[0]]):
            return None
        return replace(q, start=after[0], end=after[1])

    def doc_span(self, q: Quote) -> tuple[str, int, int]:
        """(doc_id, start, end) of a sentence in its document."""
        return doc_span(self.hits, q)


def doc_span(hits: Sequence[Hit], q: Quote) -> tuple[str, int, int]:
    """(doc_id, start, end) of a quote of one of `hits` in its document."""
    p = hits[q.hit_index].passage
    return p.doc_id, p.start + q.start, p.start + q.end


# A Japanese bigram with hiragana in it ("権を", "人に", "売る") is grammar or a verb's ending, not a term a sentence must
# share: a long statute sentence holding the same particles outscored the short rule ("著作権を他人に売る…" quoted
# Article 30-4, not 61). The glossary's everyday words ("売っ", "譲れ") are kept: a sentence states them in other terms.
# (Train, with the glossary's new everyday words: citation recall 0.812 -> 0.816, key facts 0.781 -> 0.788; dropping
# only the bigrams holding a particle (を, に, は…): 0.812, 0.783.)
def weights(question: str, glossary: Collection[str] = ()) -> dict[str, float]:
    """The question's content terms; reference tokens ('art:53') count more. `glossary`: the tokens of the question's
    words that name a glossary concept (concept_tests), which count whatever their script: one in hiragana alone
    ("やめさせ", no bigram token of its own) is a term too."""
    out: dict[str, float] = {}
    # "How long does copyright last?" asks for a duration, which the sentence states: its verb is no word to share
    # ("the last surviving author" in § 302(b) outscored § 302(a), the rule).
    lasting = _HOW_LONG.search(question)
    for token in tokenize(question):
        if token in _GENERIC or token.isdigit() and len(token) < 2 or HIRAGANA.search(token) and token not in glossary:
            continue
        if lasting and token in _LASTING:
            continue
        out[token] = 2.5 if ":" in token else 1.0
    out.update({t: 1.0 for t in glossary if HIRAGANA.fullmatch(t)})
    return out


_HOW_LONG = re.compile(r"\bhow long\b", re.I)
_LASTING = {"last", "lasts", "endure", "endures", "run", "runs", "remain", "remains", "continue", "continues", "persist", "persists"}


def score_in_context(sentence: str, weights: dict[str, float], context: set[str], also: set[str] = frozenset()) -> float:  # type: ignore[assignment]
    """Half for the question's terms found in the sentence or its context (document, section, heading),
    half for the terms the context does not explain: those are what the sentence itself must say.

    `also`: question terms the sentence states in other words (a glossary term of the same concept)."""
    if not weights:
        return 0.0
    present = _with_prefixes(set(tokenize(sentence)), weights) | also
    total = sum(weights.values())
    covered = sum(w for t, w in weights.items() if t in present or t in context) / total
    focus = {t: w for t, w in weights.items() if t not in context}
    if not focus:
        return covered
    return 0.5 * covered + 0.5 * sum(w for t, w in focus.items() if t in present) / sum(focus.values())


def _units(question: str) -> list[tuple[set[str], tuple[str, ...]]]:
    """The English question's content words grouped by glossary concept: a concept (its words, its CJK terms), then
    each word no concept names (no CJK terms: only the document's or section's names can state it)."""
    if _CJK.search(question):
        return []  # a Japanese or Chinese question shares its sentences' own words
    asked = weights(question)
    out: list[tuple[set[str], tuple[str, ...]]] = []
    named: set[str] = set()
    # Longest names first: "Intellectual Property Strategic Program" is one concept, not "program" and the rest.
    for words, cjk in sorted(concept_units(question), key=lambda u: -len(u[0])):
        tokens = {t for t in tokenize(words) if t in asked} - named
        if tokens:
            out.append((tokens, cjk))
            named |= tokens
    out += [({t}, ()) for t in asked if t not in named]
    return out


def coverage(sentence: str, units: Sequence[tuple[set[str], tuple[str, ...]]], context: set[str], weights: dict[str, float]) -> float:
    """Share of an English question's concepts a Japanese or Chinese sentence states in its own words (a glossary term),
    or its document or section names, each weighed by its rarest word: the question's words read across languages,
    concept by concept, so that the words a sentence in another language cannot share do not count against it twice."""
    weighed = [(max(weights.get(t, 0.0) for t in tokens), tokens, cjk) for tokens, cjk in units]
    total = sum(u[0] for u in weighed)
    if not total:
        return 0.0
    return sum(wt for wt, tokens, cjk in weighed if any(t in sentence for t in cjk) or tokens <= context) / total


def concept_tests(question: str, named: frozenset[str] = frozenset(), languages: frozenset[str] = frozenset()) -> list[tuple[set[str], list]]:  # type: ignore[type-arg]
    """glossary.alternatives as (the question's tokens for the concept, a test per term): a CJK term is found anywhere
    in a sentence, an English one as a word."""
    out = []
    for words, terms in alternatives(question, named, languages):
        tests = []
        for t in terms:
            if _CJK.search(t):
                tests.append(lambda text, t=t: t in text)
            else:
                tests.append(re.compile(r"(?<![\w-])" + re.escape(t) + r"(?:s|es)?(?![\w-])", re.I).search)
        # An everyday word in hiragana alone ("やめさせ") has no bigram token: it stands for itself.
        out.append((set(tokenize(words)) | {w for w in words.split() if len(w) >= 2 and HIRAGANA.fullmatch(w)}, tests))
    return out


def _with_prefixes(tokens: set[str], weights: dict[str, float]) -> set[str]:
    """The sentence's tokens plus the question terms they extend or shorten ('lead' ~ 'leadership', 'protect' ~
    'protection'): light morphology, since BM25's plural folding does not reach derived words."""
    extra = {t for t in weights if t not in tokens and len(t) >= 4 and ":" not in t and any(
        len(w) >= 4 and (w.startswith(t) or t.startswith(w)) for w in tokens)}
    return tokens | extra


# A sentence that states an exception or a special case ("In the case of…", "This obligation shall not apply…")
# answers a question about the rule less well than the rule itself, unless the question asks about exceptions. A
# condition ("Where intellectual property rights are involved, …", "If the headquarters finds it necessary, …") states
# the rule for a case and is no exception (train: counted as one, it lost t421 and t251; without, +2 quoted gold).
_EXCEPTION = re.compile(
    r"^\W*(?:\(?\w{1,4}\)\.?\s*)?(?:in the case of|however|notwithstanding|by way of derogation|this (?:obligation|paragraph|article) shall not|"
    r"the (?:obligations?|provisions?) (?:laid down|set out|referred to) in .{0,60}? shall not|"
    # "Except as provided by clause (2), the copyright owner may elect…": the rule itself, its carve-out a cross-reference.
    r"except(?! as (?:otherwise )?(?:provided|specified|set out|permitted))|unless(?! otherwise (?:provided|specified|agreed)))\b",
    re.I,
)
_ASKS_EXCEPTION = re.compile(r"\b(?:exception|exempt|derogat|unless|except|special case|in the case of|when|where|if|once)\w*", re.I)
EXCEPTION_PENALTY = 0.12
# The general rule, asked for ("in principle", "as a general rule", 原則として): statutes state it with its carve-out
# as a cross-reference ("except as provided by the following subsections", "この節に別段の定めがある場合を除き",
# "本法另有规定的除外"), the special cases after it in sentences of their own. Train: "日本の著作権法で著作権の保護期間は
# 原則としてどのくらいですか。" quoted Articles 52 and 54 (anonymous works, films), now Article 51(2) first.
_ASKS_RULE = re.compile(r"\b(?:in principle|as a (?:general|basic) rule|general rule|in general|generally|ordinarily|normally)\b|原則|一般", re.I)
_STATES_RULE = re.compile(r"except as (?:otherwise )?(?:provided|specified)|unless otherwise (?:provided|specified)|別段の定め|另有规定", re.I)
GENERAL_RULE_PRIOR = 0.1
# A Japanese or Chinese question's English rendering is a few glossary terms: an English sentence sharing them matched
# an approximation of the question, and its words count less than a sentence sharing the question's own (train, any
# weight from 0.3 to 0.7: t391 quotes the commentary's sentence on WIPO's leadership against piracy; no answer lost).
RENDERING_WEIGHT = 0.7
# A short list item that ends on ';' or ',' ("(i) computer programs;") is a fragment of the sentence its lead-in
# begins: alone it shares the question's words but says nothing, and it scores lower. On train one question moves, at
# 0.1, 0.2 and 0.3 alike (the WCT on computer programs: Article 4's rule instead of Article 7's list item); none is lost.
FRAGMENT_PENALTY = 0.1
_FRAGMENT = re.compile(r"^\W*(?:\(?[0-9a-zA-Z]{1,5}[.)]{1,2})\s*(?:\S+\s+){0,5}\S+?\s*(?:[;,]|;\s*(?:and|or))\s*$")
_REFERS_BACK = re.compile(r"\W*(?:\(?\w{1,4}\)\.?\s*)?(?:this|these|such|that|the preceding)\s", re.I)
# A sentence citing authority by reporter ("Time Inc. v. Bernard Geis Assocs., 293 F. Supp. 130", "598 U.S. 508") is a
# court's string of precedents, not its holding: it scores lower. No train question moves at 0.1 or 0.2 (train quotes few
# decisions); at 0.1 such a string no longer displaces the holding in the Bartz answer on the pirated copies (issue #10).
CITATION_PENALTY = 0.1
_AUTHORITY = re.compile(r"\b\d{1,4}\s+(?:U\.\s?S\.|F\.\s?(?:Supp\.\s?)?(?:\d[a-z]{1,2}\s)?|S\.\s?Ct\.|L\.\s?Ed\.|F\.\s?App['’]x)\s*(?:at\s+)?\d{1,5}")
# A sentence that defines a term the question uses ("The term “inventor” means…", "‘AI literacy’ means…", "“performers”
# are…", "The expression “literary and artistic works” shall include…") scores higher: it says what the question's
# words mean in that law. Chosen on eval/train.jsonl (citation recall, questions: 0.05 and 0.1 gained the same questions
# and lost none; 0.15 and more also quoted the definition of "deep fake" instead of what deployers of deep fakes must do).
DEFINITION_PRIOR = 0.1
# And when the question asks what the term means (train: the same gold quoted with 0.1, 0.25 and 0.4; citation
# precision 0.325, 0.326, 0.330): "…知的財産をどのように定義していますか" quotes Article 2, not the supplementary provisions.
ASKED_DEFINITION_PRIOR = 0.4
# A question asking what someone must do: a definition of its words is no answer, and gets no prior.
_ASKS_DUTY = re.compile(r"\b(?:must|have to|has to|obliged|obligations?|duty|duties)\b|義務|しなければ|义务|必须|应当", re.I)
# Words after "what is a" that make it a question about a duty or a state, not about what a term means.
_NOT_A_TERM = r"(?:required|obliged|allowed|permitted|entitled|expected|supposed|able|liable|subject|responsible|eligible|needed|necessary|to)\b"
# A question asking what a term means ("…をどのように定義していますか", "How is a phonogram defined…?").
ASKS_DEFINITION = re.compile(
    r"定義|とは[、，]?(?:何|なん|どのような|どういう)|の意味|是指|含义|定义|\bdefin(?:e|es|ed|ition|itions)\b|\bwhat (?:is|are) meant by\b|\bmeaning of\b|"
    r"\bwhat does [^?]{1,60} mean\b|\bwhat counts as\b|"
    # "Who can be an inventor…?", "Who counts as a provider…?" ask who the law means; "Who is the depositary…?" asks who.
    r"\bwho (?:counts? as|qualif(?:y|ies) as|(?:is|are|can be|may be) an?) (?!the\b)[a-z]|\bwho are (?!the\b)[a-z]+s\b(?! required| obliged| allowed)|"
    # "What is a general-purpose AI model under the AI Act?", not "What is a provider required to do under…?"
    rf"\bwhat is an? (?:(?!{_NOT_A_TERM})[\w'’-]+\s+){{1,6}}(?:under|in|according to)\b",
    re.I,
)
_DEFINITION = re.compile(
    r"\W*(?:\(?[0-9a-zA-Z]{1,5}[.)]{1,2}\s*)?(?:for the purposes? of [^,]{1,80},\s*)?(?:(?:an?|the)\s+)?"
    r"(?:(?:term|terms|word|words|expression|expressions)\s+)?[“\"‘']([^”\"’'\n]{1,80})[”\"’']"
    r"(?:\s*(?:,|and|or)\s*[“\"‘'][^”\"’'\n]{1,80}[”\"’'])*\s*,?\s*(?:as used in (?:this|these|the) \w+(?: \w+)?\s*,?\s*)?"
    r"(?:means?|shall (?:mean|include)|refers? to|includes?|is|are|has the meaning)\b",
    re.I,
)
# The front matter of a statute, regulation or treaty (its title block, an editor's description of the text, the
# preamble that shares the title's passage) is no provision: a sentence of the document's first passage, when that
# passage is not an article or section, scores lower. Chosen on train: 0.2 to 0.5 gained the same questions, 0.1 fewer.
FRONT_MATTER_PENALTY = 0.3
# A recital says why a regulation's articles say what they say; the articles are the law. A recital's sentence scores
# lower unless the question asks why (its purpose, its reasons) or names the recital. Chosen on eval/train.jsonl (one of
# its 62 gold spans in the AI Act lies in a recital): 0.05, 0.1 and 0.2 quote the same gold (citation recall 0.812) and
# refuse one more unanswerable question (abstention 0.897 -> 0.902); 13 answers quote articles for recitals.
RECITAL_PENALTY = 0.1
_ASKS_REASON = re.compile(r"\b(?:why|purposes?|reasons?|rationale|recitals?|aims?)\b|なぜ|どうして|目的|理由|趣旨|为什么|为何|原因", re.I)
# A section label naming an article or section, or a regulation's recital or annex: the body, no front matter.
_PROVISION = re.compile(r"(?:Article|§|Section|Recital|Annex)\s*[0-9IVXLC]")
_LEGISLATION = {"statute", "regulation", "treaty", "directive", "convention", "act"}


def complete(hits: Sequence[Hit], store: Store | None) -> tuple[tuple[Hit, ...], list[tuple[int, int]]]:
    """Hits whose passage ends or starts inside a sentence, extended with the neighbouring passage up to that
    sentence's end (start); also where each original passage now sits inside its (possibly longer) text."""
    out: list[Hit] = []
    regions: list[tuple[int, int]] = []
    for hit in hits:
        p = hit.passage
        region = (0, len(p.text))
        if store is not None and p.text.strip():
            # A Japanese or Chinese sentence longer than a passage runs on over several (jp): followed that far.
            last, tail_open = p, False
            for step in range(MAX_JOINS):
                if _CLOSED_END.search(p.text) or (step and p.text[-1:] < "\u3000"):
                    break
                if (nxt := store.adjacent(last.passage_id, 1)) is None or (gap := _gap(store, p, nxt)) is None:
                    break
                extended = _trim_forward(_merge(p, nxt, gap), len(p.text))
                # A CJK passage that runs on into the next one, and no sentence end found there: a fragment ends it.
                tail_open = len(extended.text) == len(p.text) and p.text[-1:] >= "\u3000" and (nxt.text.lstrip()[:1] or " ") >= "\u3000"
                p, last = extended, nxt
                if tail_open:
                    break
            else:
                tail_open = not _CLOSED_END.search(p.text) and p.text[-1:] >= "\u3000"
            if not tail_open:
                p = _with_proviso(_with_list_tail(p, last, store), store)
            first, joined, offset = hit.passage, p, 0  # `offset`: where p starts inside `joined`
            for step in range(MAX_JOINS):
                if (prev := store.adjacent(first.passage_id, -1)) is None or (gap := _gap(store, prev, joined)) is None:
                    break
                if not ((_OPEN_START.match(joined.text) and not step) or _starts_inside(prev, joined)):
                    break
                merged = _merge(prev, joined, gap)
                shift = len(merged.text) - len(joined.text)
                trimmed = _trim_backward(merged, shift)
                cut = len(merged.text) - len(trimmed.text)
                if cut < shift and (cut or not _starts_inside_any(store, prev)):
                    own = hit.passage
                    p = replace(trimmed, passage_id=own.passage_id, section=own.section, heading=own.heading)
                    region = (region[0] + offset + shift - cut, region[1] + offset + shift - cut)
                    break
                # No sentence starts in prev either: a CJK sentence began further back (jp).
                joined, offset, first = merged, offset + shift, prev
            head_open = p.start == hit.passage.start and _starts_inside_any(store, hit.passage)
            # What could not be completed is no sentence to quote: the region leaves out a fragment at either end.
            if head_open or tail_open:
                ends = [e for e in cjk_sentence_ends(p.text) if region[0] < e < region[1]]
                # (A passage inside one sentence that could not be completed holds nothing whole: the empty region (0, 0).)
                if head_open:
                    region = (ends[0], region[1]) if ends else (0, 0)
                if tail_open:
                    region = (region[0], ends[-1]) if ends and region != (0, 0) else (0, 0)
        out.append(replace(hit, passage=p) if p is not hit.passage else hit)
        regions.append(region)
    return tuple(out), regions


MAX_JOINS = 8  # neighbouring passages joined to complete one sentence (a CJK sentence may outrun several)


def _with_list_tail(p: Passage, last: Passage, store: Store) -> Passage:
    """A passage ending inside a list (its last piece the sentence introducing it, "…at a minimum:", or an item that does
    not close it, "(3) …as a whole; and") runs on over the next passages of its provision to the item that closes the
    list (or the provision's end), so that a sentence introducing the list is quoted with all its items (with_list).
    Only the quotable text grows: the region scored stays the passage's own."""
    spans = sentence_spans(p.text)
    tail = p.text[spans[-1][0] : spans[-1][1]] if spans else ""
    if not (_LEAD_IN.search(tail) or _ITEM.match(tail) and not _LIST_END.search(tail)):
        return p
    boundary, out = len(p.text), p
    for _ in range(MAX_JOINS):
        # `last`: the last passage completing the sentence joined (perhaps read past: nothing of it was kept).
        nxt = last if last.end > out.end else store.adjacent(last.passage_id, 1)
        if nxt is None or nxt.section != p.section:
            return out  # the provision ends with its list
        if (gap := _gap(store, out, nxt)) is None:
            return p
        merged, last = _merge(out, nxt, gap), nxt
        _, stop = _items_after(merged.text, boundary, boundary)
        if stop is not None:
            text = merged.text[:stop].rstrip()
            return replace(merged, text=text, end=merged.start + len(text)) if len(text) > boundary else p
        out = merged
    return p


def _with_proviso(p: Passage, store: Store) -> Passage:
    """A passage whose provision goes on in the next passage with a proviso (ただし、…この限りでない。) runs on to the
    proviso's end, so that a rule quoted at the passage's end is quoted with it (Evidence.proviso_of). Only the quotable
    text grows: the region scored stays the passage's own."""
    nxt = store.adjacent(p.passage_id, 1)
    if nxt is None or nxt.start < p.end or nxt.section != p.section or not _PROVISO.match(nxt.text.lstrip()):
        return p
    if (gap := _gap(store, p, nxt)) is None:
        return p
    return _trim_forward(_merge(p, nxt, gap), len(p.text) + len(gap) + 1)


def _starts_inside(prev: Passage, p: Passage) -> bool:
    """Whether a Japanese or Chinese passage starts inside a sentence that began in the passage before it (which it
    touches or overlaps): the text before its start does not end a sentence, a line or a bracket (jp)."""
    head = p.text.lstrip()
    if not head or head[0] < "\u3000" or not prev.start < p.start <= prev.end:
        return False
    before = prev.text[: p.start - prev.start].rstrip(" \t\u3000")
    return bool(before) and before[-1] not in "。；！？\n"


def _starts_inside_any(store: Store, p: Passage) -> bool:
    """Whether a CJK passage starts inside a sentence of the passage before it."""
    prev = store.adjacent(p.passage_id, -1)
    return prev is not None and _starts_inside(prev, p)


def _gap(store: Store, a: Passage, b: Passage) -> str | None:
    """The text between passages a and b: none between overlapping or touching chunks, else the whitespace the chunker
    stored after a (its meta "after"); None when a was chunked before that was stored (CHUNKER 3) or more lies between
    (reading the document again for it would cost seconds at query time)."""
    if b.start <= a.end:
        return ""
    after = a.meta.get("after")
    return after if isinstance(after, str) and a.end + len(after) == b.start else None


def _merge(a: Passage, b: Passage, gap: str) -> Passage:
    """Passage a followed by b (same document, b after a, `gap` the text between them), keeping a's identity."""
    text = a.text + gap + b.text if b.start > a.end else a.text + b.text[a.end - b.start :]
    breaks = sorted({*(a.meta.get("page_breaks") or []), *(x + b.start - a.start for x in (b.meta.get("page_breaks") or []))})
    if a.page is not None and b.page is not None and b.page > a.page and (b.start - a.start) not in breaks and not breaks:
        breaks = [b.start - a.start]
    meta = {**a.meta, "page_breaks": breaks, "after": b.meta.get("after")}  # the whitespace after the end, now b's
    return Passage(a.passage_id, a.doc_id, text, a.section, a.start, a.start + len(text), a.page, a.heading, meta)


def _trim_forward(p: Passage, boundary: int) -> Passage:
    """Keep the text up to the end of the sentence that crosses `boundary`."""
    for s, e in sentence_spans(p.text):
        if s < boundary < e:
            return replace(p, text=p.text[:e], end=p.start + e)
    return replace(p, text=p.text[:boundary], end=p.start + boundary)


def _trim_backward(p: Passage, boundary: int) -> Passage:
    """Keep the text from the start of the sentence that crosses `boundary`."""
    for s, e in sentence_spans(p.text):
        if s < boundary < e:
            breaks = [b - s for b in (p.meta.get("page_breaks") or []) if b > s]
            page = None if p.page is None else p.page + sum(1 for b in (p.meta.get("page_breaks") or []) if b <= s)
            return replace(p, text=p.text[s:], start=p.start + s, page=page, meta={**p.meta, "page_breaks": breaks})
    return replace(p, text=p.text[boundary:], start=p.start + boundary)


def gather(
    question: str,
    hits: Sequence[Hit],
    infos: dict[str, SourceInfo],
    *,
    embedder: Embedder | None,
    store: Store | None,
    wanted: set[str] = frozenset(),  # type: ignore[assignment]
    mix: tuple[float, float] = (LEXICAL_WEIGHT, SEMANTIC_WEIGHT),
    deadline: float | None = None,
    languages: frozenset[str] = frozenset(),
) -> Evidence:
    """Candidate sentences of the hits, completed across passage boundaries, scored and sorted best first.

    `languages`: those of the documents the search was restricted to (retrieve.scope_languages)."""
    full, regions = complete(hits, store)
    full, regions, leads = _list_leads(hits, full, regions, store)
    asks_exception = bool(_ASKS_EXCEPTION.search(question))
    asks_rule = bool(_ASKS_RULE.search(question))
    asks_definition = bool(ASKS_DEFINITION.search(question))
    asks_duty = bool(_ASKS_DUTY.search(question))
    asks_reason = bool(_ASKS_REASON.search(question)) or any(r.startswith("rec:") for r in wanted)
    found: list[tuple[int, int, int, set[str]]] = []
    seen: set[tuple[str, str]] = set()
    for i, hit in enumerate(full):
        if i and deadline is not None and time.monotonic() > deadline:
            break  # the best-ranked passages were scored; the rest would only delay the answer
        p = hit.passage
        info = infos.get(p.doc_id)
        lo, hi = regions[i]
        for s, e in sentence_spans(p.text):
            if e <= lo or s >= hi or _is_heading(p.text[s:e], p) or _is_title(p.text[s:e]):
                continue
            # Overlapping chunks and renditions of one work repeat sentences: score each once, in its best-ranked hit.
            key = (info.work_id if info else p.doc_id, re.sub(r"\W+", "", p.text[s:e].lower()))
            if key in seen:
                continue
            seen.add(key)
            found.append((i, s, e, set(tokenize(p.text[s:e]))))
    named = question_languages(named_docs(question, infos), infos)
    alts = concept_tests(question, named, languages)
    w = _rarity_weighted(weights(question, {t for tokens, _ in alts for t in tokens}), [t for *_, t in found])
    # A sentence in another language shares no word with the question: it is matched by the question's glossary
    # terms in that language (as BM25 was), and keeps whichever reading scores it higher.
    extra = translations(question, named, languages)
    wx = _rarity_weighted(weights(question + " " + " ".join(extra)), [t for *_, t in found]) if extra else None
    # An English sentence cannot share a Japanese or Chinese question's own words, nor can the English-only model read
    # that question: such a sentence is also scored by the question's English rendering (glossary terms, Latin words).
    rendering = english_rendering(question)
    we = _rarity_weighted(weights(rendering), [t for *_, t in found]) if rendering else None
    units = _units(question) if extra else []
    # The same glossary terms read as alternatives: a sentence stating any term of a concept the question names is
    # credited with the question's words for it. Added to the flat reading above, where each synonym was one more word
    # a sentence should have said, so that a concept with many synonyms (everyday Japanese) weighed ever less (train:
    # key facts 0.729 -> 0.733, citation recall unchanged; replacing that reading lost 2 gold quotes).
    alts = alts if extra else []
    rows: list[tuple[int, int, int, float, float]] = []
    contexts: dict[int, set[str]] = {}
    front: dict[int, bool] = {}
    # The question's words (and their glossary terms in the documents' languages), for the terms a sentence defines.
    asked = set(tokenize(question)) | set(tokenize(rendering)) | set(tokenize(" ".join(extra)))
    words: list[float] = []  # each row's shared-word score before its priors
    for i, s, e, _ in found:
        p = full[i].passage
        if i not in contexts:
            info = infos.get(p.doc_id)
            names = f"{info.short_title} {info.title} {' '.join(info.aliases)}" if info else ""
            contexts[i] = set(tokenize(f"{names} {p.section} {p.headings}"))
        if i not in front:
            front[i] = _front_matter(hits[i].passage, infos.get(p.doc_id), store)
        prior = 0.12 / (1 + i) + (0.25 if section_refs(p.section) & wanted else 0.0)
        term = item_term(p.text, s, e)
        if (defines(p.text[s:e], asked) or term and (term in question or set(tokenize(term)) <= asked)) and (asks_definition or not asks_duty):
            prior += ASKED_DEFINITION_PRIOR if asks_definition else DEFINITION_PRIOR
        exception = not asks_exception and bool(_EXCEPTION.match(p.text[s:e]))
        prior += GENERAL_RULE_PRIOR if asks_rule and _STATES_RULE.search(p.text[s:e]) else 0.0
        penalty = EXCEPTION_PENALTY if exception else 0.0
        penalty += FRONT_MATTER_PENALTY if front[i] else 0.0
        penalty += RECITAL_PENALTY if not asks_reason and p.section.startswith("Recital") else 0.0
        penalty += CITATION_PENALTY if _AUTHORITY.search(p.text[s:e]) else 0.0
        penalty += FRAGMENT_PENALTY if _FRAGMENT.match(p.text[s:e]) else 0.0
        lexical = score_in_context(p.text[s:e], w, contexts[i])
        if wx is not None:
            lexical = max(lexical, score_in_context(p.text[s:e], wx, contexts[i]))
        if alts:
            also = {t for tokens, states in alts if any(f(p.text[s:e]) for f in states) for t in tokens}
            if also:
                lexical = max(lexical, score_in_context(p.text[s:e], w, contexts[i], also))
        if we is not None and not _CJK.search(p.text[s:e]):
            lexical = max(lexical, RENDERING_WEIGHT * score_in_context(p.text[s:e], we, contexts[i]))
        if units and _CJK.search(p.text[s:e]):
            lexical = max(lexical, coverage(p.text[s:e], units, contexts[i], w))
        rows.append((i, s, e, lexical + prior, -penalty))
        # "This obligation shall not apply to…" speaks of the rule just before it: the words it shares with the question
        # are the rule's too, so the rule scores by them as well (and outranks its exception by the exception's penalty).
        if exception and len(rows) > 1 and rows[-2][0] == i and _REFERS_BACK.match(p.text[s:e]):
            r = rows[-2]
            rows[-2] = (r[0], r[1], r[2], max(r[3], r[3] - words[-1] + lexical), r[4])
        words.append(lexical)
    texts = [full[i].passage.text[s:e] for i, s, e, _, _ in rows]
    sims, premise = _meanings(question, full, rows, texts, embedder, store, rendering)
    quotes = [
        Quote(i, s, e, mix[0] * lex + mix[1] * sim + adj, lex, sim, pre, adj)
        for (i, s, e, lex, adj), sim, pre in zip(rows, sims, premise, strict=True)
    ]
    return Evidence(full, tuple(sorted(quotes, key=lambda q: -q.score)), leads, {i: r[0] for i, r in enumerate(regions) if r[0]})


def _list_leads(
    hits: Sequence[Hit], full: tuple[Hit, ...], regions: list[tuple[int, int]], store: Store | None
) -> tuple[tuple[Hit, ...], list[tuple[int, int]], dict[int, Quote]]:
    """For each hit whose passage opens with list items, the sentence introducing the list in the passages before it
    (same document and provision, at most MAX_LEAD_STEPS back). Such a passage joins the hits (`via` "lead-in", no
    candidate sentences of its own) so that the sentence can be quoted beside its items."""
    leads: dict[int, Quote] = {}
    if store is None:
        return full, regions, leads
    out, spans = list(full), list(regions)
    for i, hit in enumerate(full):
        text = hit.passage.text
        first = next(((s, e) for s, e in sentence_spans(text) if e > regions[i][0]), None)
        lo = regions[i][0]
        if first is None or not _ITEM.match(text[first[0] : first[1]]) or text[lo : first[0]].strip() and not _only_items(text[lo : first[0]]):
            continue
        p = hits[i].passage
        for _ in range(MAX_LEAD_STEPS):
            p = store.adjacent(p.passage_id, -1)
            if p is None or p.section != hits[i].passage.section:
                break
            found = _lead_before(p.text, sentence_spans(p.text))
            if found is None:
                continue  # items only: the list began further back
            if found[0] >= 0:
                # A passage already among the hits (perhaps completed, starting earlier) is quoted there: one passage
                # id is one text in an answer.
                k = next((k for k, h in enumerate(out) if h.passage.passage_id == p.passage_id), None)
                shift = 0 if k is None else p.start - out[k].passage.start
                if k is None:
                    out.append(Hit(p, 0.0, via="lead-in"))
                    spans.append((0, 0))
                    k = len(out) - 1
                if out[k].passage.text[found[0] + shift : found[1] + shift] == p.text[found[0] : found[1]]:
                    leads[i] = Quote(k, found[0] + shift, found[1] + shift, 0.0)
            break
    return tuple(out), spans, leads


MAX_LEAD_STEPS = 3


def _lead_before(text: str, spans: Sequence[tuple[int, int]]) -> tuple[int, int] | None:
    """Going back over `spans` of `text` past list items: the sentence introducing their list, (-1, -1) when the first
    sentence before them introduces none, None when there are only items."""
    for s, e in reversed(spans):
        if _ITEM.match(text[s:e]):
            continue  # an earlier item of the same list
        return (s, e) if _LEAD_IN.search(text[s:e]) or _INTRODUCES.search(text[s:e]) else (-1, -1)
    return None


def _only_items(text: str) -> bool:
    return all(_ITEM.match(text[s:e]) for s, e in sentence_spans(text))


# Chinese and Japanese definitions: "本法所称的作品，是指…" (China), "この法律において「著作物」とは、…" (Japan).
_CJK_DEFINITION = re.compile(
    r"\W*(?:第[〇一二三四五六七八九十百千]+条\s*)?(?:(?:本法|本办法|本条例|本规定)?所称(?:的)?([^，,。\s]{1,20})[，,]?是指|"
    r"(?:この(?:法律|章|節|条)(?:において|で)[、，]?)?「([^」]{1,30})」とは)"
)


def defined_term(sentence: str) -> str:
    """The term a definition defines ("The term “inventor” means…" -> "inventor", "本法所称的作品，是指…" -> "作品");
    '' for any other sentence."""
    m = _DEFINITION.match(sentence)
    if m:
        return m.group(1)
    m = _CJK_DEFINITION.match(sentence)
    return (m.group(1) or m.group(2)) if m else ""


# A Japanese definitions article lists its terms as items: "- 一 著作物" on one line, "思想又は感情を…をいう。" below.
_ITEM_TERM = re.compile(r"(?:^|\n)[ \t]*-?[ \t]*[一二三四五六七八九十]+(?:の[一二三四五六七八九十]+)*[ \t\u3000]+([^\s]{1,30})\s*$")


def item_term(text: str, s: int, e: int) -> str:
    """The term a definition item defines ("- 一 著作物" above "…をいう。"); '' for any other sentence."""
    if not text[s:e].rstrip().endswith("をいう。"):
        return ""
    m = _ITEM_TERM.search(text, max(0, s - 80), s)
    return m.group(1) if m else ""


def defines(sentence: str, asked: set[str]) -> bool:
    """Whether the sentence defines a term every word of which the question uses (`asked`: its tokens)."""
    term = set(tokenize(defined_term(sentence))) - _GENERIC
    return bool(term) and term <= asked


def _front_matter(p: Passage, info: SourceInfo | None, store: Store | None) -> bool:
    """Whether a retrieved passage is a statute's, regulation's or treaty's front matter: one of its first
    MAX_FRONT_PASSAGES passages with no passage labelled as an article, section, recital or annex before it (a web page's title block
    and promulgation decree: "生成式人工智能服务管理暂行办法 / 2023年07月13日 来源：中国网信网 / 国家互联网信息办公室…令")."""
    if store is None or info is None or info.kind not in _LEGISLATION:
        return False
    for _ in range(MAX_FRONT_PASSAGES):
        if _PROVISION.match(p.section):
            return False
        before = store.adjacent(p.passage_id, -1)
        if before is None:
            return True
        p = before
    return False


MAX_FRONT_PASSAGES = 4


# Sentences with no stored vector (crossing two passages, or an index made before sentence vectors were stored)
# encoded at query time per question, at most: encoding is what meaning costs there.
MAX_ENCODED = 6


def _meanings(
    question: str, full: Sequence[Hit], rows: Sequence[tuple[int, int, int, float, float]], texts: Sequence[str],
    embedder: Embedder | None, store: Store | None, rendering: str = "",
) -> tuple[list[float], list[float]]:
    """Cosine of the question (and of what it asserts or asks about, premise.statement) with every candidate sentence.

    Sentences stored at ingest are read, not encoded: only the question is (and retrieval already encoded it). The
    others, the best by words (and the best one of each of the top two passages), up to MAX_ENCODED, are encoded now;
    the rest score 0 for meaning (all of them do without an embedder)."""
    n = len(rows)
    if embedder is None or not n:
        return [0.0] * n, [0.0] * n
    found = _stored(full, rows, texts, store)
    # An English question weighs a Japanese or Chinese sentence by its words alone (below): encoding one is wasted.
    unread = set() if _CJK.search(question) else {k for k in range(n) if _CJK.search(texts[k])}
    by_words = sorted((k for k in range(n) if k not in found and k not in unread), key=lambda k: -rows[k][3])
    per_hit: dict[int, int] = {}
    encode = set(by_words[:MAX_ENCODED])
    for k in by_words:
        if rows[k][0] < 2 and per_hit.get(rows[k][0], 0) < 1:
            per_hit[rows[k][0]] = per_hit.get(rows[k][0], 0) + 1
            encode.add(k)
    picked = sorted(encode)
    vectors = dict(found)
    if picked:
        vectors.update(zip(picked, _encode([texts[k] for k in picked], embedder), strict=True))
    keys = sorted(vectors)
    matrix = np.stack([vectors[k] for k in keys]) if keys else np.zeros((0, 0), dtype=np.float32)
    qv = np.asarray(embedder.embed_query(question), dtype=np.float32)  # memoised: the vector retrieval searched with
    taken = statement(question)
    sims, premise = [0.0] * n, [0.0] * n
    if keys and matrix.shape[1] == qv.shape[0]:
        for k, v in zip(keys, (matrix @ qv).tolist(), strict=True):
            sims[k] = v
        if rendering:  # a CJK question: a sentence in Latin script is also compared with its English rendering
            rv = np.asarray(embedder.embed_query(rendering), dtype=np.float32)
            for k, v in zip(keys, (matrix @ rv).tolist(), strict=True):
                if not _CJK.search(texts[k]):
                    sims[k] = max(sims[k], v)
        # An English question and a Japanese or Chinese sentence: the English-only model's cosine is noise (it put
        # English sentences that merely share a topic above the provision that answers). Such a sentence is weighed by
        # its words alone (train: citation recall 0.704 -> 0.717 with retrieval's matching change).
        for k in unread:
            sims[k] = min(1.0, rows[k][3])
        if taken:
            tv = np.asarray(embedder.embed_query(taken), dtype=np.float32)
            for k, v in zip(keys, (matrix @ tv).tolist(), strict=True):
                premise[k] = v
            # A Japanese or Chinese premise, like the question, is also read in English against a Latin-script sentence.
            if rendering and (taken_en := english_rendering(taken)):
                rv = np.asarray(embedder.embed_query(taken_en), dtype=np.float32)
                for k, v in zip(keys, (matrix @ rv).tolist(), strict=True):
                    if not _CJK.search(texts[k]):
                        premise[k] = max(premise[k], v)
    return sims, premise


def _stored(full: Sequence[Hit], rows: Sequence[tuple[int, int, int, float, float]], texts: Sequence[str], store: Store | None) -> dict[int, np.ndarray]:
    """Candidates whose vector was stored at ingest (by document and absolute offsets), checked against the text
    encoded (a document replaced since retrieval has other sentences at those offsets)."""
    if store is None:
        return {}
    by_hit: dict[int, dict[tuple[int, int], tuple[str, bytes]]] = {}
    out: dict[int, np.ndarray] = {}
    for k, (i, s, e, _, _) in enumerate(rows):
        p = full[i].passage
        if i not in by_hit:
            by_hit[i] = store.sentence_vectors(p.doc_id, p.start, p.end)
        got = by_hit[i].get((p.start + s, p.start + e))
        if got is not None and got[0] == text_sha(encoded_text(texts[k])):
            out[k] = np.frombuffer(got[1], dtype=np.float32)
    return out


def encoded_text(sentence: str) -> str:
    """What the model encodes for a sentence: its opening carries its meaning, and encoding cost grows with length."""
    return sentence[:EMBED_CHARS]


def text_sha(text: str) -> str:
    """Short digest of an encoded sentence text (stored beside its vector)."""
    return hashlib.sha1(text.encode()).hexdigest()[:16]


class _Neighbours:
    """A document's passages in order, answering `adjacent` as the store does (for candidates at ingest)."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = list(passages)
        self.seq = {p.passage_id: k for k, p in enumerate(self.passages)}

    def adjacent(self, passage_id: str, step: int) -> Passage | None:
        k = self.seq.get(passage_id)
        if k is None or not 0 <= k + step < len(self.passages):
            return None
        return self.passages[k + step]


def sentence_candidates(passages: Sequence[Passage]) -> list[tuple[int, int, str]]:
    """The sentences gather may score for a document's passages (in order): each passage completed across its
    boundaries as `complete` does at query time, its whole sentences inside it less titles and headings. Returned
    once each as (absolute start, absolute end, text), the keys sentence vectors are stored under."""
    neighbours = _Neighbours(passages)
    out: dict[tuple[int, int], str] = {}
    for p in passages:
        if not p.text.strip():
            continue
        full, regions = complete([Hit(p, 0.0)], neighbours)  # type: ignore[arg-type]
        q = full[0].passage
        lo, hi = regions[0]
        for s, e in sentence_spans(q.text):
            if e <= lo or s >= hi or _is_heading(q.text[s:e], q) or _is_title(q.text[s:e]):
                continue
            out.setdefault((q.start + s, q.start + e), q.text[s:e])
    return [(s, e, t) for (s, e), t in sorted(out.items())]


def _rarity_weighted(weights: dict[str, float], sentences: Sequence[set[str]]) -> dict[str, float]:
    """Question terms weighted by how few candidate sentences share them: a term every candidate has (the
    document's own subject) tells them apart less than one only the answer has."""
    if len(sentences) < 3:
        return weights
    n = len(sentences)
    out = {}
    for t, w in weights.items():
        df = sum(1 for toks in sentences if t in _with_prefixes(toks, {t: 1.0}))
        out[t] = w * max(0.2, math.log((n + 1) / (df + 0.5)))
    return out


def _is_title(sentence: str) -> bool:
    """A title or heading line rather than a statement: mostly capitals, or no closing punctuation."""
    letters = [c for c in sentence if c.isalpha() and c.isascii()]
    if len(letters) > 20 and sum(c.isupper() for c in letters) > 0.5 * len(letters):
        return True
    return not _CLOSED_END.search(sentence) and len(sentence.split()) < 25 and bool(letters)


def _is_heading(sentence: str, passage: Passage) -> bool:
    """The section's own heading line (labels may be truncated with '…')."""
    for label in (passage.section, passage.heading):
        stem = label.rstrip("…")
        if label and (sentence == label or (len(stem) >= 20 and sentence.startswith(stem))):
            return True
    return False


# Sentence vectors per embedder, least recently used dropped first: a question asked again, or a passage
# retrieved again, costs no new encoding. Keyed weakly by the embedder so a test's fake model never mixes in.
_CACHE: weakref.WeakKeyDictionary[Embedder, OrderedDict[str, np.ndarray]] = weakref.WeakKeyDictionary()
_CACHE_SIZE = 50_000
EMBED_CHARS = 160


def _encode(sentences: Sequence[str], embedder: Embedder) -> list[np.ndarray]:
    """Vectors of sentences encoded at query time (those with no stored vector), cached."""
    cache = _CACHE.setdefault(embedder, OrderedDict())
    texts = [encoded_text(t) for t in sentences]
    todo = list(dict.fromkeys(t for t in texts if t not in cache))
    vectors = embedder.embed(todo, query_time=True) if todo else []  # a question's few sentences: the query's threads
    for text, vec in zip(todo, vectors, strict=True):
        cache[text] = np.asarray(vec, dtype=np.float32)
    out = []
    for t in texts:
        cache.move_to_end(t)
        out.append(cache[t])
    while len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
    return out


# A sentence that introduces a list ("The objectives of this Treaty are to:", "…shall require applicants to disclose:",
# "……包括：", the US Code's "…the factors to be considered shall include—") says nothing until its items: quoted, it runs
# on through the items that follow it in the passage (complete() joins those a passage boundary cut off), up to the item
# that closes the list ('.' or '。'), as one verbatim span (still whole sentences and items).
_LEAD_IN = re.compile(r"[:：—]\s*$")
_ITEM = re.compile(
    r"^\s*(?:\(?(?:[a-z]{1,2}|[ivxlc]{1,6}|\d{1,3})\)|\d{1,3}\.(?!\d)|[-–•]\s+[一二三四五六七八九十百]*|（[一二三四五六七八九十百]+）|[一二三四五六七八九十百]+[、．])",
    re.I,
)
# A sentence opening with a word that points back to the one before it: a demonstrative or pronoun (not "This
# Regulation", "This Article": the instrument or a provision names itself), a connective, a Japanese or Chinese proviso
# or demonstrative. Hand-written: no sentence splitter or segmenter here resolves reference.
_POINTS_BACK = re.compile(
    r"(?:(?:This|These|That|Those|Such)\s+(?!(?:Regulation|Act|Convention|Treaty|Agreement|Directive|Law|Code|Protocol|Decision|"
    r"Measures|Annex|Article|Chapter|Section|Part|Title|Recital|[Oo]rder|[Cc]ourt|paragraph|subparagraph|subsection|section|"
    r"point|article|chapter|part|title)\b)|(?:It|They|Its|Their)\s|(?:At the same time|In other words|For (?:this|that|these) "
    r"reasons?|In this (?:sense|context|case)|In that case|However|Nevertheless|Nonetheless|Therefore|Accordingly|Consequently|"
    r"Thus|Hence|Moreover|Furthermore|Instead|Otherwise|Likewise|Similarly|By contrast|That is)\b|"
    r"ただし|但し|この[^法条項号]|その|これ|それ|当該|なお|また、|このため|但是|该|此|其|上述)"
)
_PROVISO = re.compile(r"ただし|但し|但是|Provided(?:, however,)? that\b")
# A sentence saying in other words what the one before it means: a writer's restatement, not a rule of its own.
_RESTATES = re.compile(
    r"(?:In other words|That is(?: to say)?|Namely|In short|Put (?:simply|differently)|Rather|In this sense)\b|"
    r"(?:It|This) (?:concerns|reflects|means|signals|shows|suggests|represents|implies|can be (?:interpreted|seen|read|regarded))\b|"
    r"つまり|すなわち|言い換えれば|换言之|也就是说"
)
_QUALIFIES = re.compile(f"{_PROVISO.pattern}|{_RESTATES.pattern}")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_INTRODUCES = re.compile(r"次の各号|次に掲げる|左の各号|下列|以下各项")
_LIST_END = re.compile(r"[.。]\W*$")
MAX_LIST_CHARS = 1500  # a list longer than this is quoted up to its last item that fits


def with_list(hit: Hit, q: Quote) -> Quote:
    """The quote extended over the list its sentence introduces (unchanged for any other sentence)."""
    text = hit.passage.text
    if not _LEAD_IN.search(text[q.start : q.end]):
        return q
    return replace(q, end=_items_after(text, q.end, q.start)[0])


_LATIN_MARK = re.compile(r"\s*\(?([0-9]{1,3}|[a-z]{1,4})[.)]", re.I)
_CJK_MARK = re.compile(r"\s*(?:[-–•]\s*)?(（)?([一二三四五六七八九十百]+|[イロハニホヘトチリヌルヲ])(?:の[一二三四五六七八九十]+)?(?:）|[\s、．])")
_ROMAN = {"i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii", "xiv", "xv", "xvi", "xvii", "xviii", "xix", "xx"}


def _item_kind(item: str, kind: str) -> str:
    """An item marker's kind: 'digit', 'roman', 'letter', 'kanji', '(kanji)', 'kana' or 'dash' ("(i)" is a roman
    numeral in a list that `kind` says is one of roman numerals or that it opens, a letter in a list of letters)."""
    if m := _LATIN_MARK.match(item):
        mark = m.group(1).lower()
        if mark.isdigit():
            return "digit"
        if mark in _ROMAN and kind != "letter" and (kind == "roman" or mark == "i" or len(mark) > 1):
            return "roman"
        return "letter" if len(mark) <= 2 else "dash"
    if m := _CJK_MARK.match(item):
        return "kana" if m.group(2) in "イロハニホヘトチリヌルヲ" else "(kanji)" if m.group(1) else "kanji"
    return "dash"


def _items_after(text: str, after: int, origin: int) -> tuple[int, int | None]:
    """The list items following offset `after`: where the last of them ends (`after` if none), and where the list stops
    (None: the text ran out first, the list may go on in the next passage): after the item closing it ('.' or '。'), or
    at the first piece that is no item, is an item of the list around it (a list introduced inside item "(b)" ends at
    "(c)": its own items are "(i)", "(ii)") or would take the quote from `origin` past MAX_LIST_CHARS."""
    spans = sentence_spans(text)
    around = next((_item_kind(text[s:e], "") for s, e in reversed(spans) if e <= origin and _ITEM.match(text[s:e])), None)
    end, kind = after, ""
    for s, e in spans:
        if e <= after:
            continue
        if not _ITEM.match(text[s:e]) or e - origin > MAX_LIST_CHARS:
            return end, s
        kind = kind or _item_kind(text[s:e], "")
        if kind != around and _item_kind(text[s:e], kind) == around:
            return end, s
        end = e
        if _LIST_END.search(text[s:e]):
            return end, e
    return end, None
