"""Catalog of known documents: the one shipped as package data, with the user's own file layered over it."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import ConfigError
from .jurisdictions import JURISDICTION_RES
from .types import Document, SourceInfo

_FIELDS = {"id", "file", "sha256", "title", "short", "work", "publisher", "jurisdiction", "date", "kind", "url", "aliases", "language", "authoritative"}
BUILTIN = "built-in catalog"


@dataclass(frozen=True)
class Entry:
    """One catalog entry: the metadata, and the file it describes (path relative to a corpus folder, SHA-256 digests)."""

    info: SourceInfo
    file: str
    sha256: tuple[str, ...] = ()
    origin: str = BUILTIN  # where the entry was read: the built-in catalog or the user's file


@dataclass(frozen=True)
class Catalog:
    """Known sources: entries in order, later layers replacing earlier ones of the same id."""

    entries: tuple[Entry, ...] = ()

    @property
    def by_file(self) -> dict[str, SourceInfo]:
        """Entries keyed by their `file` field."""
        return {e.file: e.info for e in self.entries}

    @property
    def by_id(self) -> dict[str, SourceInfo]:
        """Entries keyed by document id."""
        return {e.info.doc_id: e.info for e in self.entries}

    @classmethod
    def builtin(cls) -> Catalog:
        """The catalog that ships inside the package (importlib.resources: works from a wheel, no source tree needed)."""
        text = resources.files("ipqa").joinpath("data/sources.toml").read_text(encoding="utf-8")
        return cls(tuple(_parse(text, BUILTIN)))

    @classmethod
    def load(cls, path: Path) -> Catalog:
        """Read one TOML catalog file; a missing file is an empty catalog, a broken one an error."""
        if not path.exists():
            return cls()
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError) as exc:
            raise ConfigError(f"{path}: cannot read the catalog ({exc})") from None
        return cls(tuple(_parse(text, str(path))))

    @classmethod
    def for_settings(cls, settings) -> Catalog:  # type: ignore[no-untyped-def]
        """The built-in catalog with the user's catalog (`IPQA_CATALOG`) layered over it."""
        catalog = cls.builtin()
        if settings.catalog is not None:
            catalog = catalog.layered(cls.load(settings.catalog))
        return catalog

    def layered(self, over: Catalog) -> Catalog:
        """This catalog with `over`'s entries added; one of the same id or the same file replaces the one below."""
        ids = {e.info.doc_id for e in over.entries}
        files = {e.file for e in over.entries}
        kept = tuple(e for e in self.entries if e.info.doc_id not in ids and e.file not in files)
        return Catalog(kept + over.entries)

    def match(self, path: Path, sha256: str) -> Entry | None:
        """The entry this file is: one listing its SHA-256, or (an entry without digests) one whose `file` ends its path."""
        for entry in reversed(self.entries):  # the user's layer first
            if entry.sha256:
                if sha256 in entry.sha256:
                    return entry
            elif _ends_with(path, entry.file):
                return entry
        return None

    def named_like(self, path: Path, doc_id: str) -> Entry | None:
        """An entry this file could be mistaken for: same id as its name would give, or same file name."""
        for entry in reversed(self.entries):
            if entry.info.doc_id == doc_id or Path(entry.file).name == path.name:
                return entry
        return None

    def info_for(self, path: Path, doc: Document, doc_id: str, entry: Entry | None = None) -> SourceInfo:
        """The entry's metadata when the file matched one, else metadata taken from the file itself."""
        if entry is not None:
            return entry.info
        title = _title_from(doc) or path.stem
        return SourceInfo(doc_id=doc_id, title=title, short_title=title, work_id=doc_id, url=path.resolve().as_uri())


# Uploaded documents live in their own id namespace; ":" never occurs in catalog ids or in ids made from file names.
UPLOAD_PREFIX = "upload:"


def is_upload(doc_id: str) -> bool:
    """Whether a document id names an uploaded file."""
    return doc_id.startswith(UPLOAD_PREFIX)


def _ends_with(path: Path, file: str) -> bool:
    want = Path(file).parts
    return tuple(path.parts[-len(want) :]) == want if want else False


