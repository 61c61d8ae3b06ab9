"""ipqa: question answering over IP-policy sources with verifiable citations."""

__version__ = "0.1.0"
