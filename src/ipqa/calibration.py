"""Fitting the answerability model and the sentence-score mix on eval/train.jsonl (never on eval/questions.jsonl).

    IPQA_DATA_DIR=/tmp/idx python -m ipqa.calibration eval/train.jsonl            # fit, write src/ipqa/data/answerability.json
    IPQA_DATA_DIR=/tmp/idx python -m ipqa.calibration eval/train.jsonl --check    # figures on the held-out quarter only

The index must hold the corpus the set was written from. A quarter of the questions (every 4th by id order) is held
out of the fit and reported apart, so the figures show how the model does on questions it was not fitted to.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from . import answerability as A
from . import evidence as E
from .api import Assistant
from .evaluate import Question, load_set, resolve
from .lexical import refs
from .retrieve import retrieve
from .settings import Settings
from .types import ANSWERED, PREMISE_CONTRADICTED

OUT = Path(__file__).parent / "data" / "answerability.json"


@dataclass
class Row:
    """One train question with its evidence, computed once."""

    q: Question
    query: str
    evidence: E.Evidence


def collect(assistant: Assistant, questions: list[Question]) -> tuple[list[Row], dict]:  # type: ignore[type-arg]
    """Retrieve and gather evidence for every question (the expensive part, done once)."""
    store = assistant.store
    infos = {r.doc_id: r.info for r in store.docs()}
    rows = []
    for q in questions:
        hits = retrieve(q.question, store=store, embedder=assistant.embedder, settings=assistant.settings)
        ev = E.gather(q.question, hits, infos, embedder=assistant.embedder, store=store, wanted=set(refs(q.question)))
        rows.append(Row(q, q.question, ev))
    return rows, infos


def remix(ev: E.Evidence, lexical: float, semantic: float) -> E.Evidence:
    """The same candidates scored with another mix of words and meaning."""
    quotes = [replace(q, score=lexical * q.lexical + semantic * q.semantic + q.adjust) for q in ev.quotes]
    return E.Evidence(ev.hits, tuple(sorted(quotes, key=lambda q: -q.score)))


def outcome(row: Row, infos: dict, model: dict, mix: tuple[float, float]) -> dict:  # type: ignore[type-arg]
    """Judge one question with a given model and mix; what happened and whether gold was quoted."""
    ev = remix(row.evidence, *mix)
    j = A.judge(row.q.question, row.query, ev, infos, model=model, min_similarity=Settings().min_score)
    spans = [ev.doc_span(q) for q in j.quotes]
    gold = [s for e in row.q.evidence for s in e.spans]
    contra = [s for e in row.q.contradiction for s in e.spans]

    def hit(spans_a: list, spans_b: list) -> bool:  # type: ignore[type-arg]
        return any(a[0] == b[0] and a[1] < b[2] and b[1] < a[2] for a in spans_a for b in spans_b)

    return {"kind": j.kind, "reason": j.reason, "features": j.features, "gold": hit(spans, gold), "contra": hit(spans, contra)}


def figures(rows: list[Row], infos: dict, model: dict, mix: tuple[float, float]) -> dict[str, float]:  # type: ignore[type-arg]
    """Abstention (overall, false premise), false abstention, gold quoted among answerable questions."""
    out = [(r, outcome(r, infos, model, mix)) for r in rows]
    ans = [o for r, o in out if r.q.answerable]
    una = [o for r, o in out if not r.q.answerable]
    fp = [o for r, o in out if r.q.category == "false-premise"]
    return {
        "n": len(rows),
        "abstention": float(np.mean([o["kind"] != ANSWERED for o in una])) if una else 0.0,
        "false_premise": float(np.mean([o["kind"] != ANSWERED for o in fp])) if fp else 0.0,
        "premise_caught": float(np.mean([o["kind"] == PREMISE_CONTRADICTED and o["contra"] for o in fp])) if fp else 0.0,
        "false_abstention": float(np.mean([o["kind"] != ANSWERED for o in ans])) if ans else 0.0,
        "gold_quoted": float(np.mean([o["kind"] == ANSWERED and o["gold"] for o in ans])) if ans else 0.0,
        "false_premise_on_answerable": float(np.mean([o["kind"] == PREMISE_CONTRADICTED for o in ans])) if ans else 0.0,
        "lost_to_premise": float(np.mean([o["kind"] == PREMISE_CONTRADICTED or o["reason"] == "premise-unsupported" for o in ans])) if ans else 0.0,
    }


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method (numpy only: a few features, a few hundred rows)."""
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    reg = np.eye(d + 1) * l2
    reg[-1, -1] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-xb @ w))
        grad = xb.T @ (p - y) + reg @ w
        hess = xb.T @ (xb * (p * (1 - p))[:, None]) + reg
        w -= np.linalg.solve(hess, grad)
    return w[:-1], float(w[-1])


