"""The answerability stage: refusal reasons, premise corrections, answer types, alias and jurisdiction scoping,
whole-sentence quotes across passage boundaries, and never the same provision or passage cited twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import shared_doc

from ipqa.answerability import (
    absent_names,
    answer_type,
    carries,
    choose,
    features_of,
    fitted,
    judge,
    premise_contradiction,
    unused_terms,
    values,
)
from ipqa.api import Assistant
from ipqa.catalog import Catalog, named_docs
from ipqa.embedding import Embedder
from ipqa.evaluate import document_text
from ipqa.evidence import Evidence, Quote, complete
from ipqa.prompts import PREMISE_LEAD
from ipqa.retrieve import Filters, named_jurisdictions, scoped_filters
from ipqa.settings import Settings
from ipqa.types import ANSWERED, PREMISE_CONTRADICTED, REFUSED, Hit, Passage

INFOS = Catalog.builtin().by_id


# -- pure pieces ------------------------------------------------------------------------------------------------------


def test_aliases_scope_only_by_the_documents_own_names() -> None:
    assert named_docs("What must providers like Anthropic do under Article 53?", INFOS) == set()
    assert named_docs("Is there any commentary on § 107?", INFOS) == set()
    assert named_docs("What are interim measures under Article 50?", INFOS) == set()
    bartz = "us-ndcal-bartz-v-anthropic-2025-fair-use-order"
    assert named_docs("What did the court decide in Bartz v. Anthropic?", INFOS) == {bartz}
    assert named_docs("What did the Bartz order hold on piracy?", INFOS) == {bartz}
    assert named_docs("How long does Berne protect works?", INFOS) == {"wipo-berne-convention"}
    assert named_docs("What does TRIPS say about software?", INFOS) == {"wto-trips-agreement"}
    # A treaty named in Japanese or Chinese, and a Latin name beside Chinese or Japanese characters; not inside a word.
    assert named_docs("ベルヌ条約の保護期間はどのくらいですか。", INFOS) == {"wipo-berne-convention"}
    assert named_docs("伯尔尼公约规定的保护期是多久？", INFOS) == {"wipo-berne-convention"}
    assert named_docs("このTRIPS協定の規定は何ですか。", INFOS) == {"wto-trips-agreement"}
    assert named_docs("TRIPSの第十条は何を定めていますか。", INFOS) == {"wto-trips-agreement"}
    assert named_docs("What do the TRIPSAgreements say?", INFOS) == set()
    measures = named_docs("What do China's Interim Measures require of providers?", INFOS)
    assert measures and {INFOS[d].work_id for d in measures} == {"cn-genai-interim-measures-2023-zh"}  # both renditions


def test_a_japanese_title_names_its_document_without_spaces_around_it() -> None:
    assert named_docs("著作権法第三十条の四は何を認めていますか", INFOS) == {"jp-copyright-act-ja"}
    assert named_docs("What does Japan's Copyright Act say about piracy?", INFOS) == {"jp-copyright-act-ja"}
    assert "jp-copyright-act-ja" not in named_docs("What does the copyright law of China say?", INFOS)


def test_a_short_title_after_another_countrys_name_names_no_document() -> None:
    # 著作权法 / 著作権法 is the short title of China's act in Chinese and of Japan's in Japanese; after another country's
    # name it is that country's copyright law, which a jurisdiction then scopes.
    assert named_docs("日本著作权法是否允许为信息分析而使用作品？", INFOS) == set()
    assert scoped_filters("日本著作权法是否允许为信息分析而使用作品？", Filters(), INFOS) == Filters(jurisdictions=("JP",))
    assert named_docs("中国の著作権法では誰が著作者と推定されますか。", INFOS) == set()
    assert named_docs("中国著作权法是否保护法律？", INFOS) == {"cn-copyright-law-2020-zh"}
    assert named_docs("日本の著作権法第三十条の四は何を認めていますか", INFOS) == {"jp-copyright-act-ja"}
    assert named_docs("Does the US Copyright Act match Japan's Copyright Act?", INFOS) >= {"jp-copyright-act-ja"}


def test_a_named_jurisdiction_scopes_retrieval_unless_a_document_is_named() -> None:
    assert named_jurisdictions("Does China require labelling of AI-generated content?") == ["CN"]
    assert named_jurisdictions("What did Japan's minister ask WIPO to lead on?") == ["JP"]
    assert named_jurisdictions("How do the EU and the US treat text and data mining?") == ["EU", "US"]
    assert named_jurisdictions("What does 17 U.S.C. § 107 list?") == []
    assert scoped_filters("Does China require labelling of AI-generated content?", Filters(), INFOS) == Filters(jurisdictions=("CN",))
    assert scoped_filters("Does the EU AI Act require labelling?", Filters(), INFOS) == Filters()  # names its document
    chosen = Filters(doc_ids=("wipo-berne-convention",))
    assert scoped_filters("Does China protect works?", chosen, INFOS) == chosen  # the user's own filter wins


def test_answer_types_and_what_sentences_carry() -> None:
    assert answer_type("How long does Berne protect works?") == "duration"
    assert answer_type("When does the AI Act apply?") == "date"
    assert answer_type("What is the purpose of the IP Basic Act?") == "purpose"
    # A purpose clause, in a statute or a translation of one; not a right "having copyright as its object".
    assert carries("この法律は、…文化の発展に寄与することを目的とする。", "purpose")
    assert carries("These measures are established to promote the healthy development of generative AI.", "purpose")
    assert not carries("著作権を目的とする質権は、当該著作権の譲渡…に対しても、行なうことができる。", "purpose")
    assert answer_type("When must the codes of practice be ready?") == "date"
    # "Where" in Japanese and Chinese asks for a place as in English; "to what extent" (どこまで) does not.
    assert answer_type("人工知能戦略本部はどこに置かれますか。") == answer_type("提供者应当向哪里投诉？") == "place"
    assert answer_type("私的複製はどこまで認められますか。") == ""
    assert carries("…推進するため、内閣に、人工知能戦略本部（以下「本部」という。）を置く。", "place")
    # "When may…" asks in which cases, which no date answers.
    assert answer_type("When may countries allow reproduction without authorisation?") == ""
    assert answer_type("How much can the fine be?") == "amount"
    assert answer_type("Who may grant a compulsory licence?") == "agent"
    assert answer_type("Where is the seat of WIPO?") == "place"
    assert answer_type("What budget was set aside for the plan?") == "amount"
    assert answer_type("What royalty rate applies to streaming?") == "amount"
    assert answer_type("中国著作权法中，侵犯著作权的法定赔偿额上限是多少？") == answer_type("罚款是多少？") == "amount"
    assert answer_type("Which ministers attended the meeting?") == "agent"
    assert answer_type("What does the budget chapter say?") == ""
    # An amount asked for with a few words between ("what concrete anti-piracy budget", "WIPO's annual budget").
    assert answer_type("What concrete anti-piracy budget did Japan pledge?") == answer_type("What is WIPO's annual budget?") == "amount"
    assert answer_type("What does the Act say about the fee for a licence?") == ""
    assert answer_type("违反本办法的提供者最高会被罚款多少元？") == "amount" and answer_type("有多少家企业完成了备案？") == "number"
    assert answer_type("中国著作权法中自然人作品的保护期是多久？") == "duration"
    # A share asked for needs a percentage: a fine of 五百万円 is an amount, not an answer to "what percentage".
    assert answer_type("What percentage of anime revenue is lost to piracy?") == answer_type("収益の何割が失われていますか") == "percentage"
    assert carries("the “3.75 percent rate”", "percentage") and carries("売上の三割が失われた", "percentage")
    assert not carries("五年以下の拘禁刑若しくは五百万円以下の罰金に処し", "percentage") and not carries("その役割を果たす", "percentage")


def test_a_question_about_the_state_of_things_is_told_from_one_about_the_law() -> None:
    from ipqa.answerability import _STATE

    for question in ("How many member states does WIPO have today?", "Will the EU postpone the AI Act's obligations?",
                     "Which countries have ratified the treaty so far?", "映画盗撮防止法違反で実際に起訴された事例はありますか。",
                     "Which countries have ratified the WPPT?", "How many states have acceded to the Berne Convention?",
                     "Which WIPO member states voted against the treaty?", "Which companies signed the code of practice?",
                     "When did the United States join the WPPT?", "Which country first ratified the GRATK treaty?",
                     "When did China accede to the Berne Convention?", "Which EU member states have opted out of the AI Act?",
                     "Which countries have implemented the GRATK treaty?", "How many lawsuits have been filed against AI firms?"):
        assert _STATE.search(question), question
    for question in ("When will the GRATK treaty be reviewed?", "How long does copyright last for a work created today?",
                     "How many countries must ratify the WPPT before it enters into force?",
                     "Which providers must sign the code of practice?", "Which member states may vote in the Assembly?",
                     "When did the WPPT enter into force?", "Must a country protect recordings made before it joined the Phonograms Convention?",
                     "Which member states must implement the exception?",
                     "How many books did Anthropic download from LibGen?"):  # a fact the decision found
        assert not _STATE.search(question), question
    # What a commentary expects is its statement, not the state of things: the feature is off for it.
    ev = _evidence([("The intersection of AI and intellectual property will only grow more complex in the future.", 0.6)],
                   doc="wipo-japan-ai-ip-2026-commentary", section="Japan’s Next Move")
    for question, state in (("論説は、AIと知的財産が交わる領域は今後どうなると見ていますか。", 0.0), ("AIと知的財産の関係は今後どうなりますか。", 1.0)):
        assert judge(question, question, ev, INFOS).features["asks_state"] == state, question
    # A headquarters is a body, not a place; a penalty may be a prison term, not only an amount.
    assert answer_type("Who chairs the AI Strategic Headquarters?") == "agent"
    assert answer_type("Can the Strategic Headquarters require reports?") == ""
    assert answer_type("Where is WIPO headquartered?") == "place"
    assert answer_type("What penalty applies to running a leech site?") == "penalty"
    # A penalty stated by reference (§ 506(a)) or in Chinese is a penalty; a duty is none.
    assert carries("Any person who willfully infringes a copyright shall be punished as provided under section 2319 of title 18", "penalty")
    assert carries("构成犯罪的，依法追究刑事责任", "penalty") and carries("可以处违法经营额五倍以下的罚款", "penalty")
    assert not carries("Any person who willfully infringes a copyright shall notify the Register.", "penalty")
    assert carries("五年以下の拘禁刑若しくは五百万円以下の罰金に処する。", "amount")
    assert carries("fines of up to EUR 15 million", "amount")
    # "Where" of an institution: where a body is placed, where one turns.
    assert carries("内閣に、知的財産戦略本部を置く。", "place")
    assert carries("Users may complain to the relevant competent departments.", "place")
    assert not carries("Providers shall label generated content.", "place")
    assert answer_type("What does Article 9 provide?") == ""
    assert carries("The term shall be the life of the author and fifty years after his death.", "duration")
    assert not carries("Article 7 of this Convention applies to works.", "duration")  # an article number is no period
    # An act's number and year cite the act: no date ("When was the Basic Plan adopted?" is not answered by them).
    assert not carries("in conjunction with the Basic Act on Science (Act No. 130, of 1995) and other laws.", "date")
    assert not carries("独立行政法人通則法（平成十一年法律第百三号）第二条第一項に規定する独立行政法人をいう。", "date")
    assert carries("This Act comes into effect on 1 June 2025.", "date")
    assert carries("The seat of the Organization shall be at Geneva.", "place")
    assert carries("fines of up to EUR 15 000 000", "amount")
    # "Who" is answered by a class of persons too ("any 1 of the individuals who invented…"), not only by a named body.
    assert answer_type("Who counts as a joint inventor?") == "agent"
    assert answer_type("How does the copyright term compare between Japan and the US?") == "duration"
    # What a law is for is answered by its purpose clause, in any of the three languages.
    assert answer_type("What is the goal of Japan's anti-camcording law?") == answer_type("著作権法の目的は何ですか。") == "purpose"
    assert answer_type("知的財産基本法は何のための法律ですか。") == "purpose"  # "what is it for", in everyday words
    assert answer_type("Is copying for the purpose of data mining allowed?") == ""
    # Japanese and Chinese questions ask for a date or a body too; a body is named in their own words.
    assert answer_type("《生成式人工智能服务管理暂行办法》自何时起施行？") == "date"
    assert answer_type("在中国著作权法中，谁被推定为作品的作者？") == answer_type("知的財産戦略本部の本部長は誰ですか。") == "agent"
    assert carries("在作品上署名的自然人、法人或者非法人组织为作者。", "agent")
    assert carries("本部長は、内閣総理大臣をもって充てる。", "agent")
    assert carries("この法律は、…文化の発展に寄与することを目的とする。", "purpose")
    assert carries("为了保护文学、艺术和科学作品作者的著作权，……，根据宪法制定本法。", "purpose")
    assert carries("The objectives of this Treaty are to:", "purpose")
    # 多长 (how long) and 保护期 (the term of protection) ask for a period; an unlimited term is one.
    assert answer_type("在中国，著作权保护期是多长？") == "duration"
    assert carries("作者的署名权、修改权、保护作品完整权的保护期不受限制。", "duration")
    # A definitions lead-in states no purpose.
    assert carries("The purpose of this Act is to promote research.", "purpose")
    assert not carries("For the purposes of this Treaty:", "purpose")
    assert not carries("次の各号のいずれかに該当する著作物は、この章の規定による権利の目的となることができない。", "purpose")
    assert carries("The terms “joint inventor” and “coinventor” mean any 1 of the individuals who invented the subject matter.", "agent")
    assert carries("Each person who made a contribution shall sign the oath.", "agent")
    assert not carries("The application shall include a specification and a claim.", "agent")


def test_values_normalise_figures_by_kind() -> None:
    assert ("duration:year", "50") in values("the life of the author and fifty years after his death")
    assert ("duration:year", "70") in values("life plus 70 years")
    assert ("duration:year", "25") in values("a period of twenty-five years from the making")
    assert ("duration:year", "50") in values("保護期間は五十年とする") and not values(
        "二〇二三年に公布"
    )  # a year in kanji digits is no period
    assert ("place", "geneva") in values("The seat of the Organization shall be at Geneva.")
    # A city naming a treaty is no place: "the Berne Convention" asserts no seat; "seated in Berne" does.
    assert not values("How does the term under the Berne Convention compare with the US term?") and not values("under Berne")
    assert not values("the Beijing Treaty and the Marrakesh Treaty") and ("place", "berne") in values("Why is WIPO seated in Berne?")
    assert not values("What does the Geneva Phonograms Convention protect?") and values("signed at Geneva on 29 October 1971")
    assert not values("Article 7(1) and Regulation (EU) 2024/1689")  # references and instrument numbers are no figures


def test_names_the_index_lacks() -> None:
    assert absent_names("What does Article 4 of the DSM Directive say?", INFOS) == ["DSM Directive"]
    assert absent_names("What does Directive (EU) 2019/790 require?", INFOS) == ["Directive (EU) 2019/790"]
    assert absent_names("What did the court hold in Thaler v. Vidal?", INFOS) == ["Thaler v. Vidal"]
    assert absent_names("What did the court hold in Bartz v. Anthropic?", INFOS) == []
    assert absent_names("Does the Berne Convention require formalities?", INFOS) == []
    assert absent_names("What does the AI Act say about providers?", INFOS) == []
    # A clause's opening word is no part of the name: "Since Japan's AI Promotion Act…" names an indexed act.
    assert absent_names("Since Japan's AI Promotion Act promotes international cooperation, what is it meant to achieve?", INFOS) == []
    assert absent_names("Since the Marrakesh Treaty allows accessible copies, who may make them?", INFOS) == ["Marrakesh Treaty"]


def test_a_treaty_is_named_by_its_place_and_its_kind() -> None:
    # Every word of "Marrakesh Treaty" is in TRIPS's title (Annex 1C to the Marrakesh Agreement), and of "Paris
    # Convention" in Berne's (the Paris Act of 1971): neither treaty is indexed.
    assert absent_names("What does the Marrakesh Treaty require for accessible format copies?", INFOS) == ["Marrakesh Treaty"]
    assert absent_names("What does the Paris Convention say about priority rights?", INFOS) == ["Paris Convention"]
    # No indexed document is a directive: "the EU Copyright Directive" is none of the copyright statutes.
    assert absent_names("What does the EU Copyright Directive say about text and data mining?", INFOS) == ["EU Copyright Directive"]
    for held in ("the Marrakesh Agreement", "the Berne Convention", "the WIPO Copyright Treaty", "the Geneva Phonograms Convention",
                 "the TRIPS Agreement", "the GRATK Treaty", "the WIPO Convention"):
        assert absent_names(f"What does {held} say about national treatment?", INFOS) == [], held


def test_documents_named_by_whose_they_are() -> None:
    # A name before a generic noun, a lawsuit by its party, an instrument by its acronym: none of them indexed.
    assert absent_names("What does the Hiroshima AI Process code of conduct require of developers?", INFOS) == [
        "Hiroshima AI Process code of conduct"
    ]
    assert absent_names("What do the OECD AI Principles say about transparency?", INFOS) == ["OECD AI Principles"]
    assert absent_names("What did the New York Times allege in its lawsuit against OpenAI?", INFOS) == ["lawsuit against OpenAI"]
    assert absent_names("What does the GDPR say about automated decision-making?", INFOS) == ["GDPR"]
    # The indexed case's party, a code the question places in an indexed act, the AI Act's own codes: held.
    assert absent_names("What did the court hold in the case against Anthropic?", INFOS) == []
    assert absent_names("What must the AI Office's codes of practice cover under the AI Act?", INFOS) == []
    assert absent_names("What must the EU codes of practice for general-purpose AI models cover?", INFOS) == []


def test_a_bodys_own_document_the_index_lacks() -> None:
    """'X's report / guidance / code of practice': refused unless an indexed document is by X (its title or publisher)."""
    assert absent_names("What did the US Copyright Office's Part 3 report on AI training conclude?", INFOS) == [
        "US Copyright Office's Part 3 report"
    ]
    assert absent_names("What did the Agency for Cultural Affairs' 2024 guidance say about RAG?", INFOS) == [
        "Agency for Cultural Affairs' 2024 guidance"
    ]
    assert absent_names("What does the Copyright Office's registration guidance say about AI material?", INFOS) == [
        "Copyright Office's registration guidance"
    ]
    # The body publishes an indexed document (the Chinese measures), a country is no body, an indexed act is named.
    assert absent_names("What did the Cyberspace Administration of China's guidelines require?", INFOS) == []
    assert absent_names("What does Japan's report on AI say?", INFOS) == []
    assert absent_names("What must the AI Office's codes of practice cover under the AI Act?", INFOS) == []


