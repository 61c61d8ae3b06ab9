"""Catalog of known documents (ingest/sources.toml): metadata by file name, works by id."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError
from .types import Document, SourceInfo

_FIELDS = {"id", "file", "title", "short", "work", "publisher", "jurisdiction", "date", "kind", "url", "aliases"}


@dataclass(frozen=True)
class Catalog:
    """Known sources keyed by file name."""

    by_file: dict[str, SourceInfo]

    @classmethod
    def load(cls, path: Path) -> Catalog:
        """Read the TOML catalog; a missing file is an empty catalog, a broken one an error."""
        if not path.exists():
            return cls({})
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: invalid catalog ({exc})") from None
        by_file = {}
        for i, entry in enumerate(data.get("source", [])):
            missing = {"id", "file", "title"} - entry.keys()
            if missing:
                raise ConfigError(f"{path}: source #{i + 1} lacks field(s) {', '.join(sorted(missing))}")
            unknown = entry.keys() - _FIELDS
            if unknown:
                raise ConfigError(f"{path}: source '{entry['id']}' has unknown field(s) {', '.join(sorted(unknown))}")
            by_file[entry["file"]] = SourceInfo(
                doc_id=entry["id"],
                title=entry["title"],
                short_title=entry.get("short") or entry["title"],
                work_id=entry.get("work") or entry["id"],
                publisher=entry.get("publisher", ""),
                jurisdiction=entry.get("jurisdiction", ""),
                date=str(entry.get("date", "")),
                url=entry.get("url", ""),
                kind=entry.get("kind", ""),
                aliases=tuple(entry.get("aliases", ())),
            )
        return cls(by_file)

    def info_for(self, path: Path, doc: Document) -> SourceInfo:
        """Catalog entry for this file, else metadata taken from the file itself."""
        if path.name in self.by_file:
            return self.by_file[path.name]
        doc_id = doc_id_for(path)
        title = _title_from(doc) or path.stem
        return SourceInfo(doc_id=doc_id, title=title, short_title=title, work_id=doc_id, url=path.resolve().as_uri())

    def doc_id_for(self, path: Path) -> str:
        """Document id a file gets (catalog id or file stem)."""
        info = self.by_file.get(path.name)
        return info.doc_id if info else doc_id_for(path)


def doc_id_for(path: Path) -> str:
    """Id of an uncatalogued file: its stem, made safe."""
    return re.sub(r"[^\w.-]+", "-", path.stem, flags=re.UNICODE).strip("-") or "document"


def _title_from(doc: Document) -> str:
    for note in doc.warnings:
        if note.startswith("title:") and len(note) > 8 and not note.endswith((".xml", ".fmx")):
            return note[6:].strip()
    for heading in doc.headings:
        if heading.level <= 2:
            return heading.text.strip()
    first = doc.text.strip().split("\n", 1)[0].strip()
    return first[:120] if first else ""


def names_of(info: SourceInfo) -> list[str]:
    """Ways a question may name a document: its aliases, short title and acronyms in parentheses."""
    names = list(info.aliases)
    short = re.sub(r"^the\s+", "", info.short_title, flags=re.I)
    names.append(re.sub(r"\s*\(.*?\)\s*$", "", short))
    names.extend(m for m in re.findall(r"\(([A-Z]{3,}[A-Za-z ]*?)\)", info.title) if len(m) <= 20 and "PDF" not in m)
    return [n for n in dict.fromkeys(n.strip() for n in names) if len(n) >= 3]


_PATTERNS: dict[tuple[str, str, tuple[str, ...]], tuple[re.Pattern[str], ...]] = {}


def _name_patterns(info: SourceInfo) -> tuple[re.Pattern[str], ...]:
    # Worked out once per document, not once per document per question: that cost grows with the collection.
    key = (info.short_title, info.title, tuple(info.aliases))
    found = _PATTERNS.get(key)
    if found is None:
        if len(_PATTERNS) > 100_000:
            _PATTERNS.clear()
        found = _PATTERNS[key] = tuple(re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.I) for name in names_of(info))
    return found


def named_docs(question: str, infos: dict[str, SourceInfo]) -> set[str]:
    """Documents a question names explicitly ('Article 9 of the Berne Convention' -> Berne)."""
    out = set()
    for doc_id, info in infos.items():
        for pattern in _name_patterns(info):
            if pattern.search(question):
                out.add(doc_id)
                break
    return out
