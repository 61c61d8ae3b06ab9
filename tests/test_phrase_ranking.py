"""A Japanese or Chinese question is also ranked by the longest run of its words a passage repeats: BM25 scores each
character pair apart, so articles full of the question's common pairs outranked the one saying its whole phrase. A
document's name in the question is no such run. Real store, hashing embedder."""

from __future__ import annotations

import pytest
from conftest import catalogued_index

from ipqa.api import Assistant
from ipqa.retrieve import phrase_ranking, retrieve

# Articles 1 and 3 repeat the pairs of "プログラムの著作物の著作者" often, in short texts; only Article 2, a long one,
# says the phrase.
JP_ACT = """# 著作物保護振興法

### 第一条

著作者は、プログラム又は著作物を登録する。プログラム及び著作物の権利は著作者に属する。

### 第二条

法人等の発意に基づきその法人等の業務に従事する者が職務上作成するプログラムの著作物の著作者は、その作成の時における契約、勤務規則その他に別段の定めがない限り、その法人等とする。ただし、当該法人等が解散した場合その他政令で定める場合には、この限りでない。

### 第三条

プログラム及び著作物を複製する著作者は、プログラム及び著作物を公衆に提示することができる。
"""
# The measures' title is repeated in their preamble; only Article 24 says when they apply.
CN_MEASURES = """# 数据服务管理暂行办法

### 前言

《数据服务管理暂行办法》已经审议通过，现予公布。《数据服务管理暂行办法》由各部门负责解释。

### 第二十四条

本办法自2023年8月15日起施行。
"""
CATALOG = """
[[source]]
id = "jp-act"
file = "jp-act.md"
title = "著作物保護振興法"
jurisdiction = "JP"
kind = "statute"
language = "ja"

[[source]]
id = "cn-measures"
file = "cn-measures.md"
title = "数据服务管理暂行办法"
jurisdiction = "CN"
kind = "regulation"
language = "zh"
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return catalogued_index(tmp_path_factory.mktemp("phrase"), {"jp-act.md": JP_ACT, "cn-measures.md": CN_MEASURES}, CATALOG)


def _first(index: Assistant, question: str) -> str:
    hits = retrieve(question, store=index.store, embedder=index.embedder, settings=index.settings)
    return hits[0].passage.section


def test_the_passage_saying_the_whole_phrase_ranks_first(index: Assistant) -> None:
    assert _first(index, "プログラムの著作物の著作者は誰ですか。").endswith("(第二条)")


def test_a_named_document_s_title_is_no_phrase(index: Assistant) -> None:
    passages = {p.passage_id: p for p in index.store.doc_passages("cn-measures")}
    infos = {r.doc_id: r.info for r in index.store.docs()}

    def ranked(question: str) -> list[str]:
        return [passages[pid].section for pid in phrase_ranking(question, list(passages), passages, infos)]

    assert ranked("《数据服务管理暂行办法》自何时起施行？") == []  # the preamble repeats the title only
    assert ranked("《数据服务管理暂行办法》已经审议通过了吗？") == ["前言"]  # "已经审议通过"