def _evidence(sentences: list[tuple[str, float]], doc: str = "wipo-berne-convention", section: str = "Article 7") -> Evidence:
    text = " ".join(s for s, _ in sentences)
    passage = Passage("p1", doc, text, section, 1000, 1000 + len(text))
    quotes, at = [], 0
    for s, sim in sentences:
        start = text.index(s, at)
        quotes.append(Quote(0, start, start + len(s), sim, 0.3, sim))
        at = start + len(s)
    return Evidence((Hit(passage, 1.0, 0, 0, 0.7),), tuple(sorted(quotes, key=lambda q: -q.score)))


def test_premise_contradicted_by_another_figure_of_the_same_kind() -> None:
    ev = _evidence(
        [("(1) The term of protection granted by this Convention shall be the life of the author and fifty years after his death.", 0.7)]
    )
    q = premise_contradiction("Why does the Berne Convention protect works for the life of the author plus 70 years?", ev)
    assert q is not None and "fifty years" in ev.text(q)
    assert premise_contradiction("Does the Berne Convention protect works for fifty years after the author's death?", ev) is None
    assert premise_contradiction("How long does Berne protect works?", ev) is None  # asserts nothing


def test_a_figure_in_an_unrelated_provision_contradicts_nothing() -> None:
    """Another term of years about something else (a trademark's registration) does not correct a patent term."""
    ev = _evidence(
        [("Initial registration of a trademark shall be for a term of no less than seven years.", 0.7)], "wto-trips-agreement", "Article 18"
    )
    assert premise_contradiction("Why does TRIPS only require a 15-year patent term?", ev) is None
    ev = _evidence([("The protection available for a patent shall not end before twenty years.", 0.7)], "wto-trips-agreement", "Article 33")
    assert premise_contradiction("Why does TRIPS only require a 15-year patent term?", ev) is not None


