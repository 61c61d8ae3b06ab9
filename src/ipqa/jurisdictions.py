"""Words that name a jurisdiction ("China's", "EU", "日本"), by the catalog's jurisdiction code."""

from __future__ import annotations

import re

# Words that name a jurisdiction, by the catalog's jurisdiction code. Codes the index may lack are listed too, so a
# question about them is refused with that reason instead of being answered from another country's law.
_JURISDICTION_WORDS = {
    "EU": r"\bEU\b|\bE\.U\.|European Union|\bEuropean\b|\bUnion law\b|欧盟|欧州|ＥＵ|EUの",
    "US": r"\bUS\b|\bU\.S\.(?!C)|\bUSA\b|United States|\bAmerican\b|\bAmerica\b|美国|米国|アメリカ",
    "CN": r"\bChina\b|\bChina's|\bChinese\b|\bPRC\b|People's Republic|中国|中华人民共和国",
    "JP": r"\bJapan\b|\bJapan's|\bJapanese\b|日本",
    "UK": r"\bUK\b|United Kingdom|\bBritain\b|\bBritish\b|\bEngland\b|\bEnglish law\b|英国|イギリス",
    "DE": r"\bGermany\b|\bGerman\b|德国|ドイツ",
    "FR": r"\bFrance\b|\bFrench\b|フランス",
    "IN": r"\bIndia\b|\bIndian\b|印度|インド",
    "KR": r"\bKorea\b|\bKorean\b|韩国|韓国",
    "CA": r"\bCanada\b|\bCanadian\b|加拿大|カナダ",
    "AU": r"\bAustralia\b|\bAustralian\b|澳大利亚|オーストラリア",
    "BR": r"\bBrazil\b|\bBrazilian\b|巴西|ブラジル",
    "SG": r"\bSingapore\b|新加坡|シンガポール",
    "RU": r"\bRussia\b|\bRussian\b|俄罗斯|ロシア",
    "IL": r"\bIsrael\b|\bIsraeli\b",
    "IT": r"\bItaly\b|\bItalian\b|意大利|イタリア",
    "ES": r"\bSpain\b|\bSpanish\b|西班牙|スペイン",
    "NL": r"\bNetherlands\b|\bDutch\b|荷兰|オランダ",
    "CH": r"\bSwitzerland\b|\bSwiss\b|瑞士|スイス",
    "TW": r"\bTaiwan\b|\bTaiwanese\b|台湾",
    "HK": r"\bHong Kong\b|香港",
    "NZ": r"\bNew Zealand\b|新西兰|ニュージーランド",
    "MX": r"\bMexico\b|\bMexican\b|墨西哥|メキシコ",
}
JURISDICTION_NAMES = {"EU": "the EU", "US": "the US", "CN": "China", "JP": "Japan", "UK": "the United Kingdom", "DE": "Germany", "FR": "France",
                      "IN": "India", "KR": "Korea", "CA": "Canada", "AU": "Australia", "BR": "Brazil", "SG": "Singapore", "RU": "Russia",
                      "IL": "Israel", "IT": "Italy", "ES": "Spain", "NL": "the Netherlands", "CH": "Switzerland", "TW": "Taiwan",
                      "HK": "Hong Kong", "NZ": "New Zealand", "MX": "Mexico"}
JURISDICTION_RES = {code: re.compile(words) for code, words in _JURISDICTION_WORDS.items()}


def named_jurisdictions(question: str) -> list[str]:
    """Jurisdiction codes a question names ("China's", "EU", "US", "Japanese"), in a fixed order."""
    return [code for code, pattern in JURISDICTION_RES.items() if pattern.search(question)]
