"""Renditions of one work in two languages: beside a cited article, the same article of the other rendition.

The catalog links renditions by `work` (jp-ai-promotion-act-2025-ja / -en) and marks a translation
`authoritative = false`. Articles are aligned by number ("Article 13 (第十三条)" <-> "Article 13").
"""

from __future__ import annotations

import re
from dataclasses import replace

from .store import Store
from .types import Answer, Citation, Counterpart, Passage, SourceInfo

_LANGUAGE_NAMES = {"ja": "Japanese", "zh": "Chinese", "en": "English"}
# "Article 30-4, item 2 (第三十条の四第二号)" -> ("", "30-4"); "Suppl. Article 1 (附則第一条)" -> ("Suppl. ", "1").
_ARTICLE = re.compile(r"^(Suppl\. )?Article (\d+(?:-\d+)*)\b")


def article_key(section: str) -> tuple[str, str] | None:
    """The article a section label names, ignoring paragraph/item refinements and the original-language label."""
    m = _ARTICLE.match(section)
    return (m.group(1) or "", m.group(2)) if m else None


def counterpart_for(citation: Citation, infos: dict[str, SourceInfo], passages_of) -> Counterpart | None:  # type: ignore[no-untyped-def]
    """The same article in another rendition of the cited document's work, or None (one rendition, no such article)."""
    key = article_key(citation.section)
    cited = infos.get(citation.doc_id)
    if key is None or cited is None:
        return None
    for doc_id, info in infos.items():
        if doc_id == citation.doc_id or info.work_id != cited.work_id or info.language == cited.language:
            continue
        same: list[Passage] = [p for p in passages_of(doc_id) if article_key(p.section) == key]
        if not same:
            continue
        return Counterpart(
            doc_id=doc_id,
            title=info.title,
            section=same[0].section,
            text=_article_text(same),
            url=info.url,
            language=info.language,
            authoritative=info.authoritative,
            note=_note(info, cited),
        )
    return None


def with_counterparts(answer: Answer, store: Store) -> Answer:
    """The answer with each citation's counterpart filled in (unchanged when no cited work has two renditions)."""
    if not answer.citations:
        return answer
    infos = {d.doc_id: d.info for d in store.docs()}
    works = {}
    for info in infos.values():
        works.setdefault(info.work_id, set()).add(info.doc_id)
    if not any(len(works.get(infos[c.doc_id].work_id, ())) > 1 for c in answer.citations if c.doc_id in infos):
        return answer
    cache: dict[str, list[Passage]] = {}

    def passages_of(doc_id: str) -> list[Passage]:
        if doc_id not in cache:
            cache[doc_id] = store.doc_passages(doc_id)
        return cache[doc_id]

    citations = tuple(replace(c, counterpart=counterpart_for(c, infos, passages_of)) for c in answer.citations)
    return replace(answer, citations=citations)


def _article_text(passages: list[Passage], limit: int = 2000) -> str:
    """The article's text from its passages in order (overlaps between size-split passages removed)."""
    text, end = "", -1
    for p in sorted(passages, key=lambda p: p.start):
        if p.end <= end:
            continue
        text += p.text[max(0, end - p.start) :] if end > p.start else ("\n" if text else "") + p.text
        end = p.end
        if len(text) >= limit:
            return text[:limit] + "…"
    return text


def _note(other: SourceInfo, cited: SourceInfo) -> str:
    lang = _LANGUAGE_NAMES.get(other.language, other.language or "other-language")
    if not other.authoritative:
        original = _LANGUAGE_NAMES.get(cited.language, "original")
        return f"{lang} translation, without legal effect; the {original} text is authoritative."
    if not cited.authoritative:
        return f"The authoritative {lang} text of the cited article (the cited rendition is a translation without legal effect)."
    return f"{lang} rendition of the same article."
