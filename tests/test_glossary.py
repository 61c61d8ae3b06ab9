"""The bilingual glossary: data shape, which terms a question brings in, and retrieval of Japanese provisions."""

import re

import pytest
from conftest import shared_doc

from ipqa.api import Assistant
from ipqa.embedding import Embedder
from ipqa.glossary import LANGUAGES, concepts, english_rendering, target_languages, translations
from ipqa.lexical import Bm25Index, tokenize
from ipqa.settings import Settings


def test_glossary_rows_link_at_least_two_languages() -> None:
    rows = concepts()
    assert len(rows) >= 150
    assert sum(len(terms) for c in rows for terms in c.terms.values()) >= 500
    for c in rows:
        assert set(c.terms) == set(LANGUAGES)
        assert sum(1 for lang in LANGUAGES if c.terms[lang]) >= 2, c.terms


def test_english_text_and_data_mining_reaches_the_japanese_term() -> None:
    extra = translations("What does Japan's Copyright Act allow for text and data mining?")
    assert "情報解析" in extra and "著作権法" in extra
    assert "文本与数据挖掘" not in extra  # the question points to Japan, not China
    assert {"情報", "報解"} <= set(tokenize(" ; ".join(extra)))


def test_japanese_and_chinese_questions_reach_english_terms() -> None:
    assert "copyright" in translations("著作権法第三十条の四は何を認めていますか")
    assert "labelling" in translations("生成式人工智能服务提供者应当如何对生成内容进行标识？")
    assert target_languages("著作権法の目的は何ですか") == {"en", "ja"}  # and synonyms in its own language
    assert target_languages("中国著作权法中自然人作品的保护期是多久？") == {"en", "zh"}


def test_translated_terms_do_not_outweigh_the_question_s_own_words() -> None:
    # A Chinese question's English renderings ("work", "works", "work for hire", "work made for hire") repeat "work".
    # Counted as written, they ranked Title 17's works made for hire above every paragraph of China's Copyright Law.
    question = "职务作品的著作权归谁所有？"
    terms = translations(question)
    assert sum(tokenize(t).count("work") for t in terms) > 2
    paragraphs = [
        (f"{name}:{i}", text)
        for name in ("cn-copyright-law-2020-zh.md", "us-17usc-title17-copyright.md")
        for i, text in enumerate(t for t in shared_doc(name).read_text(encoding="utf-8").split("\n\n") if t.strip())
    ]
    index = Bm25Index.build(paragraphs)
    assert all(pid.startswith("cn-") for pid, _ in index.search(question, 3, terms=terms))
    assert index.search(question + "\n" + " ; ".join(terms), 1)[0][0].startswith("us-")  # the old query: one text
    # The English rendering still reaches English text, once.
    assert any(pid.startswith("us-") for pid, _ in index.search(question, 40, terms=terms))


_CJK = re.compile(r"[\u3040-\u9fff]")


def test_an_english_phrase_brings_its_english_synonyms_for_english_documents() -> None:
    # "the three-step test" is TRIPS Article 13's "certain special cases … normal exploitation … unreasonably prejudice":
    # a phrase the treaty never says, whose words an English question shares with no sentence of it.
    extra = translations("What is the three-step test in TRIPS?")
    assert "unreasonably prejudice" in extra
    assert "duration" in translations("What is the minimum term of protection under the 1971 Phonograms Convention?")
    # Its first two synonyms only: "training data" and "machine learning" made the AI Act's definition of training data
    # outrank Article 53(1)(c) in a comparison's EU column on text and data mining.
    mining = translations("How do the sources treat text and data mining for AI training?")
    assert len(mining) == 2 and "training data" not in mining
    # A question's own phrasing ("how long") is no phrase to expand: "term" ranked § 304's renewal terms above § 302(a).
    assert translations("How long does copyright last under US law?") == []
    # Nor a name the question already says in other capitals ("ai promotion act").
    assert translations("What is the purpose of the AI Promotion Act?", frozenset({"ja", "en"})) == []
    # A single word is too ambiguous to expand ("program": a computer program, or Japan's IP Strategic Program) ...
    assert translations("Can WTO members refuse to patent plants and animals?") == []
    # ... and a question pointing to Japanese or Chinese documents gets their terms, not English synonyms.
    japan = translations("Compare how long works owned by a company are protected in Japan.")
    assert "存続期間" in japan and "copyright term" not in japan


def test_no_cue_no_expansion_and_no_single_character_matches() -> None:
    assert translations("What does Article 53 of the AI Act require of providers?") == []
    assert not any(_CJK.search(t) for t in translations("How long does Berne protect works?"))
    # 国 (country, state) alone names no concept: 中国 does not bring in the Japanese government's terms.
    assert "政府" not in translations("中国的国家政策是什么？")


