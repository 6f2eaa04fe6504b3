"""People: one identity per real coordinator or officer.

Within a dump, every rendering of one field is one person (that is the strongest evidence there is).
Across dumps, two people link when the evidence agrees: the same phone with a similar name, or a
near-identical name with no phone to contradict it, never across genders of title, and for district
officers never across districts. Identities of earlier runs take part as nodes, so their ids survive.

Documents whose node has the same signature (majority spelling, phone, gender, district, pins) are one
person by construction: they are folded into one PersonGroup as they are parsed, and only one
representative per signature is compared, so the work and the memory follow the number of distinct
signatures, not of documents.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property, lru_cache

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from common.records import NO_OVERRIDES, Overrides, ParsedDump, PersonMention
from common.settings import MatchSettings
from common.text import UNREAD, normalize_thai, tone_skeleton, well_formed
from transform.consensus import decide
from transform.identity import (
    Clusters,
    Decision,
    RegistryEntry,
    ReviewPair,
    blocked_pairs,
    most_frequent,
    one_row_per_pair,
    stable_id,
)

ROLE_FAMILY = {"coordinator": "coordinator", "officer": "officer", "signatory": "officer", "co_officer": "officer"}
# roles a document can name several people in (each a node of its own); the others are one person per document
NUMBERED_ROLES = ("signatory", "co_officer")
ID_PREFIX = {"coordinator": "coor", "officer": "offi"}
_GENDER = {"นาย": "m", "นาง": "f", "นางสาว": "f", "เด็กชาย": "m", "เด็กหญิง": "f"}


@dataclass(frozen=True, slots=True)
class Person:
    person_id: str
    family: str  # 'coordinator' or 'officer'
    name_th: str
    title_th: str | None
    phone: str | None
    position_th: str | None
    district_id: str | None


@dataclass
class PersonNode:
    """A person as one dump shows them (all renderings of one field), or as an earlier run registered them.

    Built whole and not changed after: its spellings, name, phone and gender are computed once (identity
    resolution compares each node with many: at 100,000 documents, 86,000 comparisons)."""

    family: str
    source_file: str | None
    role_key: str | None
    mentions: list[PersonMention] = field(default_factory=list)
    district_id: str | None = None
    registry: RegistryEntry | None = None
    pinned_id: str | None = None

    @cached_property
    def spellings(self) -> Counter[str]:
        if self.mentions:
            return Counter(m.name_th for m in self.mentions)
        return Counter(self.registry.spellings or (self.registry.canonical_name,)) if self.registry else Counter()

    @cached_property
    def name(self) -> str:
        counts = self.spellings
        if self.registry and not self.mentions:
            return self.registry.canonical_name
        return most_frequent(counts, _shortest_first)

    @cached_property
    def phone(self) -> str | None:
        if self.registry and not self.mentions:
            return self.registry.phone
        # the renderings' majority; a tie (a scan's passes read 1226 and 7226, their fused reading unsure) is
        # not known
        return decide([m.phone for m in self.mentions if m.phone and UNREAD not in m.phone])[0]  # type: ignore[return-value]

    @cached_property
    def gender(self) -> str | None:
        genders = {_GENDER.get(t) for m in self.mentions for t in (m.title_th or "").split()} - {None}
        return genders.pop() if len(genders) == 1 else None

    @cached_property
    def forms(self) -> tuple[tuple[str, str], ...]:
        """Each spelling as compared: normalised, and without tone marks."""
        return tuple((normalize_thai(s), tone_skeleton(s)) for s in self.spellings)

    @property
    def fixed_id(self) -> str | None:
        return self.pinned_id or (self.registry.canonical_id if self.registry else None)


def _shortest_first(spelling: str) -> tuple[int, str]:
    return len(spelling), spelling


def name_score(a: str, b: str, settings: MatchSettings) -> float:
    """Similarity of two names: plain, or with tone marks removed at a small penalty."""
    return _name_score(*sorted((a, b)), settings.person_tone_skeleton_penalty)


@lru_cache(maxsize=1 << 18)
def _name_score(a: str, b: str, penalty: float) -> float:
    plain = fuzz.ratio(normalize_thai(a), normalize_thai(b))
    skeleton = fuzz.ratio(tone_skeleton(a), tone_skeleton(b)) - penalty
    return max(plain, skeleton)


def best_name_score(a: PersonNode, b: PersonNode, settings: MatchSettings) -> float:
    """name_score of the closest pair of spellings of the two (the same rule, on precomputed forms)."""
    penalty = settings.person_tone_skeleton_penalty
    return max(max(fuzz.ratio(x, y), fuzz.ratio(xs, ys) - penalty) for x, xs in a.forms for y, ys in b.forms)


def min_edits(a: PersonNode, b: PersonNode, up_to: int | None = None) -> int:
    """Fewest character edits between any spelling of one and any spelling of the other; with up_to, any
    count above it is up_to + 1 (counted faster)."""
    return min(_edits(x, y, up_to) for x, _ in a.forms for y, _ in b.forms)


def _edits(x: str, y: str, up_to: int | None) -> int:
    """Levenshtein's distance, where a scan's unread character (fusion.UNREAD: its passes read it differently,
    neither surely) stands for any one character: 'ณ�ฐพิมล' is one edit from nothing it could be."""
    if UNREAD not in x and UNREAD not in y:
        return Levenshtein.distance(x, y, score_cutoff=up_to)
    row = list(range(len(y) + 1))
    for i, cx in enumerate(x, start=1):
        previous, row[0] = row[0], i
        for j, cy in enumerate(y, start=1):
            same = cx == cy or cx == UNREAD or cy == UNREAD
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (0 if same else 1))
    distance = row[-1]
    return distance if up_to is None or distance <= up_to else up_to + 1


class LinkEvidence(Enum):
    """What decided a comparison of two people; `against` marks evidence that they are two people."""

    DIFFERENT_ROLES = ("different roles", True)
    DIFFERENT_GENDERS = ("titles of different genders", True)
    DIFFERENT_DISTRICTS = ("officers of different districts", True)
    DIFFERENT_PHONES = ("different phones", True)
    SAME_PHONE = ("same phone", False)
    SAME_PHONE_FIRST_NAME = ("same phone, the first name alone", False)
    NAME_AND_DISTRICT = ("no phone on one side: name and district", False)
    NAME_ONLY = ("no phone on one side: name only", False)

    def __init__(self, words: str, against: bool):
        self.words, self.against = words, against


@dataclass(frozen=True, slots=True)
class Link:
    """One comparison of two people: the decision, the name score, and what decided it (with its detail
    in words, for entity_review). A decision taken before names were compared (roles, genders, districts)
    has no score: `score_of` computes it when a review needs it (four comparisons in five never do)."""

    same: bool
    score: float | None
    evidence: LinkEvidence
    detail: str

    def score_of(self, a: PersonNode, b: PersonNode, settings: MatchSettings) -> float:
        return self.score if self.score is not None else best_name_score(a, b, settings)


def compare(a: PersonNode, b: PersonNode, settings: MatchSettings) -> Link:
    """Are a and b one person? Phones, titles and districts first; names decide only what they leave open."""
    if a.family != b.family:
        return Link(False, 0.0, LinkEvidence.DIFFERENT_ROLES, "different roles")
    if a.gender and b.gender and a.gender != b.gender:
        return Link(False, None, LinkEvidence.DIFFERENT_GENDERS, "titles of different genders")
    if a.family == "officer" and a.district_id and b.district_id and a.district_id != b.district_id:
        return Link(False, None, LinkEvidence.DIFFERENT_DISTRICTS,
                    f"officers of different districts ({', '.join(sorted((a.district_id, b.district_id)))})")
    score = best_name_score(a, b, settings)
    if a.phone and b.phone:
        if a.phone == b.phone:
            if score < settings.person_same_phone_min_score and first_name_alone(a, b):
                return Link(True, score, LinkEvidence.SAME_PHONE_FIRST_NAME,
                            f"same phone {a.phone}; a first name printed alone is the other's first name")
            return Link(score >= settings.person_same_phone_min_score, score, LinkEvidence.SAME_PHONE,
                        f"same phone {a.phone}")
        identical = tone_skeleton(a.name) == tone_skeleton(b.name)
        phones = ", ".join(sorted((a.phone, b.phone)))
        return Link(identical, score, LinkEvidence.DIFFERENT_PHONES,
                    f"different phones ({phones})" + (", same name" if identical else ""))
    edits = min_edits(a, b)
    close = edits <= settings.person_name_only_max_edits
    if a.family == "officer" and a.district_id and a.district_id == b.district_id:
        return Link(score >= settings.person_same_district_min_score and close, score, LinkEvidence.NAME_AND_DISTRICT,
                    f"no phone on one side: name ({edits} edits) and district {a.district_id}")
    return Link(score >= settings.person_no_phone_min_score and close, score, LinkEvidence.NAME_ONLY,
                f"no phone on one side: name only ({edits} edits)")


def first_name_alone(a: PersonNode, b: PersonNode) -> bool:
    """One of the two is printed by first name only (a web page's contact line: 'คุณสมศรี โทร 6628') and it is the
    other's first name (tone marks aside)."""
    def alone(node: PersonNode) -> set[str]:
        return {skeleton for form, skeleton in node.forms if " " not in form}

    def firsts(node: PersonNode) -> set[str]:
        return {skeleton.split(" ")[0] for form, skeleton in node.forms if " " in form}

    return bool(alone(a) & firsts(b) or alone(b) & firsts(a))


def local_nodes(dump: ParsedDump, district_id: str | None, pins: dict[str, dict[str, str]]) -> list[PersonNode]:
    groups: dict[str, list[PersonMention]] = defaultdict(list)
    numbered: Counter[str] = Counter()
    for m in dump.people:
        if m.role in NUMBERED_ROLES:
            key = f"{m.role}:{numbered[m.role]}"
            numbered[m.role] += 1
        else:
            key = m.role
        groups[key].append(m)
    nodes = []
    for key, mentions in sorted(groups.items()):
        family = ROLE_FAMILY[mentions[0].role]
        pinned = {pins.get(family, {}).get(normalize_thai(m.name_th)) or pins.get(family, {}).get(
            normalize_thai(m.raw)) for m in mentions} - {None}
        nodes.append(PersonNode(family, dump.source_file, key, mentions, district_id,
                                pinned_id=min(pinned) if pinned else None))
    return nodes


def _apart_by(node: PersonNode) -> tuple[str, str | None, str | None]:
    """What compare() reads before names: family, the gender of titles, an officer's district."""
    return node.family, node.gender, node.district_id if node.family == "officer" else None


def _kept_apart(a: tuple[str, str | None, str | None], b: tuple[str, str | None, str | None]) -> bool:
    """compare()'s decisions taken before names are compared: different roles, genders, officers' districts."""
    return a[0] != b[0] or (a[1] is not None and b[1] is not None and a[1] != b[1]) or (
        a[2] is not None and b[2] is not None and a[2] != b[2])


def close_pairs(nodes: Sequence[PersonNode], max_edits: int) -> set[tuple[int, int]]:
    """The pairs (i < j) of nodes with a spelling each within max_edits of the other: min_edits(i, j) <=
    max_edits, found for every pair at once (one distance matrix of the distinct spellings, in C) instead of
    spelling pair by spelling pair."""
    holders: dict[str, list[int]] = defaultdict(list)
    for i, node in enumerate(nodes):
        for form, _ in node.forms:
            if " " in form:  # a first name printed alone is close to everyone who has it: no evidence of a pair
                holders[form].append(i)
    forms = list(holders)
    if not forms:
        return set()
    distances = process.cdist(forms, forms, scorer=Levenshtein.distance, score_cutoff=max_edits, dtype=np.int32)
    pairs: set[tuple[int, int]] = set()
    for x, y in zip(*np.nonzero(distances <= max_edits), strict=True):
        for i in holders[forms[x]]:
            for j in holders[forms[y]]:
                if i < j:
                    pairs.add((i, j))
    return pairs


def _blocking_keys(node: PersonNode) -> list[str]:
    keys = []
    if node.phone:
        keys.append(f"{node.family}:phone:{node.phone}")
    for spelling in node.spellings:
        parts = tone_skeleton(spelling).split(" ")
        keys.append(f"{node.family}:first:{parts[0][:2]}")
        if len(parts) > 1:
            keys.append(f"{node.family}:last:{parts[-1][:2]}")
    return keys


def _forbidden_pairs(groups: Sequence[PersonGroup], overrides: Overrides) -> list[tuple[int, int]]:
    pairs = []
    for family in ID_PREFIX:
        for a, b in overrides.forbidden(family):
            left = [i for i, g in enumerate(groups) if g.family == family and _matches(g, a)]
            right = [i for i, g in enumerate(groups) if g.family == family and _matches(g, b)]
            pairs += [(i, j) for i in left for j in right if i != j]
    fixed: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        if g.rep.pinned_id:
            fixed[g.rep.pinned_id].append(i)
    ids = sorted(fixed)
    pairs += [(i, j) for x, a in enumerate(ids) for b in ids[x + 1:] for i in fixed[a] for j in fixed[b]]
    return pairs


def _matches(group: PersonGroup, subject: str) -> bool:
    spellings = group.spellings or group.rep.spellings
    return group.rep.fixed_id == subject or subject in {normalize_thai(s) for s in spellings}


def signature(node: PersonNode) -> tuple:
    """The evidence that decides a link: a dump's majority spelling, phone, gender of title, district
    (for officers), overrides and registry. Nodes that share it are the same person; comparing one
    representative keeps the work bounded by the number of distinct people and spellings, not documents."""
    return (node.family, node.name, node.phone, node.gender,
            node.district_id if node.family == "officer" else None, node.pinned_id,
            node.registry.canonical_id if node.registry else None)


def signature_key(node: PersonNode) -> str:
    """The signature as a short stable text, the join key between staged mentions and resolved identities."""
    return hashlib.sha1("\x1f".join(map(str, signature(node))).encode("utf-8")).hexdigest()[:20]


@dataclass
class PersonGroup:
    """Every document's node with one signature, folded into tallies: what identity resolution keeps in
    memory is bounded by the number of distinct signatures, not of documents. The representative (the
    node of the first file) is what is compared; the tallies are what the identity is published with."""

    key: str
    rep: PersonNode
    nodes: int = 0
    spellings: Counter[str] = field(default_factory=Counter)
    titles: Counter[str] = field(default_factory=Counter)
    positions: Counter[str] = field(default_factory=Counter)
    districts: Counter[str] = field(default_factory=Counter)
    files_digest: int = 0  # XOR of the files' hashes: an order-free fingerprint of where it was seen

    @classmethod
    def of_node(cls, node: PersonNode) -> PersonGroup:
        group = cls(signature_key(node), node)
        group.nodes = 1
        group.spellings.update(node.spellings)
        group.titles.update(m.title_th for m in node.mentions if m.title_th)
        group.positions.update(m.position_th for m in node.mentions if m.position_th)
        if node.district_id:
            group.districts[node.district_id] += 1
        where = f"{node.source_file}\x1f{node.role_key}".encode()
        digest = hashlib.sha1(where).digest()[:8]
        group.files_digest = int.from_bytes(digest, "big")
        return group

    @classmethod
    def of_registry(cls, entry: RegistryEntry) -> PersonGroup:
        node = PersonNode(entry.entity_type, None, None, registry=entry, district_id=entry.district_id)
        return cls(signature_key(node), node)

    @property
    def family(self) -> str:
        return self.rep.family

    @property
    def order(self) -> tuple[str, str]:
        return self.rep.source_file or "", self.rep.role_key or ""

    def merge(self, other: PersonGroup) -> None:
        """Fold another group of the same signature in; the first file's node stays the representative."""
        if other.order < self.order:
            self.rep = other.rep
        self.nodes += other.nodes
        self.spellings.update(other.spellings)
        self.titles.update(other.titles)
        self.positions.update(other.positions)
        self.districts.update(other.districts)
        self.files_digest ^= other.files_digest


@dataclass(frozen=True, slots=True)
class PersonRule:
    """How one spelling of one signature resolves: the entity_alias rows of its mentions come from it."""

    signature_key: str
    name_th: str
    person_id: str
    family: str
    canonical_name: str
    score: float
    method: str


@dataclass(frozen=True)
class PersonResult:
    persons: tuple[Person, ...]
    rules: tuple[PersonRule, ...]
    reviews: tuple[ReviewPair, ...]
    registry: tuple[RegistryEntry, ...]


@dataclass(frozen=True, slots=True)
class _Comparison:
    i: int
    j: int
    link: Link
    forbidden: bool  # the evidence said 'same', an override forbids it
    close: bool  # their spellings are within person_review_max_edits of each other (min_edits)


def resolve_people(groups: Iterable[PersonGroup], settings: MatchSettings, registry: Sequence[RegistryEntry] = (),
                   overrides: Overrides = NO_OVERRIDES, run_id: str | None = None) -> PersonResult:
    """People of a corpus from its folded evidence; the same answer whatever order documents came in."""
    nodes = sorted(groups, key=lambda g: g.order)
    nodes += [PersonGroup.of_registry(r) for r in sorted(registry, key=lambda r: r.canonical_id)
              if r.entity_type in ID_PREFIX]
    reps = [g.rep for g in nodes]
    apart = [_apart_by(r) for r in reps]
    close = close_pairs(reps, settings.person_review_max_edits)
    links: list[tuple[int, int, Link, bool]] = []
    for i, j in blocked_pairs([_blocking_keys(r) for r in reps]):
        if reps[i].registry and reps[j].registry:
            continue  # two registered identities join only through a document's evidence
        near = (i, j) in close
        if not near and _kept_apart(apart[i], apart[j]):
            continue  # compare() would say 'different' before reading names, and names too far for a review
        links.append((i, j, compare(reps[i], reps[j], settings), near))
    # two full names with different phones that compare() tells apart stay apart: no third mention (a first
    # name printed alone, a spelling between them) may join them through the back door of transitivity
    # (measured at 20,000 documents: นางสุนทร ใจดีงาม 6142 and นางสุนทร ทองประเสริฐ 027399186 were one)
    told_apart = [(i, j) for i, j, link, _ in links if not link.same and link.evidence is LinkEvidence.DIFFERENT_PHONES
                  and " " in reps[i].name and " " in reps[j].name]
    clusters = Clusters(len(nodes), _forbidden_pairs(nodes, overrides) + told_apart)
    comparisons = [_Comparison(i, j, link, link.same and not clusters.union(i, j), near)
                   for i, j, link, near in links]
    published = _Published(settings, overrides, run_id, _word_counts(nodes))
    for group in clusters.groups():
        published.add_identity(group, _Tally.of([nodes[i] for i in group]))
    reviews = published.reviews + [r for c in comparisons if (r := published.review(c, nodes))]
    unique_reviews = one_row_per_pair(reviews)
    return PersonResult(tuple(sorted(published.persons, key=lambda p: p.person_id)), tuple(published.rules),
                        tuple(unique_reviews), tuple(sorted(published.registry, key=lambda r: r.canonical_id)))


def _word_counts(groups: Sequence[PersonGroup]) -> Counter[str]:
    """How many mentions of the corpus's people use each word of a name (first names and surnames)."""
    words: Counter[str] = Counter()
    for g in groups:
        for spelling, n in g.spellings.items():
            for word in spelling.split(" "):
                words[word] += n
    return words


@dataclass
class _Tally:
    """The groups of one identity, their evidence added up (registered-only members count for nothing)."""

    members: list[PersonGroup]
    live: list[PersonGroup]
    spellings: Counter[str] = field(default_factory=Counter)
    phones: Counter[str] = field(default_factory=Counter)
    districts: Counter[str] = field(default_factory=Counter)
    titles: Counter[str] = field(default_factory=Counter)
    positions: Counter[str] = field(default_factory=Counter)
    digest: int = 0

    @classmethod
    def of(cls, members: list[PersonGroup]) -> _Tally:
        tally = cls(members, [m for m in members if m.nodes])
        for m in tally.live:
            tally.spellings.update(m.spellings)
            if m.rep.phone:
                tally.phones[m.rep.phone] += m.nodes  # a node's phone is part of its signature
            tally.districts.update(m.districts)
            tally.titles.update(m.titles)
            tally.positions.update(m.positions)
            tally.digest ^= m.files_digest
        return tally

    @property
    def family(self) -> str:
        return self.members[0].family

    @property
    def fixed_ids(self) -> list[str]:
        """Pinned ids, else the ids earlier runs registered for its members, sorted."""
        return sorted({m.rep.pinned_id for m in self.members if m.rep.pinned_id}) or sorted(
            {m.rep.registry.canonical_id for m in self.members if m.rep.registry})

    @property
    def registered(self) -> dict[str, RegistryEntry]:
        return {m.rep.registry.canonical_id: m.rep.registry for m in self.members if m.rep.registry}


class _Published:
    """Identities as they are published: persons, the rules their spellings resolve by, the registry,
    and the pairs to review."""

    def __init__(self, settings: MatchSettings, overrides: Overrides, run_id: str | None, words: Counter[str]):
        self.settings, self.overrides, self.run_id, self.words = settings, overrides, run_id, words
        self.persons: list[Person] = []
        self.rules: list[PersonRule] = []
        self.registry: list[RegistryEntry] = []
        self.reviews: list[ReviewPair] = []
        self.id_of_node: dict[int, str] = {}
        self.name_of_id: dict[str, str] = {}
        self.used: set[str] = set()

    def add_identity(self, group: list[int], tally: _Tally) -> None:
        family, fixed = tally.family, tally.fixed_ids
        # a first name printed alone names the person less well than any full name of theirs
        full = Counter({s: n for s, n in tally.spellings.items() if " " in s}) or tally.spellings
        # and a spelling Thai writing cannot have (OCR's 'ณ์ฐพิมล', a letter unread) less well than one it can
        full = Counter({s: n for s, n in full.items() if well_formed(s)}) or full
        name = most_frequent(full, self._usual_first) or tally.members[0].rep.name
        phone = most_frequent(tally.phones) or tally.members[0].rep.phone
        district = most_frequent(tally.districts)
        pid = fixed[0] if fixed else self._new_id(family, name, phone, district, tally.digest)
        name = self.overrides.renames(family).get(pid, name)
        self.name_of_id[pid] = name
        self.id_of_node.update((i, pid) for i in group)
        registered = tally.registered
        self.reviews += [ReviewPair(family, pid, name, other, registered[other].canonical_name, 100.0,
                                    Decision.MERGED, "two registered identities joined by new evidence; "
                                    f"{other} now resolves to {pid}") for other in fixed[1:] if other in registered]
        previous = registered.get(pid)
        self.registry.append(RegistryEntry(
            family, pid, name, phone, district,
            tuple(sorted(set(tally.spellings) | set(previous.spellings if previous else ()))),
            previous.first_run_id if previous else self.run_id))
        if not tally.live:
            return  # registered earlier, absent from today's documents: kept in the registry only
        self.persons.append(Person(pid, family, name, most_frequent(tally.titles), phone,
                                   most_frequent(tally.positions), district))
        for m in tally.live:
            for spelling in sorted(m.spellings):
                score = round(name_score(spelling, name, self.settings), 1)
                method = ("pinned" if m.rep.pinned_id else "exact" if spelling == name
                          else "same_field_other_renderings" if m.rep.name == name else "cross_document_evidence")
                self.rules.append(PersonRule(m.key, spelling, pid, family, name, score, method))

    def _usual_first(self, spelling: str) -> tuple[int, int, str]:
        """Between spellings seen equally often, the one whose words other people's names use most: names
        repeat across people, an OCR error of one rarely does; then the shortest."""
        return -sum(self.words[w] for w in spelling.split(" ")), len(spelling), spelling

    def _new_id(self, family: str, name: str, phone: str | None, district: str | None, digest: int) -> str:
        pid = stable_id(ID_PREFIX[family], name, phone or "", district if family == "officer" else "")
        if pid in self.used:  # two people with one name and phone: where they were seen tells them apart
            pid = stable_id(ID_PREFIX[family], name, phone or "", f"{digest:016x}")
        self.used.add(pid)
        return pid

    def review(self, c: _Comparison, nodes: list[PersonGroup]) -> ReviewPair | None:
        """A comparison worth a look: two identities kept apart although their names are OCR-close, or one
        merged although some evidence speaks against it (two phones)."""
        a, b = self.id_of_node[c.i], self.id_of_node[c.j]
        same = c.link.same and not c.forbidden
        if a == b and not (same and c.link.evidence.against):
            return None
        if a != b and not c.close:
            return None
        left, right = sorted((a, b))
        detail = c.link.detail + ("; merge forbidden by an override" if c.forbidden else "")
        score = c.link.score_of(nodes[c.i].rep, nodes[c.j].rep, self.settings)
        return ReviewPair(nodes[c.i].family, left, self.name_of_id[left], right, self.name_of_id[right],
                          round(score, 1), Decision.MERGED if a == b else Decision.KEPT_APART, detail)
