"""Pure pieces of the extractive engine: sentences, follow-up queries, sentence scoring."""

from ipqa.answer import contextual_query, score_in_context
from ipqa.lexical import tokenize
from ipqa.sentences import sentence_spans


def test_pdf_line_breaks_do_not_end_sentences_but_list_items_do() -> None:
    text = (
        "Section 107 of the Copyright Act identifies four factors for determining whether a given\n"
        "use is fair. See Campbell v. Acuff-Rose Music, Inc., 510 U.S. 569, 577 (1994).\n"
        "Article 53\nObligations for providers\n1. Providers of general-purpose AI models shall:\n(a) draw up documentation;"
    )
    got = [text[s:e] for s, e in sentence_spans(text)]
    assert got == [
        "Section 107 of the Copyright Act identifies four factors for determining whether a given\nuse is fair.",
        "See Campbell v. Acuff-Rose Music, Inc., 510 U.S. 569, 577 (1994).",
        "1. Providers of general-purpose AI models shall:",
        "(a) draw up documentation;",
    ]


def test_a_line_wrapped_before_a_reference_continues_the_sentence_and_a_capitals_heading_ends_before_it() -> None:
    # The GRATK treaty's text: the heading above the sentence, and a PDF line break before "Article 12".
    text = (
        "ARTICLE 17\nENTRY INTO FORCE\nThis Treaty shall enter into force three months after 15 eligible parties referred to in\n"
        "Article 12 have deposited their instruments of ratification or accession.\n<<page 10>>\nGRATK/DC/7\npage 10\n"
        "B. THE COPIES USED TO BUILD A CENTRAL LIBRARY.\nAnthropic bought print books.\n"
        "The duties are those laid down in\nArticle 53.\n"
        "Article 54\nAuthorised representatives shall act."
    )
    got = [text[s:e] for s, e in sentence_spans(text)]
    # Whole, without its heading (a quote once began "ENTRY INTO FORCE\nThis Treaty…" and stopped at "referred to in") and
    # without the page marker and running header below it.
    assert got[0] == (
        "This Treaty shall enter into force three months after 15 eligible parties referred to in\n"
        "Article 12 have deposited their instruments of ratification or accession."
    )
    assert "B. THE COPIES USED TO BUILD A CENTRAL LIBRARY." in got and "Anthropic bought print books." in got
    assert "The duties are those laid down in\nArticle 53." in got
    # A line that starts a provision after a full stop still starts one.
    assert "Authorised representatives shall act." in got


def test_a_year_opening_a_line_or_a_month_abbreviation_ends_no_sentence_a_numbered_item_does() -> None:
    # The AI Act's PDF, Recital 179: the layout wrapped "2 August 2025." after "August".
    text = (
        "the provisions on notified bodies and governance structure should apply from 2 August\n"
        "2025. Given the rapid pace of technological advancements, obligations should apply from 2 August 2025.\n"
        "Miller v. Gammie, 335 F.3d 889, 900 (9th Cir.\n2003) (en banc).\n"
        "(Pub. L. 94–553, title I, § 101, Oct. 19, 1976, 90 Stat. 2546.)\n"
        "12. Member States shall lay down rules.\n101a. Inserted later."
    )
    got = [text[s:e] for s, e in sentence_spans(text)]
    assert got[0] == "the provisions on notified bodies and governance structure should apply from 2 August\n2025."
    assert "Miller v. Gammie, 335 F.3d 889, 900 (9th Cir.\n2003) (en banc)." in got
    assert "(Pub. L. 94–553, title I, § 101, Oct. 19, 1976, 90 Stat. 2546.)" in got  # a month's abbreviation ends nothing
    assert got[-2:] == ["12. Member States shall lay down rules.", "101a. Inserted later."]


def test_a_page_break_inside_a_sentence_ends_none_a_blank_line_after_one_or_before_an_item_does() -> None:
    # The Bartz order's pages 19-20 (the loader joins pages by a blank line; the court paper's line numbers leave " ").
    text = (
        "There is no \ndecision holding or requiring that pirating a book that could have been bought at a bookstore \n\n \n"
        "was reasonably necessary to writing a book review, conducting research on facts in the book, \nor creating an LLM.  "
        "Such piracy is infringing.\n\nthe next paragraph opens in lower case after a full stop.\n\n"
        "Members may exclude from patentability methods for the treatment of humans or animals; and \n\n"
        "b) plants and animals other than micro-organisms;"
    )
    got = [text[s:e] for s, e in sentence_spans(text)]
    assert got[0].startswith("There is no \ndecision") and got[0].endswith("or creating an LLM.")
    assert "the next paragraph opens in lower case after a full stop." in got
    assert got[-2:] == ["Members may exclude from patentability methods for the treatment of humans or animals; and", "b) plants and animals other than micro-organisms;"]