# Issue #12's done-when questions: Article 30-4 asked by number in English and Japanese, and by topic in English.
ARTICLE_30_4_QUESTIONS = [
    "What does Article 30-4 of Japan's Copyright Act allow?",
    "著作権法第三十条の四は何を認めていますか",
    "What does Japan's Copyright Act allow for text and data mining?",
]


@pytest.fixture(scope="module")
def japan(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Assistant:
    """Japan's Copyright Act, the AI Promotion Act in both renditions, and two English texts as distractors."""
    assistant = Assistant(Settings(data_dir=tmp_path_factory.mktemp("japan") / "index"), embedder=embedder)
    names = [
        "jp-copyright-act-ja.md",
        "jp-ai-promotion-act-2025-ja.xml",
        "jp-ai-promotion-act-2025-en.xml",
        "wipo-copyright-treaty-wct-1996.md",
        "wipo-japan-ai-ip-2026-commentary.txt",
    ]
    report = assistant.ingest([shared_doc(n) for n in names])
    assert not report.failed, report.failed
    return assistant


@pytest.mark.slow
@pytest.mark.parametrize("question", ARTICLE_30_4_QUESTIONS)
def test_article_30_4_is_retrieved_under_its_own_label(japan: Assistant, question: str) -> None:
    from ipqa.retrieve import retrieve

    hits = retrieve(question, store=japan.store, embedder=japan.embedder, settings=japan.settings)
    top = [(h.passage.doc_id, h.passage.section) for h in hits[:3]]
    assert ("jp-copyright-act-ja", "Article 30-4 (第三十条の四)") in top, top


@pytest.mark.slow
@pytest.mark.parametrize("question", ARTICLE_30_4_QUESTIONS)
def test_article_30_4_is_cited_under_its_own_label(japan: Assistant, question: str) -> None:
    # Issue #12's done-when: the answer (not only retrieval) quotes Article 30-4; an English question reaches the
    # Japanese sentence through the glossary terms in sentence scoring too.
    answer = japan.ask(question)
    assert answer.answered, answer.text
    assert any(c.doc_id == "jp-copyright-act-ja" and c.section.startswith("Article 30-4") for c in answer.citations), [
        (c.doc_id, c.section) for c in answer.citations
    ]


@pytest.mark.slow
def test_both_renditions_of_the_ai_promotion_act_carry_article_labels(japan: Assistant) -> None:
    sections = {(p.doc_id, p.section) for d in ("jp-ai-promotion-act-2025-ja", "jp-ai-promotion-act-2025-en") for p in japan.store.doc_passages(d)}
    assert ("jp-ai-promotion-act-2025-ja", "Article 22 (第二十二条)") in sections
    assert ("jp-ai-promotion-act-2025-en", "Article 22") in sections


@pytest.mark.slow
def test_an_article_comes_from_one_rendition_only(japan: Assistant) -> None:
    from ipqa.renditions import article_key
    from ipqa.retrieve import retrieve

    for question in ("Who chairs Japan's Artificial Intelligence Strategic Headquarters?", "人工知能戦略本部の本部長は誰が務めますか。"):
        hits = retrieve(question, store=japan.store, embedder=japan.embedder, settings=japan.settings)
        owners: dict[tuple[str, str], str] = {}
        for h in hits:
            key = article_key(h.passage.section)
            if key and h.passage.doc_id.startswith("jp-ai-promotion-act"):
                assert owners.setdefault(key, h.passage.doc_id) == h.passage.doc_id, (question, key)
        assert owners, question


def test_everyday_words_and_english_renditions_are_not_expanded_from_english() -> None:
    # "Japan", "China": looked up from Japanese/Chinese only, else they pull in Japanese or Chinese passages.
    assert translations("What did Japan's minister ask China and WIPO to do?") == []
    assert {"japan", "china"} <= set(translations("日本と中国の知的財産政策はどう違いますか。"))
    # A question naming a work with an English rendition is answered from it: no Japanese terms.
    question = "Does Japan's AI Promotion Act mention copyright infringement as a risk?"
    assert "著作権" in translations(question)
    assert not any(_CJK.search(t) for t in translations(question, frozenset({"ja", "en"})))
    assert "著作権" in translations("Does Japan's Copyright Act protect databases?", frozenset({"ja"}))


def test_fair_use_reaches_the_words_of_chinas_fair_use_article() -> None:
    # Article 24 says "可以不经著作权人许可，不向其支付报酬"; its statutory licences say "…，但应当按照规定支付报酬".
    assert "不向其支付报酬" in translations("What fair use exceptions does China's Copyright Law provide?")
    assert "不向其支付报酬" in translations("中国著作权法对合理使用有哪些规定？")


def test_a_named_work_in_japanese_only_brings_its_terms_though_no_country_is_named() -> None:
    question = "What is the purpose of the IP Basic Act?"
    assert not any(_CJK.search(t) for t in translations(question))  # no cue: an English question about English texts
    assert "を目的とする" in translations(question, frozenset({"ja"}))  # it names a work the index holds in Japanese


@pytest.mark.slow
def test_ask_shows_the_authoritative_article_beside_a_translation(japan: Assistant) -> None:
    import json
    import os
    import subprocess
    import sys

    question = "Who chairs Japan's Artificial Intelligence Strategic Headquarters?"
    env = {**os.environ, "IPQA_DATA_DIR": str(japan.settings.data_dir)}
    run = subprocess.run([sys.executable, "-m", "ipqa", "ask", question], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "(jp-ai-promotion-act-2025-ja) — The authoritative Japanese text" in run.stdout and "without legal effect" in run.stdout
    run = subprocess.run([sys.executable, "-m", "ipqa", "ask", "--json", question], capture_output=True, text=True, env=env, timeout=300)
    from ipqa.renditions import article_key

    cited = [c for c in json.loads(run.stdout)["citations"] if c["doc_id"] == "jp-ai-promotion-act-2025-en" and article_key(c["section"])]
    assert cited
    for c in cited:
        assert c["counterpart"]["doc_id"] == "jp-ai-promotion-act-2025-ja" and c["counterpart"]["authoritative"]
        assert article_key(c["counterpart"]["section"]) == article_key(c["section"])


def test_a_japanese_question_has_an_english_rendering_an_english_one_none() -> None:
    rendering = english_rendering("日本の大臣はWIPOに何を主導するよう求めましたか")
    assert {"WIPO", "japan", "minister", "leadership"} <= set(rendering.split())
    assert "copyright" in english_rendering("著作権法第三十条の四は何を認めていますか").split()
    assert english_rendering("What did Japan's minister ask WIPO to do?") == ""
    # Only what the glossary names (copyright law; the purpose of an act).
    assert english_rendering("著作権法の目的は何ですか") == "copyright copyright law copyright act purpose of this act purpose of the act"


@pytest.mark.slow
def test_a_japanese_question_about_the_english_commentary_is_answered_from_it(japan: Assistant) -> None:
    # Issue #12: a Japanese question about the (English) commentary is answered from it, not from Japan's statutes.
    result = japan.ask("日本の大臣はWIPOに何を主導するよう求めましたか")
    assert result.answered, result.text
    quotes = [c.quote for c in result.citations if c.doc_id == "wipo-japan-ai-ip-2026-commentary"]
    assert any("WIPO should take international leadership" in q for q in quotes), result.text
    # The minister's request on piracy: the English sentence sharing the question's own words ("WIPO") and its glossary
    # terms outranks the one that matched the English rendering better (evidence.RENDERING_WEIGHT).
    result = japan.ask("小野田大臣は海賊版について、WIPOに何をするよう求めましたか。")
    assert any("WIPO should take international leadership" in c.quote for c in result.citations), result.text
    # ... while a Japanese question about the Copyright Act still quotes the Japanese act, not an English text.
    result = japan.ask("著作権法の目的は何ですか")
    assert result.citations and all(c.doc_id == "jp-copyright-act-ja" for c in result.citations), result.text


def test_general_legal_vocabulary_reaches_the_japanese_and_chinese_texts() -> None:
    ja = translations("Under Japanese law, may authors object to modifications of a work's title?")
    assert {"改変", "題号"} <= set(ja)
    assert "中小企業" in translations("Does Japan support small businesses in IP litigation?") and "訴訟" in translations(
        "Does Japan support small businesses in IP litigation?"
    )
    assert "故意" in translations("Are damages higher for willful infringement in China?")


def test_plain_japanese_reaches_the_statutes_words() -> None:
    # A question in everyday Japanese ("無料のコンサート", "会社の従業員") shares none of the Copyright Act's words
    # (営利を目的とせず… 料金を受けない in Article 38, 職務上作成する著作物 in Article 15): the glossary joins them.
    assert "営利を目的とせず" in translations("無料のコンサートで他人の曲を演奏するのに許可は必要ですか。")
    assert "職務上作成する著作物" in translations("会社の従業員が仕事で作った著作物の著作者は誰になりますか。")
    assert "営利を目的とせず" in translations("May a Japanese school perform music free of charge?")
    assert "情報解析" in translations("AIの開発のために他人の著作物を使ってもよいのですか。")
    assert "盗撮" in translations("映画館で映画を撮影することは禁止されていますか。")
    # 起訴 is the everyday word for what Article 123 calls 公訴の提起 ("告訴がなければ公訴を提起することができない").
    assert "公訴" in translations("著作権侵害の罪は、権利者の告訴がなくても起訴されるのですか。")
    assert {"公訴", "告訴"} <= set(translations("In Japan, can copyright crimes be prosecuted without a criminal complaint?"))
