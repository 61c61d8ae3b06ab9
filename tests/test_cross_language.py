"""An English question over a Japanese document: the English-only model cannot read Japanese, so its cosine neither ranks
a Japanese passage, nor scores a Japanese sentence's meaning, nor counts for the evidence floor; BM25's glossary terms
find the passage, and the sentence is weighed by its words (real store, deterministic embedder)."""

from __future__ import annotations

import re

import pytest
from conftest import catalogued_index
from test_sentence_vectors import CountingEmbedder

from ipqa.answer import evidence_for
from ipqa.answerability import judge
from ipqa.api import Assistant
from ipqa.evidence import _units, coverage, gather, score_in_context, weights
from ipqa.glossary import translations
from ipqa.retrieve import retrieve
from ipqa.store import Store
from ipqa.types import REFUSED, Hit

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")

JP_ACT = """# 知的財産振興法

### 第一条

この法律は、知的財産の創造及び活用に関する施策を推進し、もって国民経済の健全な発展に寄与することを目的とする。

### 第二条

国は、知的財産権に関する事件について、訴訟手続の一層の迅速化を図るために必要な施策を講ずるものとする。

### 第三条

政府は、毎年度、知的財産の活用の状況を国会に報告しなければならない。

### 第四条

地方公共団体は、国との適切な役割分担を踏まえて、知的財産の活用に関する施策を策定し、及び実施する。
"""
EN_NOTES = """Notes on Japanese courts.

Japanese courts have become faster, and observers say the Japanese act is working well for companies.
The notes end here and say nothing about procedure.
"""
CATALOG = """
[[source]]
id = "jp-act"
file = "jp-act.md"
title = "Intellectual Property Promotion Act"
jurisdiction = "JP"
kind = "statute"
language = "ja"

[[source]]
id = "jp-notes"
file = "jp-notes.txt"
title = "Notes on Japanese courts"
jurisdiction = "JP"
kind = "article"
"""
QUESTION = "Does the Japanese act make IP lawsuits faster?"


