"""Sentence vectors stored at ingest (issue #10): every candidate sentence is scored by meaning from its stored vector,
only sentences without one are encoded at query time, and the vectors follow their document through replacement,
removal and crash recovery. Real store, real Chroma, real ingest; the deterministic HashEmbedder stands in for the model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import HashEmbedder, shared_doc

from ipqa import versions
from ipqa.api import Assistant
from ipqa.doctor import OK, WARN, run_checks
from ipqa.evidence import MAX_ENCODED, encoded_text, gather
from ipqa.settings import Settings
from ipqa.types import Hit

QUESTION = "Who may ask for protection against the distribution of duplicates of phonograms?"


class CountingEmbedder(HashEmbedder):
    """The hashing embedder, remembering every text it was asked to encode at query time."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.query_texts: list[str] = []

    def embed(self, texts, *, query_time: bool = False):  # type: ignore[no-untyped-def]
        if query_time:
            self.query_texts.extend(texts)
        return super().embed(texts, query_time=query_time)


def _small(tmp_path: Path) -> tuple[Settings, CountingEmbedder, Assistant]:
    settings = Settings(data_dir=tmp_path / "index")
    embedder = CountingEmbedder(settings)
    return settings, embedder, Assistant(settings, embedder=embedder)


def _gather_all(assistant: Assistant, embedder: CountingEmbedder, doc_id: str, question: str = QUESTION):  # type: ignore[no-untyped-def]
    store = assistant.store
    infos = {d.doc_id: d.info for d in store.docs()}
    hits = [Hit(p, 1.0) for p in store.doc_passages(doc_id)]
    return gather(question, hits, infos, embedder=embedder, store=store)


def test_every_candidate_is_scored_by_meaning_from_stored_vectors(tmp_path: Path) -> None:
    _, embedder, assistant = _small(tmp_path)
    # The GRATK treaty's passages often end inside a sentence, which gather completes from the neighbouring passage.
    report = assistant.ingest([shared_doc("wipo-gratk-treaty-2024-en.txt")])
    assert report.sentences_embedded > 0 and assistant.store.sentence_count() >= report.sentences_embedded
    assert assistant.store.sentence_versions() == {"wipo-gratk-treaty-2024-en": versions.SENTENCES}
    assert report.timings["sentences"] > 0

    question_text = "What must patent applicants disclose about genetic resources?"
    embedder.query_texts.clear()
    evidence = _gather_all(assistant, embedder, "wipo-gratk-treaty-2024-en", question_text)
    assert len(evidence.quotes) > 50
    # No sentence encoded at query time: every candidate (those crossing passage boundaries too) had a stored vector.
    assert embedder.query_texts == []
    question = np.asarray(embedder.embed_query(question_text))
    for q in evidence.quotes:
        text = evidence.text(q)
        expected = float(question @ np.asarray(embedder._vector(encoded_text(text))))
        assert abs(q.semantic - expected) < 1e-5, text
    # Some passages were completed across a boundary (their sentences found their vectors too, by absolute offsets).
    own = {p.passage_id: p.text for p in assistant.store.doc_passages("wipo-gratk-treaty-2024-en")}
    assert any(h.passage.text != own[h.passage.passage_id] for h in evidence.hits)
    assert sum(q.semantic != 0 for q in evidence.quotes) > MAX_ENCODED + 2  # more than the query-time cap ever scored