def test_a_count_by_the_million_is_a_figure_of_its_own() -> None:
    """"half a million books" against "over seven million pirated copies of books": the statement's figure is no figure
    of the sentence, so the sentence does not support it, and the two counts of books contradict each other."""
    from ipqa.verify import figures, missing_figures

    assert figures("half a million pirated books") == {"500000"} and "7000000" in figures("over seven million copies")
    assert "1500000" in figures("1.5 million") and missing_figures("half a million books", "over seven million copies of books")
    assert ("count:book", "500000") in values("downloaded about half a million pirated books")
    assert {("count:copy", "7000000"), ("count:book", "7000000")} <= values("over seven million \npirated copies of books")
    ev = _evidence(
        [("Anthropic thereby pirated over seven million copies of books, including copies of at least two works at issue for each Author.", 0.7)],
        "us-ndcal-bartz-v-anthropic-2025-fair-use-order", "STATEMENT",
    )
    q = premise_contradiction("Why did Anthropic download only about half a million pirated books?", ev)
    assert q is not None and "seven million" in ev.text(q)
    assert premise_contradiction("Why did Anthropic pirate over seven million books?", ev) is None


def test_a_japanese_premise_is_read_in_english_against_an_english_sentence() -> None:
    """"日本が海賊版の影響を受けやすい" shares no word with "Japan is … most vulnerable to the impacts of piracy": read by
    its glossary concepts it states all four; a premise the sentence does not state (被害を受けにくい, "hardly harmed")
    keeps a concept the sentence lacks."""
    from ipqa.answerability import _overlap, concept_overlap

    sentence = "At the same time, Japan is also among those most vulnerable to the impacts of piracy."
    assert _overlap("日本が海賊版の影響を受けやすい", sentence) == 0.0
    assert concept_overlap("日本が海賊版の影響を受けやすい", sentence) == 1.0
    assert concept_overlap("日本が海賊版の被害を受けにくい", sentence) < 1.0
    # Onoda, WIPO (a Latin-script word counts as itself) and leadership are stated; "minister" (大臣) is not.
    assert concept_overlap("小野田大臣はWIPOに主導を求めた", "Ms. Onoda also emphasized that WIPO should take international leadership.") == 0.75