@pytest.fixture(scope="module")
def japan(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return catalogued_index(tmp_path_factory.mktemp("japan"), {"jp-act.md": JP_ACT, "jp-notes.txt": EN_NOTES}, CATALOG)


def test_japanese_passages_are_ranked_by_bm25_alone_and_keep_their_similarity(japan: Assistant) -> None:
    hits = retrieve(QUESTION, store=japan.store, embedder=japan.embedder, settings=japan.settings)
    japanese = [h for h in hits if h.passage.doc_id == "jp-act"]
    assert japanese and all(h.dense_rank is None for h in japanese), "no dense rank for a passage the model cannot read"
    assert all(h.similarity is not None for h in hits), "a hit only BM25 ranked gets its cosine from its stored vector"
    best = next(h for h in japanese if "訴訟手続" in h.passage.text)
    assert japanese[0] is best, "the glossary term (lawsuit -> 訴訟手続) decides among the Japanese passages"


def test_a_japanese_question_keeps_its_dense_ranking(japan: Assistant) -> None:
    hits = retrieve("知的財産に関する訴訟手続の迅速化", store=japan.store, embedder=japan.embedder, settings=japan.settings)
    assert any(h.dense_rank is not None for h in hits if h.passage.doc_id == "jp-act")


def test_a_japanese_sentence_is_weighed_by_its_words_not_by_the_cosine(japan: Assistant) -> None:
    _, evidence, _ = evidence_for(QUESTION, store=japan.store, embedder=japan.embedder, settings=japan.settings)
    quotes = {evidence.text(q): q for q in evidence.quotes}
    statute = next(q for t, q in quotes.items() if "訴訟手続" in t)
    notes = next(q for t, q in quotes.items() if t.startswith("Japanese courts have become faster"))
    assert statute.semantic > 0.0, "a Japanese sentence's meaning score stands in for the unreadable cosine"
    assert evidence.quotes[0] is statute, "the provision outranks the English sentence that merely shares the words"
    assert notes.score < statute.score


def test_the_evidence_floor_counts_only_passages_the_model_reads(japan: Assistant) -> None:
    query, evidence, infos = evidence_for(QUESTION, store=japan.store, embedder=japan.embedder, settings=japan.settings)

    def judged(doc_id: str):  # type: ignore[no-untyped-def]
        hits = tuple(h for h in evidence.hits if h.passage.doc_id == doc_id)
        return judge(QUESTION, query, gather(QUESTION, hits, infos, embedder=japan.embedder, store=japan.store), infos, min_similarity=0.99)

    # Japanese hits only: their cosine says nothing, so the floor does not refuse; the model (and the rest) decides.
    assert judged("jp-act").reason != "weak-evidence"
    # The same floor still refuses when the English passages the model reads are all far from the question.
    refused = judged("jp-notes")
    assert refused.kind == REFUSED and refused.reason == "weak-evidence"


def test_an_english_question_encodes_no_japanese_sentence(japan: Assistant) -> None:
    # Without stored sentence vectors (store=None) candidates are encoded at query time, a few per question: a Japanese
    # one would be weighed by its words anyway, so an English question spends none of that budget on it.
    infos = {d.doc_id: d.info for d in japan.store.docs()}
    hits = [Hit(p, 1.0) for doc in ("jp-act", "jp-notes") for p in japan.store.doc_passages(doc)]
    counting = CountingEmbedder(japan.settings)
    gather(QUESTION, hits, infos, embedder=counting, store=None)
    assert counting.query_texts and not any(_CJK.search(t) for t in counting.query_texts)
    counting.query_texts.clear()
    gather("知的財産に関する訴訟手続の迅速化", hits, infos, embedder=counting, store=None)
    assert any(_CJK.search(t) for t in counting.query_texts), "a Japanese question's own sentences are still encoded"


def test_without_a_keyword_index_japanese_passages_are_still_found(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # A BM25 index saved by another tokenizer version is not read until the next ingest rebuilds it; meanwhile an
    # English question must still reach the Japanese act through the vectors (it found nothing at all before).
    assistant = catalogued_index(tmp_path, {"jp-act.md": JP_ACT, "jp-notes.txt": EN_NOTES}, CATALOG)
    saved = (assistant.store.dir / "bm25").resolve()
    (saved / "version").write_text("stale")
    store = Store(assistant.settings)
    assert store.bm25 is None and not store.bm25_in_sync()
    hits = retrieve(QUESTION, store=store, embedder=assistant.embedder, settings=assistant.settings)
    assert any(h.passage.doc_id == "jp-act" for h in hits)


def test_a_japanese_sentence_is_credited_with_each_concept_it_states_in_japanese() -> None:
    question = "Which body draws up Japan's annual Intellectual Property Strategic Program?"
    units = _units(question)
    # The longest glossary name is one concept (not "program", the computer program, and the rest).
    assert ({"intellectual", "property", "strategic", "program"}, ("推進計画", "知的財産推進計画")) in units
    sentence = "知的財産戦略本部は、この章の定めるところにより、知的財産の創造、保護及び活用に関する推進計画を作成しなければならない。"
    context = {"japan"}  # the act's own names (Japan's IP Basic Act)
    w = weights(question + " " + " ".join(translations(question, frozenset(), frozenset({"ja"}))))
    plain = score_in_context(sentence, w, context)
    credited = coverage(sentence, units, context, weights(question))
    assert credited > plain, (credited, plain)  # its Japanese bigrams are no longer measured against English words
    assert coverage("この法律は、公布の日から施行する。", units, context, weights(question)) < credited
    assert _units("知的財産推進計画は毎年見直されますか") == []  # a Japanese question reads Japanese sentences as before


def test_a_chinese_question_reads_japanese_passages_by_their_words_alone(japan: Assistant) -> None:
    # The model reads neither language well enough to compare them: a Chinese question's cosine with a Japanese passage
    # ranks nothing, nor does that of its English rendering (which only reaches English documents).
    question = "日本知识产权法对诉讼程序的迅速化有什么规定？"
    hits = retrieve(question, store=japan.store, embedder=japan.embedder, settings=japan.settings)
    japanese = [h for h in hits if h.passage.doc_id == "jp-act"]
    assert japanese and all(h.dense_rank is None for h in japanese)
    assert any("訴訟手続" in h.passage.text for h in japanese)


SCHOOL_ACT = """# 学校著作物利用法

### 第一条

学校その他の教育機関において教育を担任する者は、授業の過程における利用に供することを目的とする場合には、公表された著作物を複製することができる。

### 第二条

国は、教材を作る先生を支援する。
"""
SCHOOL_CATALOG = """
[[source]]
id = "jp-school"
file = "jp-school.md"
title = "School Works Act"
jurisdiction = "JP"
kind = "statute"
language = "ja"
"""


def test_a_plain_japanese_question_is_credited_with_the_statutes_synonyms(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # "コピー" is the statute's 複製, "先生" and "教材" its 教育 and 授業 (one glossary concept each): the article stating
    # them in its own words answers the question, not the one sharing its everyday words. The synonyms are alternatives
    # for the question's words, not extra words each sentence should also have said (which had diluted the score).
    assistant = catalogued_index(tmp_path, {"jp-school.md": SCHOOL_ACT}, SCHOOL_CATALOG)
    question = "先生が教材をコピーしてもよいですか。"
    _, evidence, _ = evidence_for(question, store=assistant.store, embedder=assistant.embedder, settings=assistant.settings)
    assert evidence.quotes and "複製することができる" in evidence.text(evidence.quotes[0])


TRANSFER_ACT = """# 著作権移転法

### 第一条　（著作権の譲渡）

著作権は、その全部又は一部を譲渡することができる。

### 第二条

国は、著作権を有する法人に対し、必要な支援を行うものとする。

### 第三条

著作権者は、その著作権を侵害する者に対し、その侵害の停止を請求することができる。

### 第四条

著作権を侵害する行為によつて作成された物を頒布した場合には、当該著作権を侵害する行為とみなす。
"""
TRANSFER_CATALOG = SCHOOL_CATALOG.replace("jp-school", "jp-transfer").replace("School Works Act", "Copyright Transfer Act")


def test_a_japanese_questions_particles_are_no_words_a_sentence_must_share(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # "売る" is the statute's 譲渡 (glossary): the rule saying so answers "can I sell my copyright to someone?", not the
    # sentence that shares more of the question's bigrams ("権を", "人に": a particle and half a word, not terms).
    assert {"著作", "他人", "売る"} <= set(weights("著作権を他人に売ることはできますか。", glossary={"売る"}))
    assert not {"権を", "人に"} & set(weights("著作権を他人に売ることはできますか。"))
    assistant = catalogued_index(tmp_path, {"jp-transfer.md": TRANSFER_ACT}, TRANSFER_CATALOG)
    question = "著作権を他人に売ることはできますか。"
    _, evidence, _ = evidence_for(question, store=assistant.store, embedder=assistant.embedder, settings=assistant.settings)
    assert evidence.quotes and "譲渡することができる" in evidence.text(evidence.quotes[0])


def test_an_everyday_word_in_kana_alone_is_a_term_of_the_question(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # "やめさせる" (make them stop) has no bigram token, yet it is what the question asks: the glossary reads it as the
    # statute's 停止 (injunction), so the article granting that answers, not the one repeating "著作権を侵害する".
    assistant = catalogued_index(tmp_path, {"jp-transfer.md": TRANSFER_ACT}, TRANSFER_CATALOG)
    question = "著作権を侵害された場合、やめさせることはできますか。"
    _, evidence, _ = evidence_for(question, store=assistant.store, embedder=assistant.embedder, settings=assistant.settings)
    assert evidence.quotes and "侵害の停止を請求" in evidence.text(evidence.quotes[0])
