"""What every kind of identity shares: stable ids, aliases, review pairs, the registry of earlier runs,
analyst overrides, and clustering that honours forbidden merges."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

T = TypeVar("T")


def stable_id(prefix: str, *parts: object) -> str:
    """An id from the identity's defining evidence, not from row order or file order."""
    digest = hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:12]
    return f"{prefix}-{digest}"


@dataclass(frozen=True, slots=True)
class Alias:
    entity_type: str  # 'district', 'coordinator', 'officer', 'school'
    raw_text: str
    canonical_id: str | None
    canonical_name: str | None
    score: float
    method: str
    source_file: str


class Decision(StrEnum):
    """What identity resolution did with a pair (entity_review.decision)."""

    MERGED = "merged"
    KEPT_APART = "kept_apart"
    NOT_IN_REGISTRY = "not_in_registry"


@dataclass(frozen=True, slots=True)
class ReviewPair:
    """A borderline pair: close enough to look at, with the decision taken and the evidence."""

    entity_type: str
    left_id: str
    left_name: str
    right_id: str
    right_name: str
    score: float | None  # None: a school with no registry school to compare with
    decision: Decision
    evidence: str


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """An identity as an earlier run published it: its id never changes."""

    entity_type: str
    canonical_id: str
    canonical_name: str
    phone: str | None
    district_id: str | None
    spellings: tuple[str, ...] = ()
    first_run_id: str | None = None


@dataclass
class Clusters:
    """Union-find over items where some pairs of items may never end up together."""

    size: int
    cannot_link: list[tuple[int, int]] = field(default_factory=list)
    parent: list[int] = field(init=False)
    members: dict[int, set[int]] = field(init=False)

    def __post_init__(self) -> None:
        self.parent = list(range(self.size))
        self.members = {i: {i} for i in range(self.size)}
        self._apart: dict[int, set[int]] = defaultdict(set)
        for a, b in self.cannot_link:
            self._apart[a].add(b)
            self._apart[b].add(a)

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def can_union(self, i: int, j: int) -> bool:
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return True
        small, big = sorted((self.members[ri], self.members[rj]), key=len)
        return not any(self._apart[m] & big for m in small)

    def union(self, i: int, j: int) -> bool:
        """Join the clusters of i and j unless a forbidden pair would end up together."""
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return True
        if not self.can_union(i, j):
            return False
        if len(self.members[ri]) < len(self.members[rj]):
            ri, rj = rj, ri
        self.parent[rj] = ri
        self.members[ri] |= self.members.pop(rj)
        return True

    def groups(self) -> list[list[int]]:
        return [sorted(m) for _, m in sorted(self.members.items(), key=lambda kv: min(kv[1]))]


def blocked_pairs(keys: Sequence[Iterable[str]]) -> Iterable[tuple[int, int]]:
    """Candidate pairs that share at least one blocking key, each once, in a deterministic order."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, item_keys in enumerate(keys):
        for key in set(item_keys):
            blocks[key].append(i)
    seen: set[tuple[int, int]] = set()
    for key in sorted(blocks):
        members = blocks[key]
        for x, i in enumerate(members):
            for j in members[x + 1:]:
                if (i, j) not in seen:
                    seen.add((i, j))
                    yield i, j


def most_frequent(counts: Mapping[T, int], tie_break: Callable[[T], object] | None = None) -> T | None:
    """The most frequent value of a tally (None when it is empty); ties go to the smallest tie_break(value),
    by default the smallest value, so the choice never depends on the order values were seen in."""
    if not counts:
        return None
    return min(counts, key=lambda v: (-counts[v], tie_break(v) if tie_break else v))  # type: ignore[operator]


def one_row_per_pair(reviews: Iterable[ReviewPair]) -> list[ReviewPair]:
    """The review of each pair of identities once: its closest comparison (several spellings of the two may
    have been compared)."""
    best: dict[tuple, ReviewPair] = {}
    for r in reviews:
        key = (r.entity_type, r.left_id, r.right_id, r.decision)
        if key not in best or (r.score or 0.0, r.evidence) > (best[key].score or 0.0, best[key].evidence):
            best[key] = r
    return sorted(best.values(), key=lambda r: (r.entity_type, r.left_id, r.right_id, r.decision))
