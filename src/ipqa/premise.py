"""What a question takes for granted: the statement it asserts, whatever its form.

"Why does X do Y?", "Is it true that X?", "Since X, how …?", "X. What …?", "X, right?", "X; who …?", "Under Article N,
providers must …?" (a statement asked as a question), and their Chinese and Japanese forms all assert a statement the
sources must support before anything is quoted as an answer. A plain wh-question ("What does Article 7 provide?") asserts
nothing here; a yes/no question ("Does X require Y?") asks about its statement and is returned apart (`asked`), since
"no" is often its right answer."""

from __future__ import annotations

import re

_AUX = r"(?:do|does|did|is|are|was|were|has|have|had|can|could|must|may|might|should|shall|will|would)"
_WH = r"(?:why|what|which|who|whom|whose|how|when|where)"

_WHY = re.compile(
    rf"^\s*(?:why|for what reason|how come)\s+(?:(?P<neg>{_AUX}n['’]t|can['’]t|cannot|won['’]t|shan['’]t)\s+|{_AUX}\s+)?(?P<rest>.+?)\??\s*$",
    re.I | re.S,
)
_IS_IT_TRUE = re.compile(
    r"^\s*(?:is it (?:true|correct|right|the case|so)|am i (?:right|correct)|is it fair to say|would it be (?:right|correct|fair) to say|"
    r"do(?:es)? (?:it|the law) (?:hold|mean) that|can you confirm)\s+(?:that\s+)?(?P<rest>.+?)\??\s*$",
    re.I | re.S,
)
# A leading clause that the rest of the question builds on: "Since X, how …?", "Given that X, …".
_GIVEN = re.compile(
    r"^\s*(?:since|given that|because|now that|considering that|seeing that|as)\s+(?P<rest>[^,?]{12,}?),\s*(?P<ask>.+)$", re.I | re.S
)
# A statement, then a question about it: "X. What …?", "X; who …?", "X, so how …?", "X — what …?".
_THEN_ASK = re.compile(
    rf"^\s*(?P<rest>[^?]{{20,}}?)(?:[.;:]|,\s*so|\s+[—-]+)\s+(?P<ask>(?:{_WH}|{_AUX}|and|so|then|in that case|if so)\b.*\?)\s*$",
    re.I | re.S,
)
# A statement with a tag: "X, right?", "X, aren't they?", "X, do they?".
_TAG = re.compile(
    rf"^\s*(?P<rest>.+?),\s*(?:right|correct|true|no|yes|isn't that so|(?:{_AUX}|isn't|aren't|doesn't|don't|didn't|wasn't|weren't|can't|won't|hasn't|haven't|shouldn't|mustn't)\s+(?:it|they|he|she|there|that|i|we|you))\s*\?\s*$",
    re.I | re.S,
)
_YES_NO = re.compile(rf"^\s*{_AUX}(?:n't)?\s+(?P<rest>.+?)\??\s*$", re.I | re.S)
_WH_ANY = re.compile(rf"\b{_WH}\b", re.I)
_VERBISH = re.compile(r"\b(?:is|are|was|were|has|have|had|must|shall|may|can|cannot|will|only|does|do|did|\w+(?:s|ed))\b", re.I)

# Chinese and Japanese.
_WHY_ZH = re.compile(r"^\s*(?:为什么|为何)(?P<rest>.+?)[？?]?\s*$", re.S)
_WHY_JA = re.compile(r"^(?P<rest>.+?)(?:のは)?(?:なぜ|どうして)(?:ですか|でしょうか)?[。？?]?\s*$", re.S)
_GIVEN_ZH = re.compile(r"^\s*(?:既然|鉴于|由于|因为)(?P<rest>[^，,]{4,})[，,](?P<ask>.+)$", re.S)
_THEN_ASK_ZH = re.compile(r"^(?P<rest>[^？?]{6,}?)[，,。；;]\s*(?:那么|那|请问|则)(?P<ask>.+)$", re.S)
_TAG_ZH = re.compile(r"^(?P<rest>.+?)[，,]\s*(?:对吗|是吗|对不对|是不是|没错吧|对吧)[？?]?\s*$", re.S)
_MA_ZH = re.compile(r"^(?P<rest>[^？?]+?)(?:吗|么)[？?]?\s*$", re.S)
_THEN_ASK_JA = re.compile(r"^(?P<rest>.{6,}?)(?:ですが|ますが|ているが|とされているが|そうですが|のに|ので|から)、(?P<ask>.+)$", re.S)
_TAG_JA = re.compile(
    r"^(?P<rest>.+?)(?:というのは本当|というのは正しい|のは本当|は本当|で正しい|でよい|で合って)(?:ですか|でしょうか)[。？?]?\s*$", re.S
)
_YES_NO_JA = re.compile(r"^(?P<rest>[^？?。]+?)(?:のですか|んですか|ですか|ますか|でしょうか)[。？?]?\s*$", re.S)
_WH_CJK = re.compile(r"什么|哪些|哪个|哪|谁|何时|多久|多少|怎样|怎么|如何|几|何|なに|何|どの|どう|誰|いつ|どこ|どれ|いくら|いくつ")


def _clean(text: str) -> str:
    return text.strip().strip(",;:—-").strip()


