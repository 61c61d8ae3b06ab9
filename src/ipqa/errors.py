"""Error tree: every message says what to do next."""


class IpqaError(Exception):
    """Base of all errors ipqa reports to the user as one line."""


class ConfigError(IpqaError):
    """A setting is invalid."""


class NoIndexError(IpqaError):
    """No index exists yet at the configured location."""

    def __init__(self, where: str) -> None:
        super().__init__(f"No index yet at {where} — run `ipqa ingest corpus/` first.")


class DocumentError(IpqaError):
    """One document could not be read; the batch goes on without it."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class MissingExtraError(IpqaError):
    """An optional dependency is not installed; the message names the extra that brings it. The CLI exits with 2."""

    exit_code = 2

    def __init__(self, what: str, extra: str, package: str) -> None:
        super().__init__(f"{what} needs {package}, which is not installed — pip install 'ipqa[{extra}]'")
        self.extra = extra


class IngestLockedError(IpqaError):
    """Another ingest holds the index lock."""


class UnknownDocumentError(IpqaError):
    """A document id that is not in the index."""


class QuestionTooLongError(IpqaError):
    """A question over the length limit."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"The question is {length:,} characters long; the limit is {limit:,} (IPQA_MAX_QUESTION_CHARS) — shorten it.")
