"""Versions of the code that builds an index. Bump one when its output changes: stored passages made by another
version are stale, and the next ingest re-chunks those files (reusing the vectors of passage texts that did not change)."""

from __future__ import annotations

import hashlib

# loaders.py and the loader modules it calls: the extracted text, headings, pages of a file.
LOADERS = "7"  # 2: law XML (lawxml.py); 3: HTML page furniture marked by role, class or id is dropped; 4: Markdown
# inline tags ("<sup>") blanked; 5: a footnote set in a Markdown heading is no part of its title (at 4 it was); 6: a PDF's
# running heads and folios are dropped whatever their page numbers and sides; 7: HTML links that run a script, and
# classes or ids naming a path, print or button, are furniture
# chunking.py: passage boundaries, section labels, the passage meta (sub-provision paths).
CHUNKER = "5"  # 2: Japanese 第N条のM / 項 / 号 / 附則 labels, bracket-aware CJK sentence ends; 3: **２** paragraphs;
# 4: the whitespace after each passage (meta "after"), so that a quote runs on into the next passage across a line break;
# 5: the title of the innermost part, chapter or section a passage sits in (meta "within")
# ingest.embed_text (the text the model embeds) and the metadata written beside each vector.
EMBED_TEXT = "1"
# Sentence vectors stored at ingest (evidence.sentence_candidates: which sentences of each passage, completed across
# passage boundaries as gather completes them, truncated to evidence.EMBED_CHARS, encoded by the index's model).
# Not part of pipeline(): they are stored beside the passages, so a change here re-encodes sentences only (the next
# ingest backfills them) and never re-chunks or re-embeds passages. Bump when the candidates or the encoded text change
# (sentences.sentence_spans, evidence's title/heading filters, EMBED_CHARS): keys that no longer match are only
# encoded at query time, a few per question, so a stale set costs quality and latency, not correctness.
SENTENCES = "11"  # 2: complete() follows a CJK sentence over several passages (8c2ace6): other candidates; 3: a footnote
# marker after a full stop ends the sentence (sentences._FOOTNOTE_END); 4: a PDF line wrapped before "Article 12 have…"
# does not end one, and a line of capitals (a heading) ends before the sentence below it; 5: a full stop before a page
# marker ("<<page 10>>") ends one; 6: a Chinese list item ("（一）") at a line's start starts a piece of its own; 7: a
# line opening with a year ("August\n2025. Given…") continues the sentence (a list marker has at most three digits); 8: a
# month's abbreviation ("Oct. 19, 1976") ends no sentence; 9: a short sentence ending in a dash ("…shall include—") is no
# title (evidence._CLOSED_END); 10: complete() joins passages across the whitespace the chunker dropped between them
# (CHUNKER 4); 11: a PDF page break inside a sentence (between a lower-case word or comma and a lower-case line) ends none


def pipeline() -> str:
    """The versions together, as stored with each document: 'loaders=1;chunker=1;embed_text=1'."""
    return f"loaders={LOADERS};chunker={CHUNKER};embed_text={EMBED_TEXT}"


def fingerprint(index_name: str, pipelines: set[str] | frozenset[str] | None = None) -> str:
    """A short digest naming what made an index: model and chunking (the index name) and the pipeline versions."""
    versions = sorted(pipelines) if pipelines else [pipeline()]
    return hashlib.sha256(f"{index_name}|{'|'.join(versions)}".encode()).hexdigest()[:16]