def test_a_negation_counts_in_the_clauses_about_the_statement() -> None:
    """A long sentence's negation about something else ("paid nothing", "would not use them to train") does not deny
    what its other clause states; a negation in the clause that states it does."""
    from ipqa.answerability import negative_about

    long = (
        "Before buying books for its central library, Anthropic downloaded over seven million pirated copies of books, paid "
        "nothing, and kept these pirated copies in its library even after deciding it would not use them to train its AI."
    )
    assert not negative_about("Anthropic downloaded pirated books instead of buying them", long)
    assert negative_about("Anthropic used the pirated copies to train its AI", long)
    assert negative_about("the enjoyment of these rights is subject to formalities",
                          "The enjoyment and the exercise of these rights shall not be subject to any formality; such enjoyment "
                          "shall be independent of the existence of protection in the country of origin of the work.")
    assert negative_about("著作権は登録が必要", "著作権の享有には、いかなる方式の履行をも要しない。")  # read whole
    # A bound is no denial: "for a term of no less than seven years" grants "at least seven years".
    assert not negative_about("trademark registrations run for at least seven years",
                              "Initial registration of a trademark shall be for a term of no less than seven years.")
    assert not negative_about("TRIPS patents last twenty years", "The term of protection shall not end before the expiration of twenty years.")


def test_a_period_is_compared_with_periods_counted_from_the_same_event() -> None:
    """"95 years after the author's death" is not stated by § 302(c)'s 95 years from publication: § 302(a)'s 70 years
    after death contradicts it. A period the statement counts from nothing is compared with every period, as before."""
    assert ("duration:year:death", "95") in values("US copyright lasts 95 years after the author's death")
    assert ("duration:year:publication", "95") in values("a term of 95 years from the year of its first publication")
    assert ("duration:year:performance", "50") in values("50 years computed from the end of the year in which the performance took place")
    assert ("duration:year:filing", "20") in values("a period of twenty years counted from the filing date")
    assert values("Why does Berne protect works for 70 years?") == {("duration:year", "70")}
    ev = _evidence(
        [
            ("(a) Copyright endures for a term consisting of the life of the author and 70 years after the author's death.", 0.7),
            ("(c) In the case of an anonymous work, the copyright endures for a term of 95 years from the year of its first publication.", 0.6),
        ],
        "us-17usc-title17-copyright",
        "§ 302",
    )
    q = premise_contradiction("Why does US copyright last for 95 years after the author's death?", ev)
    assert q is not None and "70 years after the author's death" in ev.text(q)
    assert premise_contradiction("Why does US copyright last 70 years after the author's death?", ev) is None
    assert premise_contradiction("Why does an anonymous US work get 95 years from publication?", ev) is None


def test_a_premise_is_contradicted_by_the_other_party_or_an_option() -> None:
    """"The employee as the author" is denied by "the employer … is considered the author" (a shared stem is no match);
    "need a notice" by "a notice … may be placed"."""
    from ipqa.answerability import _found, _optional, _swapped_party

    hire = "In the case of a work made for hire, the employer or other person for whom the work was prepared is considered the author."
    assert _swapped_party("US copyright law treats the employee as the author of a work made for hire", hire)
    assert not _swapped_party("US copyright law treats the employer as the author of a work made for hire", hire)
    assert not _found("licensee", frozenset({"licensor"})) and _found("protect", frozenset({"protection"}))
    notice = "Whenever a work protected under this title is published, a notice of copyright may be placed on publicly distributed copies."
    assert _optional("US works need a copyright notice to be protected", notice)
    assert not _optional("US works may carry a copyright notice", notice)
    assert not _optional("providers must keep documentation", "Providers shall keep documentation and may share it.")
    # "needs" as a noun states no duty.
    assert not _optional("the AI Act addresses the specific needs of SMEs", "Member States may take into account the interests of SMEs.")
    assert _optional("SMEs need a licence", "Member States may take into account the interests of SMEs.")


def test_a_negation_in_a_condition_denies_nothing() -> None:
    """"If a joint inventor refuses to join … or cannot be found…, the application may be made by the other inventor"
    states when the other may apply; its "cannot" describes the case, after the provision's heading too."""
    from ipqa.answerability import negative_about

    rule = (
        "(b) Omitted Inventor.— If a joint inventor refuses to join in an application for patent or cannot be found or reached after "
        "diligent effort, the application may be made by the other inventor on behalf of himself and the omitted inventor."
    )
    assert not negative_about("a joint inventor may apply even if the other inventor refuses to join", rule)
    assert negative_about("the other inventor may apply", "The other inventor cannot make the application.")


def test_otherwise_than_says_who_is_not_meant() -> None:
    """Title 17 § 304(a)(1)(C)(ii)'s "a corporate body (otherwise than as assignee or licensee of the individual author)"
    denies that the licensee is meant: it is no support for "US copyright law treats the licensee as the author"."""
    from ipqa.answerability import negative_about

    item = (
        "(ii) any work copyrighted by a corporate body (otherwise than as assignee or licensee of the individual author) or by an "
        "employer for whom such work is made for hire,"
    )
    assert negative_about("US copyright law treats the licensee as the author of a licensed work", item)
    assert not negative_about("a corporate body may hold the copyright in a work made for hire", "any work copyrighted by a corporate body or by an employer for whom such work is made for hire")


def test_a_statement_in_other_words_of_the_glossary_is_supported() -> None:
    """A statement's "AI" is what a sentence says as "artificial intelligence" (a glossary row's English terms)."""
    from ipqa.answerability import _overlap

    sentence = "Artificial intelligence-related technology constitutes a fundamental technology for the development of Japan's economy."
    assert _overlap("AI technology matters for Japan", sentence) > _overlap("robot technology matters for Japan", sentence)
    assert _overlap("AI technology is fundamental for Japan's economy", sentence) == 1.0


def test_premise_of_a_place() -> None:
    ev = _evidence([("The seat of the Organization shall be at Geneva.", 0.7)], "wipo-convention-1967", "Article 10")
    assert premise_contradiction("Why is WIPO seated in Vienna?", ev) is not None
    assert premise_contradiction("Why is WIPO seated in Geneva?", ev) is None


def test_beside_a_sentence_stating_what_is_asked_only_better_matches_are_quoted() -> None:
    texts = [
        "The term of protection shall be fifty years after the death of the author.",  # states a duration
        "Protection under this Convention shall be governed by the law of the country where it is claimed.",
        "The countries of the Union shall be bound by the provisions of this Article.",
    ]
    hits = tuple(Hit(Passage(f"p{k}", "wipo-berne-convention", t, f"Article {k + 1}", 1000 * k, 1000 * k + len(t)), 1.0) for k, t in enumerate(texts))
    quotes = (Quote(1, 0, len(texts[1]), 0.7), Quote(0, 0, len(texts[0]), 0.6), Quote(2, 0, len(texts[2]), 0.55))
    ev = Evidence(hits, quotes)
    assert [ev.text(q) for q in choose(ev, 3, "duration")] == texts[:2]  # the duration first; 0.55 < 0.6 is left out
    assert [ev.text(q) for q in choose(ev, 3)] == [texts[1], texts[0], texts[2]]  # no type asked: all within 75%


def test_never_the_same_passage_span_twice() -> None:
    """Two hits of one document that overlap (chunks share text) never give the same sentence twice."""
    text = "(1) The term of protection shall be the life of the author and fifty years after his death. (2) Other terms apply."
    a = Passage("a", "wipo-berne-convention", text, "Article 7", 100, 100 + len(text))
    b = Passage("b", "wipo-berne-convention", text[4:], "Article 7", 104, 100 + len(text))
    end = text.index(".") + 1
    quotes = (Quote(0, 0, end, 0.9), Quote(1, 0, end - 4, 0.89), Quote(0, end + 1, len(text), 0.8))
    ev = Evidence((Hit(a, 1.0), Hit(b, 0.9)), quotes)
    chosen = choose(ev, 3)
    spans = [ev.doc_span(q) for q in chosen]
    assert len(spans) == 2 and all(not (s1 < e2 and s2 < e1) for i, (_, s1, e1) in enumerate(spans) for (_, s2, e2) in spans[i + 1 :])


