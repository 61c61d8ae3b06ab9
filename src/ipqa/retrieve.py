"""Hybrid retrieval: dense (Chroma) + BM25 (glossary-expanded) (+ a Japanese or Chinese question's longest shared
phrase), fused by reciprocal rank, scoped to a named jurisdiction or document, one hit per provision of a work."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from difflib import SequenceMatcher

import numpy as np

from .catalog import mentions, named_docs
from .embedding import Embedder
from .glossary import english_rendering, question_language, translations
from .jurisdictions import JURISDICTION_NAMES, JURISDICTION_RES, named_jurisdictions  # noqa: F401 (re-exported)
from .lexical import CJK_CHARS, refs
from .renditions import article_key
from .settings import Settings
from .store import Store
from .types import Hit, Passage, SourceInfo

RRF_K = 60
MAX_ID_RESTRICT = 20_000  # above this many passages, restrict a document-scoped search by metadata instead of by id


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some jurisdictions and/or documents (empty = all)."""

    jurisdictions: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()

    def allows(self, doc_id: str, jurisdiction: str) -> bool:
        """Whether a passage of this document passes."""
        return (not self.doc_ids or doc_id in self.doc_ids) and (not self.jurisdictions or jurisdiction in self.jurisdictions)


def scoped_filters(question: str, filters: Filters, infos: dict[str, SourceInfo]) -> Filters:
    """A question naming jurisdictions the index holds (and no document) searches only their documents."""
    if filters.jurisdictions or filters.doc_ids or named_docs(question, infos):
        return filters
    held = {i.jurisdiction for i in infos.values()}
    asked = tuple(j for j in named_jurisdictions(question) if j in held)
    return Filters(jurisdictions=asked) if asked else filters


def section_refs(section: str) -> set[str]:
    """Reference tokens a section label answers to ('Article 53' -> {'art:53'})."""
    return set(refs(section.replace("§", "§ ")))


def retrieve(question: str, *, store: Store, embedder: Embedder, settings: Settings, top_k: int | None = None, filters: Filters | None = None) -> list[Hit]:
    """Best passages for a question, fused from dense and BM25 rankings."""
    # One committed state of the bookkeeping for the whole search (after catching up with other processes): a document
    # replaced meanwhile is found in its old version or its new one, never neither.
    with store.snapshot():
        return _retrieve(question, store=store, embedder=embedder, settings=settings, top_k=top_k, filters=filters)