def test_follow_ups_carry_the_previous_question_only_when_they_refer_back() -> None:
    history = [("What does the commentary say about Japan and WIPO?", "…")]
    assert contextual_query("What about piracy?", history).startswith("What does the commentary say")
    assert contextual_query("Does it mention anime?", history).startswith("What does the commentary say")
    assert contextual_query("What is the boiling point of mercury?", history) == "What is the boiling point of mercury?"
    assert contextual_query("What about piracy?", []) == "What about piracy?"


def test_sentence_must_say_what_its_context_does_not() -> None:
    weights = {t: 1.0 for t in tokenize("general-purpose AI model providers copyright")}
    context = set(tokenize("the EU AI Act Article 53 Obligations for providers of general-purpose AI models"))
    on_topic = score_in_context("(c) put in place a policy to comply with Union law on copyright", weights, context)
    generic = score_in_context("(a) draw up the technical documentation of the model", weights, context)
    assert on_topic > generic


def test_a_sentence_introducing_a_list_is_quoted_with_its_items() -> None:
    from ipqa.answer import write
    from ipqa.answerability import Judgement
    from ipqa.evidence import Evidence, Quote
    from ipqa.types import ANSWERED, Hit, Passage

    text = (
        "Article 1\nObjectives\nThe objectives of this Treaty are to:\n(a) enhance the quality of the patent system; and\n"
        "(b) prevent patents from being granted erroneously.\nArticle 2\nThis Treaty applies to all patents."
    )
    hit = Hit(Passage("p1", "doc", text, "Article 1", 0, len(text)), 1.0)
    lead = text.index("The objectives")
    item = text.index("(a) enhance")
    rest = text.index("This Treaty applies")
    quotes = (Quote(0, lead, item - 1, 1.0), Quote(0, item, text.index("(b)") - 1, 0.9), Quote(0, rest, len(text), 0.8))
    answer = write("What are the objectives?", Judgement(ANSWERED, quotes=quotes), Evidence((hit,), quotes), {})
    got = [c.quote for c in answer.citations]
    # The lead-in runs on to the item closing the list ('.'); the item already inside it is not quoted twice; the
    # sentence after the list is no item and stays its own quote.
    assert got == [text[lead : text.index("erroneously.") + len("erroneously.")], "This Treaty applies to all patents."]
    # Any other sentence is quoted as it was.
    plain = write("What applies?", Judgement(ANSWERED, quotes=quotes[2:]), Evidence((hit,), quotes[2:]), {})
    assert [c.quote for c in plain.citations] == ["This Treaty applies to all patents."]
    # The US Code introduces its lists with a dash: "…the factors to be considered shall include—".
    code = "In determining whether the use is fair the factors shall include—\n\n(1) the purpose of the use;\n\n(2) the effect of the use."
    hit = Hit(Passage("p2", "us", code, "§ 107", 0, len(code)), 1.0)
    q = Quote(0, 0, code.index("—") + 1, 1.0)
    dashed = write("What factors decide fair use?", Judgement(ANSWERED, quotes=(q,)), Evidence((hit,), (q,)), {})
    assert [c.quote for c in dashed.citations] == [code]
    # A list introduced inside item (b) ends where the list around it goes on, at "(c)": its own items are (i), (ii).
    nested = (
        "1. Providers shall:\n(a) keep documentation;\n(b) inform integrators. The information shall:\n(i) enable them to understand the model;\n"
        "(ii) contain the elements in Annex XII;\n(c) put in place a copyright policy;\n(d) publish a summary of the training content."
    )
    hit = Hit(Passage("p3", "act", nested, "Article 53", 0, len(nested)), 1.0)
    start = nested.index("The information shall:")
    q = Quote(0, start, start + len("The information shall:"), 1.0)
    quoted = write("What information?", Judgement(ANSWERED, quotes=(q,)), Evidence((hit,), (q,)), {})
    assert [c.quote for c in quoted.citations] == [nested[start : nested.index("\n(c)")]]
    # Short as a heading, but the dash closes it: a candidate, not a title.
    from ipqa.evidence import _is_title

    assert not _is_title(code[: code.index("—") + 1]) and _is_title("Limitations on exclusive rights: Fair use")