def test_an_item_of_a_chosen_lead_ins_list_takes_no_place() -> None:
    """A sentence introducing a list is quoted with its items: an item of that list is not chosen again beside it."""
    text = "A person shall be entitled to a patent unless—\n(1) the invention was patented before; or\n(2) it was described before."
    other = "Whoever invents any new and useful process may obtain a patent therefor."
    hits = (Hit(Passage("a", "us-35usc", text, "§ 102", 0, len(text)), 1.0), Hit(Passage("b", "us-35usc", other, "§ 101", 500, 500 + len(other)), 0.9))
    item = text.index("(1)")
    quotes = (Quote(0, 0, item - 1, 0.9), Quote(0, item, text.index("\n(2)"), 0.88), Quote(1, 0, len(other), 0.8))
    ev = Evidence(hits, quotes)
    assert [ev.text(q) for q in choose(ev, 2)] == [text[: item - 1], other]


def test_refusal_reasons_without_retrieval() -> None:
    ev = _evidence([("The term of protection granted by this Convention shall be the life of the author.", 0.6)])
    j = judge("What does Article 4 of the DSM Directive say?", "What does Article 4 of the DSM Directive say?", ev, INFOS)
    assert j.reason == "not-in-index" and j.message.startswith("The indexed sources do not include the DSM Directive.")
    j = judge("What does Directive (EU) 2019/790 require?", "What does Directive (EU) 2019/790 require?", ev, INFOS)
    assert j.message.startswith("The indexed sources do not include Directive (EU) 2019/790.")
    j = judge("What does German copyright law say about parody?", "What does German copyright law say about parody?", ev, INFOS)
    assert (j.kind, j.reason) == (REFUSED, "not-in-index") and "Germany" in j.message
    j = judge("What does Article 99 of the Berne Convention provide?", "What does Article 99 of the Berne Convention provide?", ev, INFOS)
    assert (j.kind, j.reason) == (REFUSED, "missing-provision") and "Article 99" in j.message
    empty = Evidence((), ())
    assert judge("Anything?", "Anything?", empty, INFOS).reason == "empty"