def _retrieve(question: str, *, store: Store, embedder: Embedder, settings: Settings, top_k: int | None, filters: Filters | None) -> list[Hit]:
    k = top_k or settings.top_k
    pool = max(4 * k, 24)
    infos = {r.doc_id: r.info for r in store.docs()}
    filters = scoped_filters(question, filters or Filters(), infos)
    named = {d for d in named_docs(question, infos) if filters.allows(d, infos[d].jurisdiction)}
    own = question_language(question)
    keyword = store.bm25  # read once: another process may save a new one meanwhile (None: none, or another tokenizer's)
    lasting = own == "en" and bool(_TERM_OF.search(question))
    vector = embedder.embed_query(as_duration(question) if lasting else question)
    dense = _dense(vector, store, pool, filters)
    if named:
        # The question names its documents: make sure their best passages are in the pool.
        for pid, sim in _dense(vector, store, k, Filters(filters.jurisdictions, tuple(sorted(named)))).items():
            dense.setdefault(pid, sim)
    bm25 = [
        # The glossary adds the question's terms in Japanese/Chinese (or English): the model reads English only.
        pid
        for pid, _ in (
            keyword.search(
                question, pool * 4,
                terms=[*translations(question, question_languages(named, infos), scope_languages(filters, infos)), *(["duration"] if lasting else [])],
            )
            if keyword else []
        )
    ]
    # A Japanese or Chinese question, which the English-only model cannot read, is also searched by its English words
    # (glossary terms, Latin-script words): a dense and a BM25 ranking of their own, so English documents are found.
    rendering = english_rendering(question)
    dense_en_sims = _dense(embedder.embed_query(rendering), store, pool, filters) if rendering else {}
    dense_en: list[str] = list(dense_en_sims)
    bm25_en = [pid for pid, _ in keyword.search(rendering, pool * 4)] if rendering and keyword else []
    passages = store.passages(list({*dense.keys(), *bm25, *dense_en, *bm25_en}))
    # Mid-ingest a vector exists before its bookkeeping (and a replaced one may linger): use only fully stored passages.
    passages = {pid: p for pid, p in passages.items() if p.doc_id in infos}
    dense = {pid: sim for pid, sim in dense.items() if pid in passages}
    # A Japanese or Chinese question that names no document and no place asks about the law where its language is
    # spoken (Japan's documents, and the commentary on Japan), and about treaties only when it speaks of one ("条約",
    # "公约", "WIPO"): every ranking keeps to those places. The English rendering of "著作権の侵害に対する刑罰" put TRIPS
    # Article 61 above Japan's Article 119, and "同一性保持権" (the integrity right) found Title 17's § 106A. Train:
    # unchanged but for MRR 0.544 -> 0.550 (its Japanese questions name their act); probes written this session: 8 of
    # 28 Japanese and Chinese answers lose a foreign treaty's quote or gain their own act's article, 2 lose one.
    spoken_in = {i.jurisdiction for i in infos.values() if i.language == own}  # none: an index without such documents
    home = (
        spoken_in | ({"International"} if _TREATY.search(question) else set())
        if own != "en" and spoken_in and not named and not filters.jurisdictions and not filters.doc_ids
        else None
    )
    if rendering:
        # Those rankings only add what the question's own language cannot reach: works without a rendition in that
        # language (a translation of a Japanese act is not preferred to the act): of the works the question names, else
        # of the places its documents are from (and international ones) when it names no jurisdiction.
        spoken = {i.work_id for i in infos.values() if i.language == own}
        places = home if home is not None else spoken_in | {"International"}
        # And they are English rankings: a Japanese or Chinese passage they rank is ranked by noise (the English
        # rendering of a Chinese question put Japan's AI Promotion Act above its Copyright Act's Article 30-4).
        dense_en, bm25_en = (
            [pid for pid in ranking if pid in passages and infos[passages[pid].doc_id].work_id not in spoken
             and not unread(infos[passages[pid].doc_id])
             and (passages[pid].doc_id in named if named else bool(filters.jurisdictions) or infos[passages[pid].doc_id].jurisdiction in places)]
            for ranking in (dense_en, bm25_en)
        )

    def searched(pid: str) -> bool:
        """Whether a stored passage is of the documents searched: within the filters, and of the home places if any."""
        jurisdiction = infos[passages[pid].doc_id].jurisdiction
        return filters.allows(passages[pid].doc_id, jurisdiction) and (home is None or jurisdiction in home)

    # Kept before the BM25 rankings are cut to the pool, so that a confined question's pool is full.
    bm25, bm25_en = ([pid for pid in ranking if pid in passages and searched(pid)][:pool] for ranking in (bm25, bm25_en))
    dense = {pid: sim for pid, sim in dense.items() if searched(pid)}
    # The English-only model cannot read a Japanese or Chinese passage: its cosine with an English question is noise that
    # outranked BM25's glossary-term matches in those documents (train: recall@k 0.774 -> 0.825), and so is a Chinese
    # question's with a Japanese passage. Such passages keep their similarity (Hit.similarity) but are ranked by BM25
    # alone. A Japanese or Chinese question's own-language vectors do help (train, ja: 0.83 vs 0.57 citation recall
    # without). Without a keyword index (none saved, or one saved by another tokenizer version until the next ingest or
    # `ipqa doctor --fix`), a noisy cosine still finds a passage, where nothing else would.
    ranked_dense = [pid for pid in dense if keyword is None or not unread(i := infos[passages[pid].doc_id]) or i.language == own]
    wanted = set(refs(question))
    scores: dict[str, float] = {}
    dense_rank = {pid: r for r, pid in enumerate(ranked_dense)}
    bm25_rank = {pid: r for r, pid in enumerate(bm25)}
    # A Japanese or Chinese question is also ranked by the longest run of its own words a passage repeats: BM25 scores
    # each character pair apart, and the pairs of "プログラムの著作物の著作者" are everywhere in the Copyright Act, but only
    # Article 15(2) says the whole phrase. Train: MRR 0.550 -> 0.563, precision 0.340 -> 0.343, citation recall and key
    # facts unchanged; 9 of 59 Japanese and Chinese probe answers gained or lost a quote (3 better, 2 worse, 4 even).
    # Runs of 5 characters: one more unanswerable question answered; of 4 or 8 (document names still counted): gold
    # quotes lost. English questions read by their longest run of shared words lost citation recall (0.803 -> 0.762).
    phrase = phrase_ranking(question, [*bm25, *dense], passages, infos) if own != "en" else []
    for ranking in (ranked_dense, bm25, dense_en, bm25_en, phrase):
        for rank, pid in enumerate(ranking):
            scores[pid] = scores.get(pid, 0.0) + 1.0 / (RRF_K + rank + 1)
    if wanted:
        # A passage labelled with the asked-for provision ranks as if first in a third list.
        matching = [
            pid
            for pid in sorted(scores, key=lambda p: -scores[p])
            if section_refs(passages[pid].section) & wanted and (not named or passages[pid].doc_id in named)
        ]
        for rank, pid in enumerate(matching):
            scores[pid] += 1.0 / (RRF_K + rank + 1)
    if named:
        in_named = [pid for pid in sorted(scores, key=lambda p: -scores[p]) if passages[pid].doc_id in named]
        for rank, pid in enumerate(in_named):
            scores[pid] += 1.0 / (RRF_K + rank + 1)
    ordered = sorted(scores, key=lambda p: -scores[p])
    # The first passages of each ranking (of the named documents, when the question names some) are among the hits:
    # BM25's first two, the dense ranking's first. RRF scores a consensus, so a passage first in one ranking and missing
    # from the other's pool scored below ones both put twentieth ("引用して利用" found Japan's Article 32 first by BM25,
    # but the hits held Articles 35 and 38). They join at the end of the hits (first, they lost train's citation recall
    # 0.798 -> 0.767). Train: recall@k 0.845 -> 0.872, key facts 0.744 -> 0.758, citation recall 0.789 -> 0.798, false
    # refusal 0.022 -> 0.018 (BM25's first alone: 0.863, 0.753, 0.794; its first three: 0.870, 0.749, 0.785; the dense
    # ranking's first two as well: no better).
    leaders = [pid for ranking, n in ((bm25, 2), (ranked_dense, 1)) for pid in [q for q in ranking if not named or passages[q].doc_id in named][:n]]
    leaders = [pid for pid in dict.fromkeys(leaders) if pid not in ordered[: max(0, k - 3)]]
    if leaders:
        rest, cut = [pid for pid in ordered if pid not in leaders], max(0, k - len(leaders))
        ordered = rest[:cut] + leaders + rest[cut:]
    hits: list[Hit] = []
    owner: dict[tuple[str, str], str] = {}  # provision or text of a work -> the rendition that has it
    taken: set[str] = set()
    for pid in ordered:
        p = passages[pid]
        # A heading alone ("SECTION 5: PATENTS", "第三条（著作物の発行）") has no sentence to quote: it stands for what
        # follows it, the provision the question asked about. Train: citation recall 0.798 -> 0.803, recall@k 0.872 ->
        # 0.879, MRR 0.539 -> 0.544 (TRIPS's "SECTION 5 PATENTS" took the first place that Article 27 now has; answers
        # had quoted "第四章　人工知能戦略本部" as a citation).
        for _ in range(MAX_HEADING_STEPS):
            if not heading_only(p) or (after := store.adjacent(p.passage_id, 1)) is None:
                break
            p = after
        if heading_only(p) or p.passage_id in taken:
            continue
        taken.add(p.passage_id)
        work = infos[p.doc_id].work_id
        keys = [(work, "sub:" + p.meta.get("sub", p.section)), (work, "text:" + _squash(p.text)[:200])]
        if infos[p.doc_id].language and (article := article_key(p.section)):
            keys.append((work, "article:" + "".join(article)))  # renditions in two languages label an article differently
        # Two renditions of one act (HTML and PDF): never the same provision twice.
        if any(owner.get(key, p.doc_id) != p.doc_id for key in keys):
            continue
        for key in keys:
            owner.setdefault(key, p.doc_id)
        similarity = dense.get(pid, dense_en_sims.get(pid)) if p.passage_id == pid else dense.get(p.passage_id)
        hits.append(Hit(p, scores[pid], dense_rank.get(pid), bm25_rank.get(pid), similarity))
        if len(hits) >= k:
            break
    return _with_similarity(hits, vector, store)