_CONDITION = re.compile(r"^\s*(?:if|when|where|unless|suppose|supposing|assuming|in case|once)\s+[^?]{3,200}?,\s*", re.I)
_LEAD = re.compile(r"^\s*(?:under|in|for|according to|with regard to|regarding|as for|pursuant to)\s+[^,?]{3,80},\s*", re.I)


# Who says it is not what is said: "the op-ed argues that X" and "X is described as Y in the commentary" assert X and
# "X Y". A commentary states the claim, not that it claims it ("described", "op-ed" are words no sentence of it has). A
# court's holding keeps its frame: "this order holds that" is the order's own wording; so do a statute's "regarded as"
# and "treated as" (a legal relation, not who says it).
_SAYS_THAT = re.compile(
    r"^(?:the|this|its)\s+(?:op-?ed|commentary|essay|piece|author|authors|writer|editorial|paper)\s+"
    r"(?:argue|say|claim|suggest|state|contend|assert|conclude|think|believe|maintain|insist|warn|note)"
    r"(?:s|ed)?\s+that\s+(?P<rest>.{8,})$",
    re.I | re.S,
)
_DESCRIBED_AS = re.compile(
    r"\s+(?:described|characteri[sz]ed|portrayed|presented|seen|viewed)\s+as\s+|\s+said\s+to\s+be\s+", re.I
)
_SOURCE_TAIL = re.compile(
    r",?\s+(?:in|according to|by)\s+(?:the|this)\s+(?:op-?ed|commentary|article|essay|piece|opinion|order|ruling|decision|author)\s*$", re.I
)


def unattributed(statement: str) -> str:
    """A statement without who says it ('the op-ed argues that X' -> 'X'; 'Japan described as weak in the op-ed' ->
    'Japan weak')."""
    if m := _SAYS_THAT.match(statement):
        statement = m.group("rest")
    return _SOURCE_TAIL.sub("", _DESCRIBED_AS.sub(" ", statement)).strip()


def presupposition(question: str) -> str:
    """The statement a question asserts ('Why does X do Y?' -> 'X do Y'; 'Since X, how…?' -> 'X'); '' when it asserts nothing."""
    return unattributed(_presupposition(question))


def _presupposition(question: str) -> str:
    q = question.strip()
    bare = _LEAD.sub("", q)
    if bare != q and (m := _WHY.match(bare)):
        return _negated(m)
    for pattern in (_WHY, _IS_IT_TRUE, _TAG, _GIVEN, _THEN_ASK, _WHY_ZH, _GIVEN_ZH, _TAG_ZH, _THEN_ASK_ZH, _WHY_JA, _TAG_JA, _THEN_ASK_JA):
        m = pattern.match(q)
        if m:
            rest = _negated(m)
            if pattern in (_THEN_ASK, _THEN_ASK_ZH, _THEN_ASK_JA, _GIVEN) and _WH_ANY.search(rest):
                continue  # "What is X, and why …": the first part asks too
            if pattern is _GIVEN and not _VERBISH.search(rest):
                continue  # "As a general rule, how long…?", "Since 2019, …": a phrase without a verb asserts nothing
            if rest:
                return rest
    # A statement asked as a question: "Under Article 50, providers must label every output?" (not a yes/no question
    # after a condition: "If a studio uses generative AI, do the Measures govern it?" supposes, and asks).
    if (
        q.endswith("?") and not _WH_ANY.search(q) and not _YES_NO.match(_CONDITION.sub("", bare))
        and _VERBISH.search(q) and re.match(r"^[A-Z0-9\"“(§]", q)
    ):
        return _clean(q.rstrip("?"))
    return ""


def _negated(m: re.Match[str]) -> str:
    """A matched statement, a why-question's negative auxiliary (group "neg", only _WHY has one) kept as a denial: "Why
    can't the US government claim copyright…?" asserts "not: the US government claim copyright…" (the subject's place is
    not parsed; the denial is what the polarity check and the words compared need), not "can't the US government…"."""
    rest = _clean(m.group("rest"))
    return f"not: {rest}" if m.groupdict().get("neg") and rest else rest


def asked(question: str) -> str:
    """The statement a yes/no question asks about ('Does X require Y?' -> 'X require Y'); '' for other questions."""
    q = question.strip()
    bare = _LEAD.sub("", q)
    m = _YES_NO.match(bare)
    if m and not re.match(rf"^\s*{_AUX}\s+(?:you|i|we)\s+(?:know|tell|explain|list|describe|summari[sz]e)\b", bare, re.I):
        return _clean(m.group("rest"))
    if not _WH_CJK.search(q):
        for pattern in (_MA_ZH, _YES_NO_JA):
            m = pattern.match(q)
            if m:
                return _clean(m.group("rest"))
    return ""


def statement(question: str) -> str:
    """What a question asserts, or else what its yes/no form asks about ('' for other questions)."""
    return presupposition(question) or asked(question)


# "otherwise than as assignee or licensee" says who is not meant (Title 17 § 304(a)(1)(C)(ii)).
_NEGATIVE = re.compile(
    r"\b(?:not|no|never|cannot|neither|nor|none|without|exempt(?:ed|s)?|free from|otherwise than|n't)\b|n't\b|不|没有|无需|无须|未|免于|不得|不必|ない|ません|ず(?:に|、|。)|不要|除外",
    re.I,
)


def negative(text: str) -> bool:
    """Whether a statement is negated ('shall not be subject', 'don't have to', '不必', 'ない')."""
    return bool(_NEGATIVE.search(text))
