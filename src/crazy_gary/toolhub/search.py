"""Lexical tool search: BM25 over names, descriptions and parameter names."""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Sequence

from crazy_gary.toolhub.types import Tool

K1, B = 1.2, 0.75
NAME_WEIGHT, PARAM_WEIGHT = 3, 2
_SPLIT = re.compile(r"[A-Za-z][a-z]+|[A-Z]+(?![a-z])|\d+")
STOP = frozenset({"a", "an", "the", "of", "to", "in", "on", "for", "and", "or", "is", "it",
                  "with", "by", "from", "as", "at", "be", "this", "that", "any", "all"})


def tokens(text: str) -> list[str]:
    """Lower-case word pieces; snake_case and camelCase split, a light plural strip."""
    result = []
    for piece in _SPLIT.findall(text or ""):
        word = piece.lower()
        if word in STOP:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        result.append(word)
    return result


def document(tool: Tool) -> list[str]:
    props = (tool.schema or {}).get("properties") or {}
    params = " ".join(str(name) for name in props)
    words = tokens(tool.name) * NAME_WEIGHT + tokens(params) * PARAM_WEIGHT
    return words + tokens(tool.description) + tokens(tool.client)


class ToolIndex:
    """An immutable BM25 index over one snapshot of the catalogue."""

    def __init__(self, tools: Sequence[Tool]) -> None:
        self.tools = list(tools)
        self.docs = [Counter(document(t)) for t in self.tools]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg = (sum(self.lengths) / len(self.lengths)) if self.lengths else 0.0
        self.postings: dict[str, list[tuple[int, int]]] = {}
        for i, doc in enumerate(self.docs):
            for term, tf in doc.items():
                self.postings.setdefault(term, []).append((i, tf))
        n = len(self.docs)
        self.idf = {term: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5))
                    for term, p in self.postings.items()}

    def search(self, query: str, limit: int = 10) -> list[Tool]:
        terms = tokens(query)
        if not terms or not self.docs:
            return []
        lowered = query.strip().lower()
        scores: dict[int, float] = {}
        for term in set(terms):
            weight = self.idf.get(term, 0.0) * terms.count(term)
            for i, tf in self.postings.get(term, ()):
                norm = K1 * (1 - B + B * self.lengths[i] / (self.avg or 1))
                scores[i] = scores.get(i, 0.0) + weight * tf * (K1 + 1) / (tf + norm)
        scored = []
        for i, score in scores.items():
            if self.tools[i].name.lower() == lowered:
                score += 10.0  # the exact tool name wins
            scored.append((score, i))
        best = heapq.nsmallest(limit, scored, key=lambda item: (
            -item[0], self.tools[item[1]].client, self.tools[item[1]].name))
        return [self.tools[i] for _, i in best]