# "the copyright term", "the term of protection": a period, which a statute's heading calls a duration (Title 17's
# § 302, "Duration of copyright"); in a long code "term" is mostly "the term 'X' means", which both rankings matched. An
# English question saying so is searched with "duration" too (BM25) and read with it in place of "term" (the model).
_TERM_OF = re.compile(
    r"\b(?:(?:copyright|patent|protection|minimum|maximum|\d+-year|[a-z]+-year)\s+terms?|terms?\s+of\s+(?:copyright|protection|a\s+patent|the\s+patent|patents?))\b",
    re.I,
)


def as_duration(question: str) -> str:
    """The question with "term" read as "duration" where it names a period ("the copyright term" -> "the copyright
    duration"), for the embedding model."""
    return _TERM_OF.sub(lambda m: re.sub(r"\bterms?\b", "duration", m.group(), flags=re.I), question)


MIN_PHRASE_CHARS = 6
_NOT_CJK = re.compile(f"[^{CJK_CHARS}]")  # what BM25 does not read as Japanese or Chinese (lexical.tokenize)


def phrase_ranking(question: str, candidates: list[str], passages: dict[str, Passage], infos: dict[str, SourceInfo]) -> list[str]:
    """The candidates sharing a run of at least MIN_PHRASE_CHARS Japanese or Chinese characters with the question,
    longest run first. The names of documents are no such run: the title of the Chinese measures, repeated in their
    preamble, had put the preamble above Article 24 for "…暂行办法》自何时起施行？"."""
    chars = list(_NOT_CJK.sub("\0", question))  # what no passage has: a run stops at anything else
    for info in infos.values():
        for start, end in mentions(question, info):
            chars[start:end] = "\0" * (end - start)
    asked = "".join(chars)
    longest: dict[str, int] = {}
    for pid in dict.fromkeys(candidates):
        text = passages[pid].text
        match = SequenceMatcher(None, text, asked, autojunk=False).find_longest_match(0, len(text), 0, len(asked))
        if match.size >= MIN_PHRASE_CHARS:
            longest[pid] = match.size
    return sorted(longest, key=lambda pid: -longest[pid])