# -- over real documents -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def berne(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Assistant:
    """Berne and the 2026 commentary, indexed with the real model."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("berne") / "index")
    assistant = Assistant(settings, embedder=embedder)
    report = assistant.ingest([shared_doc("wipo-berne-convention.md"), shared_doc("wipo-japan-ai-ip-2026-commentary.txt")])
    assert not report.failed, report.failed
    return assistant


def _verbatim(a, assistant: Assistant) -> None:  # type: ignore[no-untyped-def]
    paths = {d.doc_id: Path(d.path) for d in assistant.sources()}
    hits = {h.passage.passage_id: h.passage for h in a.hits}
    for c in a.citations:
        assert document_text(paths[c.doc_id])[c.doc_start : c.doc_end] == c.quote
        assert hits[c.passage_id].text[c.quote_start : c.quote_end] == c.quote


def test_paraphrase_wins_over_shared_words(berne: Assistant) -> None:
    a = berne.ask("What did Japan's minister ask WIPO to lead on?")
    assert a.answered, a.text
    assert any("international leadership" in c.quote for c in a.citations), a.text
    _verbatim(a, berne)


def test_berne_term_is_answered_with_article_7_1(berne: Assistant) -> None:
    a = berne.ask("How long does Berne protect works?")
    assert a.answered, a.text
    assert any("life of the author and fifty years after his death" in c.quote for c in a.citations), a.text


def test_berne_life_plus_70_is_a_premise_correction(berne: Assistant) -> None:
    a = berne.ask("Why does the Berne Convention protect works for the life of the author plus 70 years?")
    assert (a.kind, a.answered) == (PREMISE_CONTRADICTED, False)
    assert a.text.startswith(PREMISE_LEAD)
    assert a.citations and "fifty years after his death" in a.citations[0].quote
    assert a.citations[0].section.startswith("Article 7")
    assert a.to_dict()["kind"] == PREMISE_CONTRADICTED
    _verbatim(a, berne)


def test_quotes_are_whole_sentences_across_passage_boundaries(berne: Assistant) -> None:
    store = berne.store
    paths = {d.doc_id: Path(d.path) for d in berne.sources()}
    opened = [p for d in paths for p in store.doc_passages(d) if not p.text.rstrip().endswith((".", ";", ":", ")", "?", "!", "”", '"'))]
    assert opened, "no passage of these documents ends inside a sentence"
    hits, regions = complete([Hit(p, 1.0) for p in opened[:10]], store)
    grown = [h for h, p in zip(hits, opened[:10]) if len(h.passage.text) > len(p.text)]
    assert grown
    for h in grown:
        text = document_text(paths[h.passage.doc_id])
        assert text[h.passage.start : h.passage.end] == h.passage.text  # still verbatim, at the document's offsets


def test_refusals_say_why(berne: Assistant) -> None:
    a = berne.ask("What does Article 4 of the DSM Directive say?")
    assert (a.kind, a.reason, a.citations) == (REFUSED, "not-in-index", ())
    assert "DSM Directive" in a.text and "Berne Convention" in a.text  # names what the index holds instead
    a = berne.ask("What does Article 99 of the Berne Convention provide?")
    assert (a.kind, a.reason) == (REFUSED, "missing-provision")
    a = berne.ask("What is the boiling point of water?")
    assert (a.kind, a.reason) == (REFUSED, "weak-evidence")
    a = berne.ask("What does Chinese law say about AI-generated content?")
    assert (a.kind, a.reason) == (REFUSED, "not-in-index") and "China" in a.text


def test_answer_kind_travels_in_json(berne: Assistant) -> None:
    data = berne.ask("What did the court hold in Thaler v. Vidal?").to_dict()
    assert (data["kind"], data["reason"], data["answered"]) == (REFUSED, "not-in-index", False)


def test_never_the_same_provision_of_a_work_cited_twice() -> None:
    """Two sentences of one provision: adjacent ones become one quote, others keep only the better-ranked one."""
    from ipqa.answer import write
    from ipqa.answerability import Judgement

    text = "(1) The term of protection shall be the life of the author and fifty years after his death. It applies to all works."
    first = text.index(".") + 1
    passage = Passage("p1", "wipo-berne-convention", text, "Article 7", 500, 500 + len(text))
    ev = Evidence((Hit(passage, 1.0),), ())
    two = (Quote(0, 0, first, 0.9), Quote(0, first + 1, len(text), 0.8))
    a = write("How long?", Judgement("answered", quotes=two), ev, INFOS)
    assert len(a.citations) == 1 and a.citations[0].quote == text
    assert a.text.count("[1]") == 1 and "[2]" not in a.text


def test_what_a_question_asserts_whatever_its_form() -> None:
    from ipqa.premise import asked, negative, presupposition

    assert presupposition("Why does Berne protect works for 70 years?") == "Berne protect works for 70 years"
    # A negative auxiliary is a denial the statement keeps, not a word of its subject ("doesn't the Berne Convention…").
    taken = presupposition("Why doesn't the Berne Convention make protection depend on registration?")
    assert taken == "not: the Berne Convention make protection depend on registration" and negative(taken)
    assert presupposition("Under US law, why can't the government claim copyright in its works?") == "not: the government claim copyright in its works"
    assert not negative(presupposition("Why is Berne's term fifty years?"))
    assert presupposition("Is it true that Berne protects works for 70 years?") == "Berne protects works for 70 years"
    assert (
        presupposition("Since Berne protects works for 70 years, when do they fall into the public domain?")
        == "Berne protects works for 70 years"
    )
    # A phrase without a verb asserts nothing: "As a general rule, …" was refused as an unsupported premise.
    assert presupposition("As a general rule, how long does copyright last in the United States?") == ""
    assert presupposition("Since 2019, what has the Copyright Office said about AI?") == ""
    assert (
        presupposition("Berne protects works for 70 years. When do they fall into the public domain?")
        == "Berne protects works for 70 years"
    )
    assert presupposition("Berne protects works for 70 years, doesn't it?") == "Berne protects works for 70 years"
    assert presupposition("Under Article 50, providers must label every output?") == "Under Article 50, providers must label every output"
    assert presupposition("既然伯尔尼公约保护七十年，作品何时进入公有领域？") == "伯尔尼公约保护七十年"
    assert presupposition("提供者只需自行删除，对吗？") == "提供者只需自行删除"
    assert presupposition("この論説は日本が被害を受けにくいとしていますが、その理由は何ですか。").startswith("この論説は日本が被害")
    # Plain questions assert nothing; a yes/no question asks about its statement (often answered "no").
    assert presupposition("What does Article 7 of the Berne Convention provide?") == ""
    assert presupposition("Under the WCT, do authors control the sale of copies?") == ""
    # A yes/no question after a condition supposes, and asks: it asserts nothing (a statement after one still does).
    assert presupposition("If a Chinese studio uses generative AI for film, do the Interim Measures govern it?") == ""
    assert presupposition("If the model was trained abroad, the copyright policy still applies?").startswith("If the model")
    assert asked("Under the WCT, do authors control the sale of copies?") == "authors control the sale of copies"
    assert asked("中国著作权法是2021年6月1日才开始施行的吗？") == "中国著作权法是2021年6月1日才开始施行的"
    assert asked("What does Article 7 provide?") == ""
    assert negative("The enjoyment of these rights shall not be subject to any formality;") and not negative(
        "Providers should sign service agreements."
    )


def test_a_commentary_claim_is_checked_without_who_claims_it() -> None:
    """The op-ed states its claims; it never says "the op-ed argues" or "described as", so those words must not count
    against a premise. A court's holding keeps its frame ("this order holds that" is the order's own wording)."""
    from ipqa.premise import presupposition

    assert presupposition("Why does the op-ed argue that AI and IP problems need international rules?") == "AI and IP problems need international rules"
    assert presupposition("Why is Japan described as especially vulnerable to piracy in the op-ed?") == "Japan especially vulnerable to piracy"
    assert presupposition("Why is Japan said to be weak in anime according to the commentary?") == "Japan weak in anime"
    assert presupposition("Why did Judge Alsup hold that training was not a fair use?") == "Judge Alsup hold that training was not a fair use"
    assert presupposition("Why does Article 7 say that the term is fifty years?") == "Article 7 say that the term is fifty years"
    # The claim is still checked: an attributed wrong figure is corrected like any other.
    ev = _evidence([("(1) The term of protection granted by this Convention shall be the life of the author and fifty years after his death.", 0.7)])
    ev = Evidence(ev.hits, tuple(Quote(q.hit_index, q.start, q.end, q.score, q.lexical, q.semantic, 0.7) for q in ev.quotes))
    question = "Why does the commentary argue that Berne protects works for the life of the author and 70 years after his death?"
    j = judge(question, question, ev, INFOS)
    assert j.kind == PREMISE_CONTRADICTED and "fifty years" in ev.text(j.quotes[0])


def test_a_premise_in_any_form_is_checked_against_the_evidence() -> None:
    """Not only "why": a statement before the question, "Is it true that", a tag question; a wrong figure is corrected
    with the sentence that states the right one, an unsupported premise refused, a supported one answered."""
    ev = _evidence(
        [("(1) The term of protection granted by this Convention shall be the life of the author and fifty years after his death.", 0.7)]
    )
    ev = Evidence(ev.hits, tuple(Quote(q.hit_index, q.start, q.end, q.score, q.lexical, q.semantic, 0.7) for q in ev.quotes))
    for question in (
        "Berne protects works for the life of the author and 70 years. When does the term start?",
        "Is it true that Berne protects works for the life of the author and 70 years after his death?",
        "Since the Berne Convention gives 70 years after the author's death, when do works enter the public domain?",
    ):
        j = judge(question, question, ev, INFOS)
        assert j.kind == PREMISE_CONTRADICTED, (question, j)
        assert "fifty years" in ev.text(j.quotes[0])
    j = judge(
        "Is it true that Berne makes registration a condition of protection?",
        "Is it true that Berne makes registration a condition of protection?",
        ev,
        INFOS,
    )
    assert (j.kind, j.reason) == (REFUSED, "premise-unsupported")


def test_a_premise_of_the_opposite_polarity_is_contradicted() -> None:
    text = "Providers should sign service agreements with users who register for their services."
    passage = Passage("p1", "cn-genai-interim-measures-2023-en-casi", text, "Article 9", 0, len(text))
    ev = Evidence((Hit(passage, 1.0, 0, 0, 0.7),), (Quote(0, 0, len(text), 0.8, 0.8, 0.8, 0.85),))
    q = "Chinese generative AI providers don't have to sign service agreements with users who register, do they?"
    j = judge(q, q, ev, INFOS)
    assert j.kind == PREMISE_CONTRADICTED and ev.text(j.quotes[0]) == text
    q = "Chinese generative AI providers have to sign service agreements with users who register, don't they?"
    assert judge(q, q, ev, INFOS).kind != PREMISE_CONTRADICTED


def test_names_the_index_lacks_beside_names_it_holds() -> None:
    """A title after its kind ('Directive on …', 'Regulation on …'), and a name the index lacks next to one it holds."""
    assert absent_names("What does Article 17 of the EU Directive on copyright in the Digital Single Market require?", INFOS) == [
        "Directive on copyright in the Digital Single Market"
    ]
    assert absent_names("What penalties apply under China's Deep Synthesis Provisions?", INFOS) == ["China's Deep Synthesis Provisions"]
    assert absent_names("What did the 2022 WTO Ministerial Decision on the TRIPS Agreement say?", INFOS)
    assert absent_names("《著作权法实施条例》对作品登记有什么规定？", INFOS) == ["《著作权法实施条例》"]
    # Names the index holds, also after a provision ("Annex XIV of the EU AI Act" is the provision check's question).
    assert absent_names("Which AI systems are listed in Annex XIV of the EU AI Act?", INFOS) == []
    assert absent_names("What does the Convention for the Protection of Literary and Artistic Works say?", INFOS) == []
    assert absent_names("What does the AI Act on providers of general-purpose models say?", INFOS) == []
    assert absent_names("《中华人民共和国著作权法》第十条规定了哪些权利？", INFOS) == []


def test_a_statute_citing_an_article_of_another_law_does_not_have_it() -> None:
    """'Article 114 TFEU' cited in the AI Act's text is no Article 114 of the AI Act; a judgment's text mentioning
    § 107 counts, since its passages carry no provision labels."""
    ai_act = "eu-ai-act-2024-1689"
    text = "This Regulation is based on Article 114 TFEU."
    ev = Evidence((Hit(Passage("p1", ai_act, text, "Recital 3", 0, len(text)), 1.0, 0, 0, 0.7),), (Quote(0, 0, len(text), 0.6, 0.5, 0.6),))
    q = "What does Article 114 of the AI Act provide?"
    assert judge(q, q, ev, INFOS).reason == "missing-provision"
    bartz = "us-ndcal-bartz-v-anthropic-2025-fair-use-order"
    text = "Section 107 of the Copyright Act lists four factors."
    ev = Evidence(
        (Hit(Passage("p1", bartz, text, "II. ANALYSIS", 0, len(text)), 1.0, 0, 0, 0.7),), (Quote(0, 0, len(text), 0.6, 0.5, 0.6),)
    )
    q = "What does the Bartz order say about Section 107?"
    assert judge(q, q, ev, INFOS).reason != "missing-provision"


def test_a_term_quoted_from_a_named_japanese_statute_that_it_does_not_use_is_refused() -> None:
    """「特定人工知能事業者」 is no term of the AI Promotion Act: refused, saying so; a term its passages state is not."""
    act = "jp-ai-promotion-act-2025-ja"
    text = "この法律において、「人工知能関連技術」とは、人工的な方法により人間の認知、推論及び判断に係る知的な能力を代替する機能を実現するために必要な技術をいう。"
    ev = Evidence((Hit(Passage("p1", act, text, "Article 2 (第二条)", 0, len(text)), 1.0, 0, 0, 0.7),), (Quote(0, 0, len(text), 0.6, 0.5, 0.6),))
    q = "AI推進法で指定される「特定人工知能事業者」には、どのような報告義務が課されていますか。"
    j = judge(q, q, ev, INFOS)
    assert (j.kind, j.reason) == (REFUSED, "unused-term") and "「特定人工知能事業者」" in j.message
    q = "AI推進法でいう「人工知能関連技術」とは、どのような技術のことですか。"
    assert judge(q, q, ev, INFOS).reason != "unused-term"
    # Not a title (「…法」 is the not-in-index check's), not an English question's quotes, not a document it does not name.
    assert unused_terms("AI推進法の「人工知能関連技術の研究開発に関する法」とは何ですか。", {act}, INFOS, ev.hits) == []
    assert unused_terms("What does the AI Promotion Act mean by “specified AI business operator”?", {act}, INFOS, ev.hits) == []
    assert unused_terms("「特定人工知能事業者」とは何ですか。", set(), INFOS, ev.hits) == []
    # A Chinese question renders the Japanese act's term in its own characters: not held to the Japanese words.
    assert unused_terms("日本《人工智能促进法》中的“人工智能相关技术”是指什么？", {act}, INFOS, ev.hits) == []


def test_jurisdictions_named_in_chinese_and_japanese() -> None:
    assert named_jurisdictions("美国版权法规定的保护期是多久？") == ["US"]
    assert named_jurisdictions("EUのAI法では何が禁止されていますか。") == ["EU"]
    assert named_jurisdictions("韓国の著作権法は何年保護しますか。") == ["KR"]
    assert named_jurisdictions("《生成式人工智能服务管理暂行办法》国家互联网信息办公室") == []  # 办法 + 国家 is no France
    ev = _evidence([("The term of protection shall be the life of the author and fifty years after his death.", 0.6)])
    j = judge(
        "What does Israel's copyright law say about machine learning?",
        "What does Israel's copyright law say about machine learning?",
        ev,
        INFOS,
    )
    assert (j.kind, j.reason) == (REFUSED, "not-in-index") and "Israel" in j.message


def test_amounts_with_their_scale_and_ordinal_counts() -> None:
    assert ("amount", "1000000") in values("法定赔偿最高是一百万元吗？") and ("amount", "5000000") in values("五百万元以下的赔偿")
    assert ("amount", "100000000") in values("a fine of at most 100 million yen") and ("amount", "300000000") in values("三億円以下の罰金")
    assert ("amount", "15000000") in values("EUR 15 million") and ("amount", "35000000") in values("fines of up to EUR 35 000 000")
    assert ("count:ratification", "15") in values("as soon as the fifteenth ratification is deposited")
    assert ("count:ratification", "30") in values("three months after 30 instruments of ratification")
    assert ("count:ratification", "50") in values("require 50 ratifications")
    assert values("the 1971 Phonograms Convention") == {("year", "1971")}  # a year, not 1971 phonograms


def test_a_year_the_named_document_does_not_bear_is_a_premise_it_does_not_support() -> None:
    bartz = "us-ndcal-bartz-v-anthropic-2025-fair-use-order"
    text = "Anthropic now moves for summary judgment on fair use only."
    ev = Evidence((Hit(Passage("p1", bartz, text, "STATEMENT", 0, len(text)), 1.0, 0, 0, 0.7),), (Quote(0, 0, len(text), 0.6, 0.5, 0.6),))
    q = "What did Judge Alsup's June 2024 order in Bartz v. Anthropic say about fair use?"
    assert (judge(q, q, ev, INFOS).kind, judge(q, q, ev, INFOS).reason) == (REFUSED, "premise-unsupported")
    q = "What did the 2025 order in Bartz v. Anthropic say about fair use?"
    assert judge(q, q, ev, INFOS).reason != "premise-unsupported"
    # A retrieved passage stating another month of that year states no "June 2024" order; one stating the date does.
    other = "In October 2024, a scheduling order required that any motion for class certification be filed."
    dated = "Anthropic moved on June 3, 2024 for summary judgment on fair use."
    for extra, refused in ((other, True), (dated, False)):
        hits = (*ev.hits, Hit(Passage("p2", bartz, extra, "STATEMENT", 100, 100 + len(extra)), 0.9, 1, 1, 0.6))
        q = "What did Judge Alsup's June 2024 order in Bartz v. Anthropic say about fair use?"
        assert (judge(q, q, Evidence(hits, ev.quotes), INFOS).reason == "premise-unsupported") == refused, extra
    # The document's own date, spelled out, bears its month: "the June 2025 order" is no unsupported premise.
    q = "What did the June 2025 order in Bartz v. Anthropic say about fair use?"
    assert judge(q, q, ev, INFOS).reason != "premise-unsupported"
    # Naming no document, a month and year must be stated too (a bare year need not be: "works created after 1978").
    met = "On January 30, 2026, the minister met at the Cabinet Office with the Director General of WIPO."
    ev = Evidence((Hit(Passage("p3", "wipo-japan", met, "Meeting", 0, len(met)), 1.0, 0, 0, 0.7),), (Quote(0, 0, len(met), 0.7, 0.6, 0.6),))
    q = "What did the minister and the Director General discuss at their meeting in March 2026?"
    assert judge(q, q, ev, INFOS).reason == "premise-unsupported"
    q = "What did the minister and the Director General discuss at their meeting in January 2026?"
    assert judge(q, q, ev, INFOS).reason != "premise-unsupported"
    q = "What did the minister and the Director General discuss at their 2025 meeting?"
    assert judge(q, q, ev, INFOS).reason != "premise-unsupported"


def test_premise_corrections_in_other_forms_over_the_real_berne_text(berne: Assistant) -> None:
    """Real retrieval, sentence scores and judgement: a wrong term stated before the question, or asked as 'Is it true
    that', is corrected with Article 7(1), quoted verbatim; the same question with the right term is answered."""
    for question in (
        "Is it true that Berne protects works for the life of the author plus 70 years?",
        "The Berne Convention protects works for the life of the author and 70 years after death. When does that term start?",
    ):
        a = berne.ask(question)
        assert (a.kind, a.answered) == (PREMISE_CONTRADICTED, False), (question, a.text)
        assert a.text.startswith(PREMISE_LEAD) and any("fifty years after his death" in c.quote for c in a.citations), a.text
        _verbatim(a, berne)
    a = berne.ask("Is it true that Berne protects works for the life of the author and fifty years after his death?")
    assert a.kind != PREMISE_CONTRADICTED, a.text


