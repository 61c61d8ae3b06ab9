"""Fixed texts: the refusal and notices shown to users."""

REFUSAL = "The indexed sources do not answer this question."
REFUSAL_MISSING_PROVISION = "The indexed sources do not answer this question: no indexed document has {refs}."
EMPTY_QUESTION = "Ask a question about the indexed sources."