# A Japanese or Chinese question that speaks of a treaty or an international body (whose names the catalog may hold
# only in English): "ベルヌ条約", "TRIPS協定", "伯尔尼公约", "世界知的所有権機関".
_TREATY = re.compile(r"条約|協定|公約|公约|条约|协定|議定書|议定书|WIPO|WTO|TRIPS|世界知的所有権機関|世界知识产权组织|世界貿易機関|世界贸易组织|国際|国际")

MAX_HEADING_STEPS = 3  # a chapter's heading, its section's, its article's


_HEADING_LINE = re.compile(r"^\s*#{1,6}\s")
_CLOSED = re.compile(r"[.。;；:：!?！？,，、”\"’]\s*$")  # how a sentence, a lead-in or a list item ends; a title does not
MAX_TITLE_CHARS = 100
# A list item ("- 三 前二号に掲げる…", "(a) …"; Japanese items end without a full stop) or a clause within a sentence.
_ITEM_OR_CLAUSE = re.compile(r"^\s*(?:[-–•(（]|[一二三四五六七八九十]+\s)|[、，,]")


def heading_only(p: Passage) -> bool:
    """A passage that is nothing but headings: Markdown heading lines, or a few short lines none of which ends as a
    sentence does ("CHAPTER V / GENERAL-PURPOSE AI MODELS", "第六条　（研究開発機関の責務等）")."""
    lines = [line for line in p.text.splitlines() if line.strip()]
    if not lines:
        return False
    plain = [line for line in lines if not _HEADING_LINE.match(line)]
    return not plain or (
        len(p.text.strip()) <= MAX_TITLE_CHARS and not any(_CLOSED.search(line) or _ITEM_OR_CLAUSE.search(line) for line in plain)
    )