def fit(rows: list[Row], infos: dict, mix: tuple[float, float]) -> dict:  # type: ignore[type-arg]
    """Model from the answerable vs unanswerable questions among `rows` (premise questions are the premise check's)."""
    base = A.fitted()
    feats, labels = [], []
    for r in rows:
        if r.q.category == "false-premise":
            continue
        o = outcome(r, infos, base | {"threshold": -1.0}, mix)  # features of every question, none refused by the model
        if not o["features"]:
            continue  # refused by a hard signal (missing provision, absent name): the model is not asked
        feats.append([o["features"][f] for f in A.FEATURES])
        labels.append(float(r.q.answerable))
    x, y = np.array(feats), np.array(labels)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    coef, intercept = fit_logistic((x - mean) / scale, y)
    model = {
        "note": "fitted by `python -m ipqa.calibration eval/train.jsonl` on eval/train.jsonl (held-out quarter excluded)",
        "features": list(A.FEATURES),
        "mean": dict(zip(A.FEATURES, mean.round(6).tolist())),
        "scale": dict(zip(A.FEATURES, scale.round(6).tolist())),
        "coef": dict(zip(A.FEATURES, coef.round(6).tolist())),
        "intercept": round(intercept, 6),
        "threshold": 0.5,
        "mix": list(mix),
    }
    # Threshold: the most refusals of unanswerable questions with false abstention on the fit rows at most 8% (the target).
    best = (-1.0, 0.5)
    for t in np.arange(0.2, 0.81, 0.05):
        f = figures(rows, infos, model | {"threshold": float(t)}, mix)
        if f["false_abstention"] <= 0.08 and f["abstention"] > best[0] + 1e-9:
            best = (f["abstention"], float(t))
    model["threshold"] = round(best[1], 2)
    # Premise checks: most false premises caught (refused or corrected) with at most 3% of answerable questions lost to them.
    pbest: tuple[float, dict[str, float]] = (-1.0, dict(A.PREMISE_DEFAULTS))
    for support in (0.55, 0.6, 0.65, 0.71, 0.75):
        for top in (2.0, 3.0, 5.0):
            for sem in (0.35, 0.45, 0.55):
                trial = model | {"premise": {"support_threshold": support, "top": top, "min_semantic": sem}}
                f = figures(rows, infos, trial, mix)
                if f["lost_to_premise"] <= 0.03 and f["false_premise"] > pbest[0]:
                    pbest = (f["false_premise"], trial["premise"])
    model["premise"] = pbest[1]
    return model


def main(argv: list[str]) -> None:
    path = Path(argv[0]) if argv else Path("eval/train.jsonl")
    assistant = Assistant(Settings())
    questions = resolve(load_set(path), assistant)
    rows, infos = collect(assistant, questions)
    held = [r for i, r in enumerate(rows) if i % 4 == 3]
    train = [r for i, r in enumerate(rows) if i % 4 != 3]
    if "--dump" in argv:  # one line per question of the fit part: what was decided, and whether gold was quoted
        model, mix = A.fitted(), A.mix()
        for r in train:
            o = outcome(r, infos, model, mix)
            print(f"{r.q.id} {r.q.category:13} {o['kind']:20} {o['reason']:20} gold={o['gold']!s:5} contra={o['contra']!s:5} {r.q.question[:90]}")
        return
    if "--check" in argv:
        model = A.fitted()
        mix = A.mix()
        print("fit part", figures(train, infos, model, mix))
        print("held out", figures(held, infos, model, mix))
        return
    best = None
    for lw in (0.3, 0.4, 0.5, 0.6, 0.7):
        mix = (lw, 1.0 - lw)
        f = figures(train, infos, A.fitted() | {"threshold": -1.0}, mix)
        print(f"mix {mix}: gold quoted when answering everything {f['gold_quoted']:.3f}")
        if best is None or f["gold_quoted"] > best[0]:
            best = (f["gold_quoted"], mix)
    assert best is not None
    model = fit(train, infos, best[1])
    print(json.dumps(model, indent=1))
    print("fit part", figures(train, infos, model, best[1]))
    print("held out", figures(held, infos, model, best[1]))
    OUT.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])