def test_a_list_cut_at_its_passage_end_stops_before_an_item_quoted_on_its_own() -> None:
    """A lead-in's quote runs over its items to its passage's end, which cuts an item that the next passage holds whole
    and the answer quotes on its own (WIPO Convention Article 2, "(viii) intellectual property"): the lead-in's quote
    ends before that item, so no text is quoted twice."""
    from ipqa.answer import write
    from ipqa.answerability import Judgement
    from ipqa.evidence import Evidence, Quote
    from ipqa.types import ANSWERED, Hit, Passage

    doc = (
        "For the purposes of this Convention:\n\n(i) \u201cOrganization\u201d shall mean the Organization;\n\n"
        "(ii) \u201cBureau\u201d shall mean the International Bureau;\n\n"
        "(iii) \u201cintellectual property\u201d shall include the rights relating to:\n\n- literary, artistic and scientific works,\n\n"
        "- performances of performing artists, phonograms, and broadcasts,\n\n- inventions in all fields of human endeavor."
    )
    cut = doc.index("phonograms")  # the first passage ends inside item (iii)
    item = doc.index("(iii)")
    first = Hit(Passage("p1", "conv", doc[:cut], "Article 2", 0, cut), 1.0)
    second = Hit(Passage("p2", "conv", doc[item:], "Article 2(iii)", item, len(doc)), 0.9)
    quotes = (Quote(1, 0, len(doc) - item, 1.0), Quote(0, 0, doc.index(":") + 1, 0.8))
    answer = write("What is intellectual property?", Judgement(ANSWERED, quotes=quotes), Evidence((first, second), quotes), {})
    spans = sorted((c.doc_start, c.doc_end) for c in answer.citations)
    assert len(spans) == 2 and spans[0][1] <= spans[1][0], spans
    lead = next(c.quote for c in answer.citations if c.passage_id == "p1")
    assert lead.startswith("For the purposes") and lead.endswith("the International Bureau;"), lead
    assert next(c.quote for c in answer.citations if c.passage_id == "p2") == doc[item:]