def unread(info: SourceInfo) -> bool:
    """A document in a language the (English-only) embedding model cannot read."""
    return info.language in ("ja", "zh")


def _with_similarity(hits: list[Hit], vector: list[float], store: Store) -> list[Hit]:
    """Every hit with its cosine to the question: one that only BM25 ranked gets it from its stored vector (a few ids,
    one Chroma read), so the answerability stage weighs what was retrieved, not what the dense pool happened to hold."""
    missing = [h.passage.passage_id for h in hits if h.similarity is None]
    if not missing:
        return hits
    got = store.collection.get(ids=missing, include=["embeddings"])
    q = np.asarray(vector, dtype=np.float32)
    sims = {}
    for pid, e in zip(got["ids"], got["embeddings"], strict=True):
        v = np.asarray(e, dtype=np.float32)
        sims[pid] = float(v @ q / ((np.linalg.norm(v) * np.linalg.norm(q)) or 1.0))
    return [replace(h, similarity=sims.get(h.passage.passage_id)) if h.similarity is None else h for h in hits]


def question_languages(named: set[str], infos: dict[str, SourceInfo]) -> frozenset[str]:
    """Languages of the renditions of the works a question names (a catalogued document without one is English)."""
    works = {infos[d].work_id for d in named}
    return frozenset(i.language or "en" for i in infos.values() if i.work_id in works)


def scope_languages(filters: Filters, infos: dict[str, SourceInfo]) -> frozenset[str]:
    """Languages of the documents a filtered search is restricted to (none when nothing is filtered)."""
    if not filters.jurisdictions and not filters.doc_ids:
        return frozenset()
    return frozenset(i.language or "en" for d, i in infos.items() if filters.allows(d, i.jurisdiction))


def _squash(text: str) -> str:
    return re.sub(r"\W+", "", text.lower())


def _dense(vector: list[float], store: Store, n: int, filters: Filters) -> dict[str, float]:
    """Passage id -> cosine similarity, best first."""
    # Chroma's own query, not LlamaIndex's ChromaVectorStore: the same search, its cosine distance as is (not exp(-distance)),
    # and a question does not import LlamaIndex (seconds of `ipqa ask` start-up).
    conditions: list[dict] = []
    restrict: dict[str, list[str]] = {}
    if filters.doc_ids:
        ids = store.passage_ids(filters.doc_ids)
        if not ids:
            return {}  # nothing of these documents is (fully) stored: a metadata filter could only find passages retrieve drops
        if len(ids) <= MAX_ID_RESTRICT and not filters.jurisdictions:
            # Chroma searches a list of ids faster than a metadata match (10-15 vs 30-80 ms at 100k passages), same hits;
            # but ids together with a metadata filter take seconds, so a jurisdiction filter keeps the metadata path.
            restrict["ids"] = ids
        else:
            conditions.append({"doc_id": {"$in": list(filters.doc_ids)}})
    if filters.jurisdictions:
        conditions.append({"jurisdiction": {"$in": list(filters.jurisdictions)}})
    where = None if not conditions else conditions[0] if len(conditions) == 1 else {"$and": conditions}
    result = store.collection.query(query_embeddings=[vector], n_results=n, where=where, include=["distances"], **restrict)
    return {pid: 1.0 - dist for pid, dist in zip(result["ids"][0], result["distances"][0])}