def test_no_answer_type_refusal() -> None:
    """'How long' needs a sentence stating a period: without one the refusal says so (when the model refuses)."""
    ev = _evidence([("The countries of the Union shall be bound by this Act.", 0.2)])
    q = "How long does the Union's bureau keep its records?"
    j = judge(q, q, ev, INFOS, model={**fitted(), "threshold": 1.01})
    assert (j.kind, j.reason) == (REFUSED, "no-answer-type") and "a period" in j.message


def test_courts_whose_decisions_the_index_lacks() -> None:
    assert absent_names("What did the Tokyo District Court rule about AI-generated images?", INFOS) == [
        "decisions of the Tokyo District Court"
    ]
    assert absent_names("What did the Ninth Circuit decide on appeal in Bartz v. Anthropic?", INFOS) == ["decisions of the Ninth Circuit"]
    assert absent_names("Which Japanese court decisions have applied Article 30-4?", INFOS) == ["court decisions from Japan"]
    assert absent_names("中国法院如何认定生成式人工智能平台的责任？", INFOS) == ["中国法院"]
    # The index holds a US decision (Bartz, N.D. Cal.): US courts and that district court are not absent.
    assert absent_names("What did the District Court hold in Bartz v. Anthropic?", INFOS) == []
    assert absent_names("If a US infringer did not know, how low can the court go on statutory damages?", INFOS) == []
    assert absent_names("How have US courts treated AI training as fair use?", INFOS) == []