def test_a_sentence_pointing_back_is_quoted_with_the_sentence_before_it() -> None:
    """Quoted alone, "This obligation shall not apply…" or "At the same time, Japan is also…" does not say what it
    continues: the sentence before it in the same paragraph is quoted with it, as one quote. A provision naming itself
    ("This Regulation…"), a sentence opening its paragraph, and one whose paragraph has another label are quoted alone.
    A Japanese rule is quoted with its proviso (ただし書) and the proviso with its rule; a writer's sentence with the one
    restating it ("It concerns…", "In other words, …")."""
    from ipqa.answer import write
    from ipqa.answerability import Judgement
    from ipqa.evidence import Evidence, Quote
    from ipqa.types import ANSWERED, Hit, Passage

    text = (
        "1. Providers shall ensure that AI systems intended to interact with natural persons are designed accordingly. "
        "This obligation shall not apply to AI systems authorised by law to detect criminal offences.\n\n"
        "This Regulation shall apply from 2 August 2026.\n\n"
        "However, Member States may lay down further rules.\n"
        "2. It shall be permissible to make quotations."
    )
    hit = Hit(Passage("p1", "act", text, "Article 50", 0, len(text)), 1.0)

    def quoted(sentence: str) -> list[str]:
        start = text.index(sentence)
        q = Quote(0, start, start + len(sentence), 1.0)
        return [c.quote for c in write("?", Judgement(ANSWERED, quotes=(q,)), Evidence((hit,), (q,)), {}).citations]

    rule = "1. Providers shall ensure that AI systems intended to interact with natural persons are designed accordingly."
    exception = "This obligation shall not apply to AI systems authorised by law to detect criminal offences."
    assert quoted(exception) == [f"{rule} {exception}"]
    assert quoted("This Regulation shall apply from 2 August 2026.") == ["This Regulation shall apply from 2 August 2026."]
    # After a blank line: a new paragraph, whose first sentence continues nothing it could quote.
    assert quoted("However, Member States may lay down further rules.") == ["However, Member States may lay down further rules."]
    # The sentence before sits in paragraph 1's text but this one is paragraph 2's: another provision, quoted alone.
    assert quoted("2. It shall be permissible to make quotations.") == ["2. It shall be permissible to make quotations."]
    # Japanese: a proviso (ただし書) is quoted with the main sentence of its paragraph.
    ja = "**2** 無名の著作物の著作権は、その公表後七十年を経過するまでの間、存続する。ただし、その存続期間の満了前に消滅したものとする。"
    hit = Hit(Passage("p2", "jp", ja, "Article 52", 0, len(ja)), 1.0)
    start = ja.index("ただし")
    q = Quote(0, start, len(ja), 1.0)
    assert [c.quote for c in write("?", Judgement(ANSWERED, quotes=(q,)), Evidence((hit,), (q,)), {}).citations] == [ja]
    # And the other way round: the rule is quoted with the proviso qualifying it.
    q = Quote(0, 0, start, 1.0)
    assert [c.quote for c in write("?", Judgement(ANSWERED, quotes=(q,)), Evidence((hit,), (q,)), {}).citations] == [ja]
    # A writer's sentence is quoted with the next one when that says in other words what it means; not with any other.
    op = (
        "A strategy for the age of AI is not merely a matter of protection policy. It concerns the design of society itself. "
        "Japan is strong in anime. Piracy harms it."
    )
    hit = Hit(Passage("p3", "oped", op, "Japan's Next Move", 0, len(op)), 1.0)
    for sentence, quoted_as in (
        ("A strategy for the age of AI is not merely a matter of protection policy.", op[: op.index(" Japan is")]),
        ("Japan is strong in anime.", "Japan is strong in anime."),
    ):
        q = Quote(0, op.index(sentence), op.index(sentence) + len(sentence), 1.0)
        assert [c.quote for c in write("?", Judgement(ANSWERED, quotes=(q,)), Evidence((hit,), (q,)), {}).citations] == [quoted_as]


def test_a_footnote_marker_after_a_full_stop_ends_the_sentence() -> None:
    text = (
        "The copies were made to illustrate a history book).6 Nor were the copies made only incidentally.\n"
        "See Andy Warhol Found. v. Goldsmith, 598 U.S. 508, 547 n.21 (2023). Section 1.2 The rule applies."
    )
    # The piece before the marker holds an unbalanced bracket (the opinion's parenthetical began earlier): no quote.
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Nor were the copies made only incidentally.",
        "See Andy Warhol Found. v. Goldsmith, 598 U.S. 508, 547 n.21 (2023).",
        "Section 1.2 The rule applies.",
    ]


def test_the_rest_of_a_retrieved_provision_is_read_but_is_no_retrieval_hit(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An article chunked into several passages: the answer reads all of them (after the retrieved ones, marked
    via='provision'), and the eval's retrieval figures count only what retrieval ranked."""
    from conftest import catalogued_index

    from ipqa.answer import provision_siblings
    from ipqa.retrieve import retrieve

    filler = " ".join(f"The Office shall keep record number {n} of every deposit made under this paragraph." for n in range(12))
    act = f"# Article 1\n\n(1) The term of protection shall be the life of the author and fifty years.\n\n(2) {filler}\n\n(3) {filler}\n\n# Article 2\n\nThe Office shall publish a gazette.\n"
    catalog = '[[source]]\nid = "xx-act"\nfile = "xx-act.md"\ntitle = "Copyright Act of Xland"\njurisdiction = "XX"\nkind = "statute"\n'
    a = catalogued_index(tmp_path, {"xx-act.md": act}, catalog)
    article_1 = [p for p in a.store.doc_passages("xx-act") if p.section == "Article 1"]
    assert len(article_1) >= 3
    hits = [
        h
        for h in retrieve("deposit record gazette", store=a.store, embedder=a.embedder, settings=a.settings)
        if h.passage.section == "Article 1"
    ][:1]
    more = provision_siblings(hits, a.store)
    assert {h.passage.passage_id for h in hits + more} == {p.passage_id for p in article_1}
    assert all(h.via == "provision" and h.passage.section == "Article 1" for h in more)
    answer = a.ask("What does Article 1 say about record deposits?")
    assert {p.passage_id for p in article_1} <= {h.passage.passage_id for h in answer.hits}