def _parse(text: str, where: str) -> list[Entry]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: invalid catalog ({exc})") from None
    entries = []
    for i, entry in enumerate(data.get("source", [])):
        missing = {"id", "file", "title"} - entry.keys()
        if missing:
            raise ConfigError(f"{where}: source #{i + 1} lacks field(s) {', '.join(sorted(missing))}")
        unknown = entry.keys() - _FIELDS
        if unknown:
            raise ConfigError(f"{where}: source '{entry['id']}' has unknown field(s) {', '.join(sorted(unknown))}")
        if not re.fullmatch(r"[\w.-]+", str(entry["id"])):
            raise ConfigError(f"{where}: source id '{entry['id']}' may hold only letters, digits, '.', '_' and '-'")
        digests = entry.get("sha256", ())
        digests = (digests,) if isinstance(digests, str) else tuple(digests)
        if any(not re.fullmatch(r"[0-9a-f]{64}", d) for d in digests):
            raise ConfigError(f"{where}: source '{entry['id']}': sha256 must be 64 lower-case hex digits (or a list of them)")
        info = SourceInfo(
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
            language=str(entry.get("language", "")),
            authoritative=bool(entry.get("authoritative", True)),
        )
        entries.append(Entry(info, entry["file"], digests, where))
    return entries


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
    return [n for n in dict.fromkeys(n.strip() for n in names) if len(n) >= 3 and names_document(n, info)]


_KIND = re.compile(r"\b(?:act|convention|treaty|agreement|law|measures|regulation|directive|code|order|protocol|statute|u\.s\.c\.|title \d+)(?!\w)", re.I)


def names_document(name: str, info: SourceInfo) -> bool:
    """Whether a name is the document's own (title, short title, citation, acronym, case name), not a party, a
    publisher, a person or a common word: only such names scope a question to the document."""
    if re.search(r"[\u3040-\u30ff\u3400-\u9fff]", name):
        return True  # a title in Chinese or Japanese
    if _KIND.search(name) or re.search(r"\sv\.?\s", name) or re.fullmatch(r"[A-Z][A-Z0-9&.-]+", name):
        return True  # "Berne Convention", "17 U.S.C.", "Bartz v. Anthropic", "TRIPS"
    words = name.split()
    if len(words) == 1 and name[:1].isupper():
        # A single proper name counts only as the first word of the title ("Berne", "Bartz"), never a party further on.
        firsts = {re.sub(r"^the\s+", "", t, flags=re.I).split()[0].strip("“”\"'") for t in (info.title, info.short_title) if t.strip()}
        return name in firsts
    return len(words) >= 4 and name[:1].isupper()


_PATTERNS: dict[tuple[str, str, tuple[str, ...]], tuple[re.Pattern[str], ...]] = {}


def _name_patterns(info: SourceInfo) -> tuple[re.Pattern[str], ...]:
    # Worked out once per document, not once per document per question: that cost grows with the collection.
    key = (info.short_title, info.title, tuple(info.aliases))
    found = _PATTERNS.get(key)
    if found is None:
        if len(_PATTERNS) > 100_000:
            _PATTERNS.clear()
        # Capitals are part of a name ("Interim Measures" is the Chinese act, "interim measures" a common phrase).
        found = _PATTERNS[key] = tuple(
            re.compile(_bounded(name), 0 if name != name.lower() else re.I) for name in names_of(info)
        )
    return found


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


# A letter or digit of a Latin-script word: what may not touch a Latin name's edge ("TRIPS" in "TRIPSAgreement" is no
# name), where a Chinese or Japanese character may ("TRIPS協定", "日本のAI法").
_LATIN_WORD = r"[^\W\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]"


def _bounded(name: str) -> str:
    """A name as a whole word; Chinese and Japanese write no spaces, so a CJK edge needs no word break
    ('著作権法第三十条の四' names 著作権法), nor does a Latin edge beside a CJK character."""
    left = "" if _CJK.match(name[0]) else rf"(?<!{_LATIN_WORD})"
    right = "" if _CJK.match(name[-1]) else rf"(?!{_LATIN_WORD})"
    return f"{left}{re.escape(name)}{right}"


def mentions(question: str, info: SourceInfo) -> list[tuple[int, int]]:
    """Where a question names a document: (start, end) of each mention of its names."""
    return [m.span() for pattern in _name_patterns(info) for m in pattern.finditer(question)]


def named_docs(question: str, infos: dict[str, SourceInfo]) -> set[str]:
    """Documents a question names explicitly ('Article 9 of the Berne Convention' -> Berne)."""
    out = set()
    for doc_id, info in infos.items():
        if any(not _of_another_place(question, m.start(), info.jurisdiction) for pattern in _name_patterns(info) for m in pattern.finditer(question)):
            out.add(doc_id)
    return out


_BEFORE_NAME = re.compile(r"(?:['’]s|の|的|\s)+$")


def _of_another_place(question: str, start: int, jurisdiction: str) -> bool:
    """Whether the name at `start` follows another jurisdiction's name: "日本著作权法" (Japan's copyright law, written in
    Chinese) is not China's 著作权法, nor "中国の著作権法" Japan's 著作権法; a short title names its own country's act only."""
    before = _BEFORE_NAME.sub("", question[max(0, start - 24) : start])
    return any(
        code != jurisdiction and any(m.end() == len(before) for m in pattern.finditer(before)) for code, pattern in JURISDICTION_RES.items()
    )