def test_signed_fit_drops_a_signal_whose_weight_contradicts_its_meaning() -> None:
    """More coverage never makes a question less answerable: a fit that would weigh it negatively leaves it out."""
    import numpy as np

    from ipqa.calibration import fit_logistic, fit_signed

    rng = np.random.default_rng(0)
    y = np.array([1.0] * 100 + [0.0] * 100)
    lexical = y + rng.normal(0, 0.8, 200)  # a real signal
    coverage = -y + rng.normal(0, 0.8, 200)  # anti-correlated on this sample
    named = y + rng.normal(0, 1.5, 200)  # free sign (no entry in SIGNS)
    x = np.stack([lexical, coverage, named], axis=1)
    free, _ = fit_logistic(x, y)
    assert free[1] < 0  # the unconstrained fit uses it, negatively
    signed, _ = fit_signed(x, y, ("top_lexical", "coverage", "named_doc"))
    assert signed[1] == 0.0 and signed[0] > 0 and signed[2] > 0


def test_shipped_model_weighs_no_signal_against_its_meaning() -> None:
    from ipqa.calibration import SIGNS

    coef = fitted()["coef"]
    assert all(SIGNS[name] * coef[name] >= 0 for name in SIGNS)  # type: ignore[index]


def test_an_answer_that_never_names_what_the_question_counts_is_marked() -> None:
    from ipqa.answerability import focus_missing

    # The thing counted or measured goes unnamed: another question is answered.
    assert focus_missing("How many staff does the EU AI Office employ?", "The AI Office shall aim to ensure that the codes of practice…")
    assert focus_missing("What is the budget of the AI Office?", "The AI Office shall aim to ensure that the codes of practice…")
    # Named (plural folded), or a thing the answer names rather than restates, or a quote in another language: not marked.
    assert not focus_missing("How many ratifications does the treaty need?", "This Treaty shall enter into force three months after 15 ratifications.")
    assert not focus_missing("Which body supervises providers?", "The AI Office shall monitor compliance.")
    # "Which kinds of content": the thing asked about is the content, not its kinds.
    assert not focus_missing("Which kinds of content is Japan strong in?", "Japan is particularly strong in content fields such as anime.")
    assert focus_missing("Which kinds of content is Japan strong in?", "Japan is particularly strong in anime and manga.")
    assert focus_missing("How many types of licences does the Act provide?", "The Act provides for two categories.")
    assert not focus_missing("How many staff does the agency have?", "著作権の存続期間は、著作物の創作の時に始まる。")
    assert not focus_missing("What does Article 7 say?", "The term of protection shall be the life of the author and fifty years.")


def test_a_sentence_matching_the_question_clears_the_floor_that_a_diluted_passage_cosine_does_not(small: Assistant) -> None:
    """The commentary's passages run over several paragraphs, so their cosine with a question one sentence answers can
    fall under the evidence floor (IPQA_MIN_SCORE): a best sentence scoring EVIDENCE_SCORE_FLOOR clears it. Off-topic
    questions stay refused: no sentence of the index scores that high for them (real store, bundled model)."""
    from ipqa.answerability import EVIDENCE_SCORE_FLOOR

    assert small.settings.min_score > 0 and EVIDENCE_SCORE_FLOOR > 0
    a = small.ask("How should this news be remembered?")
    assert a.kind == ANSWERED and any("remembered as a milestone" in c.quote for c in a.citations), a.text
    assert max(h.similarity or 0.0 for h in a.hits) < small.settings.min_score  # the passages' cosine alone would refuse it
    # Partly in other words ("cannot be fully addressed within traditional intellectual property frameworks"): 0.59.
    a = small.ask("Which issues cannot be fully addressed within traditional IP frameworks according to the op-ed?")
    assert a.kind == ANSWERED and any("the handling of training data" in c.quote for c in a.citations), a.text
    for question in ("What is the tallest mountain in Europe?", "What time does the Louvre open?", "How do I bake sourdough bread?"):
        assert small.ask(question).kind == REFUSED, question


def test_a_question_naming_a_document_is_answered_from_it_alone() -> None:
    """Japan's AI Promotion Act has no penalties; the EU AI Act's fines, retrieved beside its Article 7, answer nothing
    about it. Another document's sentence is quoted only if it matches better than all of the named one's."""
    japan = "Any person who intends to develop or provide products or services that utilize AI is to endeavor to cooperate."
    eu = "The Commission may impose penalties on businesses providing general-purpose AI models: fines of 3 % of their turnover."
    hits = (
        Hit(Passage("jp", "jp-ai-promotion-act-2025-en", japan, "Article 7", 0, len(japan)), 1.0),
        Hit(Passage("eu", "eu-ai-act-2024-1689", eu, "Article 101", 0, len(eu)), 0.9),
    )
    ev = Evidence(hits, (Quote(0, 0, len(japan), 0.55, 0.55, 0.55), Quote(1, 0, len(eu), 0.5, 0.5, 0.5)))
    question = "Does the AI Promotion Act impose penalties on businesses?"
    assert {ev.hits[q.hit_index].passage.doc_id for q in choose(ev, 3)} == {"jp-ai-promotion-act-2025-en", "eu-ai-act-2024-1689"}
    judged = judge(question, question, ev, INFOS)
    assert [ev.hits[q.hit_index].passage.doc_id for q in judged.quotes] == ["jp-ai-promotion-act-2025-en"], judged
    # Whether to answer is judged on the best sentences whatever their document (the fitted model saw those); asked for
    # a penalty, which only the other document's sentence states, the answer quotes it rather than nothing that does.
    typed = "What penalty does the AI Promotion Act impose on businesses?"
    judged = judge(typed, typed, ev, INFOS)
    assert judged.features == features_of(typed, ev, choose(ev, 3, "penalty"), named_docs(typed, INFOS), "penalty")
    assert judged.features["type_missing"] == 0.0 and "eu-ai-act-2024-1689" in {ev.hits[q.hit_index].passage.doc_id for q in judged.quotes}
    assert [ev.hits[q.hit_index].passage.doc_id for q in choose(ev, 3, within=frozenset({"wipo-berne-convention"}))] == ["jp-ai-promotion-act-2025-en", "eu-ai-act-2024-1689"]
    # Another document's sentence matching the question better than all of the named one's is still quoted.
    better = Evidence(hits, (Quote(1, 0, len(eu), 0.6, 0.6, 0.6), Quote(0, 0, len(japan), 0.5, 0.5, 0.5)))
    assert [better.hits[q.hit_index].passage.doc_id for q in choose(better, 3, within=frozenset({"jp-ai-promotion-act-2025-en"}))] == [
        "eu-ai-act-2024-1689", "jp-ai-promotion-act-2025-en"]