def test_an_index_without_sentence_vectors_falls_back_and_ingest_backfills_it(tmp_path: Path) -> None:
    settings, embedder, assistant = _small(tmp_path)
    assistant.ingest([shared_doc("wipo-phonograms-convention-1971.md")])
    stored = _gather_all(assistant, embedder, "wipo-phonograms-convention-1971")
    # The state of an index made before sentence vectors were stored.
    with assistant.store.db as db:
        db.execute("DROP TABLE sentence_vectors")
        db.execute("DROP TABLE sentence_sets")
        # The first layout of the table (WITHOUT ROWID, twice the size), with a record that said the document had vectors.
        db.execute(
            "CREATE TABLE sentences (doc_id TEXT, start INTEGER, end INTEGER, sha TEXT, vec BLOB, PRIMARY KEY (doc_id, start, end)) WITHOUT ROWID"
        )
        db.execute("CREATE TABLE sentence_sets (doc_id TEXT PRIMARY KEY, version TEXT NOT NULL, n INTEGER NOT NULL)")
        db.execute("INSERT INTO sentence_sets VALUES ('wipo-phonograms-convention-1971', '1', 1)")
    old = Assistant(settings, embedder=embedder)  # opening it adds the (empty) tables, drops the first layout
    assert old.store.sentence_count() == 0 and old.store.sentence_versions() == {}
    embedder.query_texts.clear()
    fallback = _gather_all(old, embedder, "wipo-phonograms-convention-1971")
    assert 0 < len(set(embedder.query_texts)) <= MAX_ENCODED + 2  # today's behaviour: a few sentences encoded per question
    assert 0 < sum(q.semantic != 0 for q in fallback.quotes) <= MAX_ENCODED + 2
    assert {(q.hit_index, q.start, q.end) for q in fallback.quotes} == {(q.hit_index, q.start, q.end) for q in stored.quotes}
    assert old.ask(QUESTION).citations  # answers still come

    (check,) = [c for c in run_checks(settings, embedder) if c.name == "sentence vectors"]
    assert check.status == WARN and "wipo-phonograms-convention-1971" in check.detail and "ipqa ingest" in check.fix

    calls = embedder.calls
    report = old.ingest([shared_doc("wipo-phonograms-convention-1971.md")])
    assert report.unchanged == ["wipo-phonograms-convention-1971"] and report.backfilled == ["wipo-phonograms-convention-1971"]
    assert report.embedded == 0 and report.sentences_embedded > 0 and embedder.calls > calls  # sentences only, no passage again
    assert "1 given sentence vectors" in report.summary()
    assert [c.status for c in run_checks(settings, embedder) if c.name == "sentence vectors"] == [OK]
    embedder.query_texts.clear()
    again = _gather_all(old, embedder, "wipo-phonograms-convention-1971")
    assert embedder.query_texts == [] and [q.semantic for q in again.quotes] == [q.semantic for q in stored.quotes]
    # Once backfilled, a re-ingest of the unchanged file encodes nothing.
    calls = embedder.calls
    assert not old.ingest([shared_doc("wipo-phonograms-convention-1971.md")]).backfilled and embedder.calls == calls


def test_sentence_vectors_follow_replacement_removal_and_recovery(tmp_path: Path) -> None:
    _, embedder, assistant = _small(tmp_path)
    folder = tmp_path / "docs"
    folder.mkdir()
    # Edited copies under names of their own: no catalog entry matches them, so a changed file keeps its id.
    for name, source in (
        ("phonograms-notes.md", "wipo-phonograms-convention-1971.md"),
        ("wct-notes.md", "wipo-copyright-treaty-wct-1996.md"),
    ):
        (folder / name).write_text(shared_doc(source).read_text() + "\nThese notes are a working copy.\n")
    assistant.ingest([folder])
    store = assistant.store

    def count(doc_id: str) -> int:
        return store.db.execute("SELECT COUNT(*) FROM sentence_vectors WHERE doc_id=?", (doc_id,)).fetchone()[0]

    phonograms, wct = count("phonograms-notes"), count("wct-notes")
    assert phonograms > 0 and wct > 0

    # A changed file: its sentence vectors are replaced with the passages, unchanged sentences not encoded again.
    path = folder / "phonograms-notes.md"
    path.write_text(path.read_text().replace("duplicates", "copies"))
    changed = assistant.ingest([folder])
    assert changed.changed == ["phonograms-notes"]
    assert 0 < changed.sentences_embedded < phonograms
    embedder.query_texts.clear()
    evidence = _gather_all(assistant, embedder, "phonograms-notes")
    assert embedder.query_texts == [] and any("copies" in evidence.text(q) for q in evidence.quotes)

    assert assistant.remove("wct-notes")
    assert count("wct-notes") == 0 and "wct-notes" not in store.sentence_versions()
    assert count("phonograms-notes") > 0

    # An interrupted write: recovery drops the document, its sentence vectors with it.
    store.mark_pending("phonograms-notes")
    assert store.recover() == ["phonograms-notes"]
    assert store.sentence_count() == 0 and store.sentence_versions() == {}
