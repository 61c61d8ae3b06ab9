"""Fixed texts: the refusal and notices shown to users."""

REFUSAL = "The indexed sources do not answer this question."
REFUSAL_MISSING_PROVISION = "The indexed sources do not answer this question: {where} has no {refs}."
REFUSAL_UNUSED_TERM = "The indexed sources do not answer this question: {where} does not use the term {terms}."
REFUSAL_NOT_IN_INDEX = "The indexed sources do not include {names}. The index holds: {holds}."
REFUSAL_NOT_IN_INDEX_JURISDICTION = "The indexed sources include no documents from {where}. The index holds: {holds}."
REFUSAL_NO_ANSWER_TYPE = "The indexed sources do not answer this question: no retrieved passage states {kind}."
REFUSAL_PREMISE_UNSUPPORTED = "The indexed sources do not support the premise of this question."
PREMISE_LEAD = "The sources do not support the premise of this question:"
EMPTY_QUESTION = "Ask a question about the indexed sources."
# A comparison column whose sources say nothing cited about the question.
NOTHING_FOR = "Nothing in the indexed sources for {label} answers this question."

# -- Generative answers (llm.py / generate.py / verify.py) --------------------------------------

LLM_SYSTEM = f"""You answer questions about intellectual-property law using only the numbered passages you are given.
Rules:
- Write short sentences, one claim each. End every sentence with the number of the passage that states it, in square brackets: "... [2]".
  Use "[1][3]" when two passages state it.
- Cite only a passage that says what the sentence says, and only numbers from the list.
- Copy article numbers, dates, periods and other figures exactly as the passage gives them.
- Add nothing that the passages do not say; no introductions, no advice.
- If the passages do not answer the question, reply with exactly this sentence and nothing else: {REFUSAL}"""

LLM_PASSAGE = "[{n}] {title} — {section}{page}\n{text}"
LLM_USER = "Passages:\n\n{passages}\n\n{history}Question: {question}\n\nAnswer in a few sentences, with [n] after every sentence."
LLM_HISTORY = "Earlier question in this conversation: {previous}\n"

# Shown after a sentence the verifier could not match to what it cites.
UNSUPPORTED_MARK = "⚠ not supported by the cited source"
UNCITED_MARK = "⚠ no source cited"

# Notices on Answer.notice: why the answer looks the way it does.
LLM_NOT_CONFIGURED = "No LLM is configured (set IPQA_LLM_URL) — showing the extractive answer."
LLM_UNREACHABLE = "The LLM at {url} could not be reached ({reason}) — showing the extractive answer."
LLM_TIMED_OUT = "The LLM at {url} did not answer within {seconds:g} s — showing the extractive answer."
LLM_MALFORMED = "The LLM's reply could not be used ({reason}) — showing the extractive answer."
LLM_UNSUPPORTED = "{n} of {total} sentences are not supported by the passages they cite; they are marked ⚠."
