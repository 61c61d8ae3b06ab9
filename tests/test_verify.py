"""The verifier: parsing a reply's citations, figures, support of a sentence by a passage, and its calibration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ipqa.api import Assistant
from ipqa.embedding import Embedder
from ipqa.verify import (
    THRESHOLD,
    Claim,
    agreement,
    candidate_spans,
    count_unsupported,
    figures,
    is_claim,
    key_terms,
    lexical_overlap,
    load_examples,
    missing_figures,
    split_claims,
    strip_reasoning,
    support,
)

CALIBRATION = Path(__file__).resolve().parents[1] / "eval" / "verifier_calibration.jsonl"


# -- a reply, sentence by sentence ----------------------------------------------------------------------


def test_markers_after_or_before_the_full_stop_belong_to_their_sentence() -> None:
    claims = split_claims("Authors have a right [1]. It covers streaming. [2][3] Art. 5 protects databases [1, 3].", 3)
    assert claims == [
        Claim("Authors have a right.", (1,), (), ""),
        Claim("It covers streaming.", (2, 3), (), " "),
        Claim("Art. 5 protects databases.", (1, 3), (), " "),
    ]


def test_out_of_range_markers_are_removed_and_reported() -> None:
    claims = split_claims("A claim [2][9]. Another [0]. A third [7-8].", 6)
    assert [(c.text, c.cited, c.invalid) for c in claims] == [
        ("A claim.", (2,), ("[9]",)),
        ("Another.", (), ("[0]",)),
        ("A third.", (), ("[7]", "[8]")),
    ]


def test_ranges_lists_and_layout_are_kept() -> None:
    claims = split_claims("Two rights:\n\n- reproduction [1–2]\n- distribution [3]; see e.g. Article 6.", 3)
    assert [(c.text, c.cited, c.sep) for c in claims] == [
        ("Two rights:", (), ""),
        ("- reproduction", (1, 2), "\n\n"),
        ("- distribution; see e.g. Article 6.", (3,), "\n"),
    ]


def test_marker_only_lines_and_worded_markers() -> None:
    claims = split_claims("Computer programs are literary works.\n[2]\nDatabases are protected [Passage 3].", 3)
    assert [(c.text, c.cited) for c in claims] == [("Computer programs are literary works.", (2,)), ("Databases are protected.", (3,))]
    assert split_claims("[1]", 3) == []


def test_japanese_and_chinese_replies_are_split_at_their_full_stops() -> None:
    reply = "著作権者は複製権を有する[1]。「情報解析。」の場合は、利用できる。[2] 作者享有发表权[3]！"
    claims = split_claims(reply, 3)
    assert [(c.text, c.cited) for c in claims] == [
        ("著作権者は複製権を有する。", (1,)),
        ("「情報解析。」の場合は、利用できる。", (2,)),  # the full stop inside 「」 ends nothing; the marker after 。 is its own
        ("作者享有发表权！", (3,)),
    ]


def test_reasoning_is_stripped_even_when_unfinished() -> None:
    assert strip_reasoning("<think>passage 2 fits</think>\nAnswer [2].") == "Answer [2]."
    assert strip_reasoning("<think>still thinking about [3]") == ""
    assert split_claims("<think>x [9]</think>Fine [1].", 1) == [Claim("Fine.", (1,), (), "")]


def test_empty_reply_has_no_claims() -> None:
    assert split_claims("", 3) == [] and split_claims("  \n ", 3) == []


# -- signals ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("within fifty years after the author's death", {"50"}),
        ("at least twenty-five years from the making", {"25"}),
        ("Article 6bis(1) and Article 11", {"6bis", "1", "11"}),
        ("open for signature until December 31, 1997", {"31", "1997"}),
        ("no fewer than 1,000 copies", {"1000"}),
        ("one of the following acts", set()),  # 'one' is a pronoun more often than a figure
    ],
)
def test_figures(text: str, expected: set[str]) -> None:
    assert figures(text) == expected


def test_missing_figures_accepts_words_for_digits_and_the_passage_label() -> None:
    passage = "(1).  The term of protection granted by this Convention shall be the life of the author and fifty years after his death."
    assert missing_figures("Article 7(1) gives life plus 50 years.", passage, context="Berne Convention — Article 7") == ()
    assert missing_figures("Article 7 gives life plus 70 years.", passage, context="Berne Convention — Article 7") == ("70",)
    assert missing_figures("Article 9 gives life plus 50 years.", passage, context="Berne Convention — Article 7") == ("9",)


def test_lexical_overlap_uses_stems_and_ignores_generic_words() -> None:
    span = "authors shall enjoy the exclusive right of authorizing any communication to the public"
    assert lexical_overlap("The Treaty provides that authors enjoy an exclusive right to authorize communications.", span) == 1.0
    assert lexical_overlap("Performers enjoy a right of remuneration.", span) == pytest.approx(2 / 4)


def test_key_terms_name_the_right_and_the_beneficiary() -> None:
    assert key_terms("Performers and producers of phonograms may authorize communication to the public.") == {
        "perform": "performers", "produc": "producers", "phonogram": "phonograms", "communic": "communication",
    }
    assert key_terms("Authors shall enjoy the exclusive right of authorizing the making available.") == {}


def test_is_claim() -> None:
    assert is_claim("Computer programs are protected as literary works.")
    assert is_claim("It lasts 50 years.")
    assert not is_claim("In short:")


def test_candidate_spans_are_sentences_and_adjacent_pairs() -> None:
    passage = "### Article  2\n\nFirst sentence is here and long. Second sentence follows it closely. Third one ends the passage."
    spans = candidate_spans(passage)
    texts = [passage[s:e] for s, e in spans]
    assert texts[:3] == ["First sentence is here and long.", "Second sentence follows it closely.", "Third one ends the passage."]
    assert texts[3] == "First sentence is here and long. Second sentence follows it closely."


# -- support, with the real model ------------------------------------------------------------------------

BERNE_7 = (
    "### Article  7  \n\n(1).  The term of protection granted by this Convention shall be the life of the author and fifty years "
    "after his death.   \n(2).  However, in the case of cinematographic works, the countries of the Union may provide that the term "
    "of protection shall expire fifty years after the work has been made available to the public with the consent of the author, or, "
    "failing such an event within fifty years from the making of such a work, fifty years after the making."
)


def test_support_quotes_the_matching_sentence_verbatim(embedder: Embedder) -> None:
    result = support("The term of protection is the life of the author plus 50 years.", BERNE_7, embedder.embed, context="Berne — Article 7")
    assert result.supported and result.score >= THRESHOLD and result.missing == ()
    assert BERNE_7[result.start : result.end].startswith("(1).  The term of protection granted by this Convention")
    assert BERNE_7[result.start : result.end].endswith("after his death.")


def test_support_rejects_fabricated_figures_and_other_topics(embedder: Embedder) -> None:
    fabricated = support("The term of protection is the life of the author plus 70 years.", BERNE_7, embedder.embed, context="Berne — Article 7")
    assert not fabricated.supported and fabricated.missing == ("70",)
    off_topic = support("Copyright protection extends to expressions and not to ideas.", BERNE_7, embedder.embed, context="Berne — Article 7")
    assert not off_topic.supported and off_topic.missing == () and off_topic.score < THRESHOLD
    other_subject = support("Computer programs are protected as literary works.", BERNE_7, embedder.embed, context="Berne — Article 7")
    assert not other_subject.supported and other_subject.missing == ("computer",)


def test_a_swapped_right_or_beneficiary_is_not_supported(small: Assistant, embedder: Embedder) -> None:
    """Near misses: every word but one matches (WCT Art. 6 is distribution, not communication to the public)."""
    art6 = next(p for p in small.passages("wipo-copyright-treaty-wct-1996") if p.section == "Article 6")
    swapped = support("Authors enjoy the exclusive right of authorizing any communication to the public of their works.", art6.text, embedder.embed)
    assert not swapped.supported and swapped.missing == ("communication",)
    right = support("Authors enjoy the exclusive right of authorizing the distribution of copies of their works by sale.", art6.text, embedder.embed)
    assert right.supported, right  # "distribution" is in the passage's heading


def test_support_over_a_real_passage_of_the_small_index(small: Assistant, embedder: Embedder) -> None:
    passages = small.passages("wipo-phonograms-convention-1971")
    art4 = next(p for p in passages if p.section == "Article 4")
    ok = support("If domestic law sets a duration, it may not be less than 20 years.", art4.text, embedder.embed, context="Article 4")
    assert ok.supported and "not be less than twenty years" in art4.text[ok.start : ok.end]
    wrong = support("If domestic law sets a duration, it may not be less than 50 years.", art4.text, embedder.embed, context="Article 4")
    assert not wrong.supported and wrong.missing == ("50",)


def test_count_unsupported() -> None:
    flags = ("removed-marker: [9] in sentence 1", "unsupported: sentence 2 (…)", "dropped-citation: [3]", "unsupported: sentence 4 cites no passage")
    assert count_unsupported(flags) == 2 and count_unsupported(()) == 0


# -- calibration -----------------------------------------------------------------------------------------


def test_calibration_set_is_hand_labelled_from_the_shared_documents() -> None:
    rows = [json.loads(line) for line in CALIBRATION.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 40
    assert len({r["id"] for r in rows}) == len(rows)
    assert sum(r["supported"] for r in rows) >= 15 and sum(not r["supported"] for r in rows) >= 15
    corpus = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    names = {p.stem for p in corpus.iterdir()}
    assert {r["doc"] for r in rows} <= names
    assert all(r["sentence"].strip() and r["passage"].strip() and r["why"].strip() for r in rows)


@pytest.mark.slow  # 74 examples through the real model: about a minute on a busy 2-core machine
def test_calibrated_thresholds_agree_with_the_labels(embedder: Embedder) -> None:
    """The figures recorded in eval/README.md ('Verifier calibration'): accuracy 0.93 on 74 examples."""
    examples = load_examples(CALIBRATION)
    verdicts = [support(ex.sentence, ex.passage, embedder.embed, context=ex.context).supported for ex in examples]
    result = agreement(verdicts, [ex.supported for ex in examples])
    assert result["accuracy"] >= 0.9, result
    assert result["precision_unsupported"] >= 0.85 and result["recall_unsupported"] >= 0.85, result
