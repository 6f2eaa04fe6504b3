"""People: one identity per real coordinator or officer.

Within a dump, every rendering of one field is one person (that is the strongest evidence there is).
Across dumps, two people link when the evidence agrees: the same phone with a similar name, or a
near-identical name with no phone to contradict it, never across genders of title, and for district
officers never across districts. Identities of earlier runs take part as nodes, so their ids survive.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from schoolnet.settings import MatchSettings
from transform.identity import (
    NO_OVERRIDES,
    Alias,
    Clusters,
    Overrides,
    RegistryEntry,
    ReviewPair,
    blocked_pairs,
    most_frequent,
    stable_id,
)
from transform.normalize import normalize_thai, tone_skeleton
from transform.records import ParsedDump, PersonMention

ROLE_FAMILY = {"coordinator": "coordinator", "officer": "officer", "signatory": "officer"}
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
    """A person as one dump shows them (all renderings of one field), or as an earlier run registered them."""

    family: str
    source_file: str | None
    role_key: str | None
    mentions: list[PersonMention] = field(default_factory=list)
    district_id: str | None = None
    registry: RegistryEntry | None = None
    pinned_id: str | None = None

    @property
    def spellings(self) -> Counter[str]:
        if self.mentions:
            return Counter(m.name_th for m in self.mentions)
        return Counter(self.registry.spellings or (self.registry.canonical_name,)) if self.registry else Counter()

    @property
    def name(self) -> str:
        counts = self.spellings
        if self.registry and not self.mentions:
            return self.registry.canonical_name
        return most_frequent(counts, _shortest_first)

    @property
    def phone(self) -> str | None:
        if self.registry and not self.mentions:
            return self.registry.phone
        return most_frequent(Counter(m.phone for m in self.mentions if m.phone))

    @property
    def gender(self) -> str | None:
        genders = {_GENDER.get(t) for m in self.mentions for t in (m.title_th or "").split()} - {None}
        return genders.pop() if len(genders) == 1 else None

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
    return max(name_score(x, y, settings) for x in a.spellings for y in b.spellings)


def min_edits(a: PersonNode, b: PersonNode) -> int:
    """Fewest character edits between any spelling of one and any spelling of the other."""
    return min(_edits(*sorted((x, y))) for x in a.spellings for y in b.spellings)


@lru_cache(maxsize=1 << 18)
def _edits(a: str, b: str) -> int:
    return Levenshtein.distance(normalize_thai(a), normalize_thai(b))


def compare(a: PersonNode, b: PersonNode, settings: MatchSettings) -> tuple[bool, float, str]:
    """(same person?, name score, evidence in words)."""
    if a.family != b.family:
        return False, 0.0, "different roles"
    score = best_name_score(a, b, settings)
    if a.gender and b.gender and a.gender != b.gender:
        return False, score, "titles of different genders"
    if a.family == "officer" and a.district_id and b.district_id and a.district_id != b.district_id:
        return False, score, f"officers of different districts ({a.district_id}, {b.district_id})"
    if a.phone and b.phone:
        if a.phone == b.phone:
            return score >= settings.person_same_phone_min_score, score, f"same phone {a.phone}"
        identical = tone_skeleton(a.name) == tone_skeleton(b.name)
        return identical, score, f"different phones ({a.phone}, {b.phone})" + (", same name" if identical else "")
    edits = min_edits(a, b)
    close = edits <= settings.person_name_only_max_edits
    if a.family == "officer" and a.district_id and a.district_id == b.district_id:
        return (score >= settings.person_same_district_min_score and close, score,
                f"no phone on one side: name ({edits} edits) and district {a.district_id}")
    return (score >= settings.person_no_phone_min_score and close, score,
            f"no phone on one side: name only ({edits} edits)")


def local_nodes(dump: ParsedDump, district_id: str | None, pins: dict[str, dict[str, str]]) -> list[PersonNode]:
    groups: dict[str, list[PersonMention]] = defaultdict(list)
    signatory_no = 0
    for m in dump.people:
        if m.role == "signatory":
            key = f"signatory:{signatory_no}"
            signatory_no += 1
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


def _forbidden_pairs(nodes: Sequence[PersonNode], overrides: Overrides) -> list[tuple[int, int]]:
    pairs = []
    for family in ID_PREFIX:
        for a, b in overrides.forbidden(family):
            left = [i for i, n in enumerate(nodes) if n.family == family and _matches(n, a)]
            right = [i for i, n in enumerate(nodes) if n.family == family and _matches(n, b)]
            pairs += [(i, j) for i in left for j in right if i != j]
    fixed: dict[str, list[int]] = defaultdict(list)
    for i, n in enumerate(nodes):
        if n.pinned_id:
            fixed[n.pinned_id].append(i)
    ids = sorted(fixed)
    pairs += [(i, j) for x, a in enumerate(ids) for b in ids[x + 1:] for i in fixed[a] for j in fixed[b]]
    return pairs


def _matches(node: PersonNode, subject: str) -> bool:
    return node.fixed_id == subject or subject in {normalize_thai(s) for s in node.spellings}


@dataclass(frozen=True)
class PersonResult:
    persons: tuple[Person, ...]
    person_of: dict[tuple[str, str], str]
    aliases: tuple[Alias, ...]
    reviews: tuple[ReviewPair, ...]
    registry: tuple[RegistryEntry, ...]


def resolve_people(dumps: Sequence[ParsedDump], district_of: dict[str, str | None], settings: MatchSettings,
                   registry: Sequence[RegistryEntry] = (), overrides: Overrides = NO_OVERRIDES,
                   run_id: str | None = None) -> PersonResult:
    pins = {family: overrides.pins(family) for family in ID_PREFIX}
    nodes = [n for d in sorted(dumps, key=lambda d: d.source_file)
             for n in local_nodes(d, district_of.get(d.source_file), pins)]
    nodes += [PersonNode(r.entity_type, None, None, registry=r, district_id=r.district_id)
              for r in sorted(registry, key=lambda r: r.canonical_id) if r.entity_type in ID_PREFIX]
    clusters = Clusters(len(nodes), _forbidden_pairs(nodes, overrides))
    reviews: list[ReviewPair] = []
    decisions: list[tuple[int, int, bool, float, str]] = []
    # nodes with the same evidence need no comparison (a coordinator is in thousands of documents):
    # join them at once and compare one representative of each kind
    first_of: dict[tuple, int] = {}
    for i, n in enumerate(nodes):
        rep = first_of.setdefault(_signature(n), i)
        if rep != i:
            clusters.union(rep, i)
    reps = sorted(first_of.values())
    for x, y in blocked_pairs([_blocking_keys(nodes[i]) for i in reps]):
        i, j = reps[x], reps[y]
        if nodes[i].registry and nodes[j].registry:
            continue  # two registered identities join only through a document's evidence
        same, score, evidence = compare(nodes[i], nodes[j], settings)
        if same:
            same = clusters.union(i, j)
            if not same:
                evidence += "; merge forbidden by an override"
        decisions.append((i, j, same, score, evidence))
    return _publish(nodes, clusters, decisions, settings, overrides, run_id, reviews)


def _signature(node: PersonNode) -> tuple:
    """The evidence that decides a link: a dump's majority spelling, phone, gender of title, district
    (for officers), overrides and registry. Nodes that share it are the same person; comparing one
    representative keeps the work bounded by the number of distinct people and spellings, not documents."""
    return (node.family, node.name, node.phone, node.gender,
            node.district_id if node.family == "officer" else None, node.pinned_id,
            node.registry.canonical_id if node.registry else None)


def _publish(nodes: list[PersonNode], clusters: Clusters, decisions, settings: MatchSettings,  # noqa: ANN001
             overrides: Overrides, run_id: str | None, reviews: list[ReviewPair]) -> PersonResult:
    persons: list[Person] = []
    person_of: dict[tuple[str, str], str] = {}
    aliases: list[Alias] = []
    registry_out: list[RegistryEntry] = []
    id_of_node: dict[int, str] = {}
    name_of_id: dict[str, str] = {}
    used: set[str] = set()
    for group in clusters.groups():
        members = [nodes[i] for i in group]
        family = members[0].family
        live = [m for m in members if m.mentions]
        spellings: Counter[str] = Counter()
        for m in live:
            spellings.update(m.spellings)
        fixed = sorted({m.pinned_id for m in members if m.pinned_id}) or sorted(
            {m.registry.canonical_id for m in members if m.registry})
        registered = {m.registry.canonical_id: m.registry for m in members if m.registry}
        name = most_frequent(spellings, _shortest_first) or members[0].name
        phone = most_frequent(Counter(m.phone for m in live if m.phone)) or members[0].phone
        district = most_frequent(Counter(m.district_id for m in live if m.district_id))
        if fixed:
            pid = fixed[0]
        else:
            pid = stable_id(ID_PREFIX[family], name, phone or "", district if family == "officer" else "")
            if pid in used:
                pid = stable_id(ID_PREFIX[family], name, phone or "", *sorted(m.source_file for m in live))
        used.add(pid)
        name = overrides.renames(family).get(pid, name)
        name_of_id[pid] = name
        for i in group:
            id_of_node[i] = pid
        for other in fixed[1:]:
            if other in registered:
                reviews.append(ReviewPair(family, pid, name, other, registered[other].canonical_name, 100.0,
                                          "merged", "two registered identities joined by new evidence; "
                                          f"{other} now resolves to {pid}"))
        previous = registered.get(pid)
        registry_out.append(RegistryEntry(
            family, pid, name, phone, district,
            tuple(sorted(set(spellings) | set(previous.spellings if previous else ()))),
            previous.first_run_id if previous else run_id))
        if not live:
            continue  # registered earlier, absent from today's documents: kept in the registry only
        title = most_frequent(Counter(mm.title_th for m in live for mm in m.mentions if mm.title_th))
        position = most_frequent(Counter(mm.position_th for m in live for mm in m.mentions if mm.position_th))
        persons.append(Person(pid, family, name, title, phone, position, district))
        for m in live:
            person_of[(m.source_file, m.role_key)] = pid
            own = m.name
            for raw, mention in sorted({mm.raw: mm for mm in m.mentions}.items()):
                score = round(name_score(mention.name_th, name, settings), 1)
                method = ("pinned" if m.pinned_id else "exact" if mention.name_th == name
                          else "same_field_other_renderings" if own == name else "cross_document_evidence")
                aliases.append(Alias(family, raw, pid, name, score, method, m.source_file))
    for i, j, same, score, evidence in decisions:
        a, b = id_of_node[i], id_of_node[j]
        if a == b and not same:
            continue
        borderline = settings.person_review_min_score <= score < settings.person_review_max_score
        if borderline and (a != b or "phone" not in evidence or "different" in evidence):
            left, right = sorted((a, b))
            reviews.append(ReviewPair(nodes[i].family, left, name_of_id[left], right, name_of_id[right],
                                      round(score, 1), "merged" if a == b else "kept_apart", evidence))
    unique_reviews = sorted(set(reviews), key=lambda r: (r.entity_type, r.left_id, r.right_id, r.decision))
    return PersonResult(tuple(sorted(persons, key=lambda p: p.person_id)), person_of, tuple(aliases),
                        tuple(unique_reviews), tuple(sorted(registry_out, key=lambda r: r.canonical_id)))
