"""Entity resolution of a corpus: the evidence of every document is folded into bounded tallies as
documents are parsed (in the parsing workers, batch by batch), then people, schools and networks are
resolved from the tallies.

What is kept per document (which file mentions which spelling) never stays in memory: it is staged to
Parquet beside the facts, and the rules resolved here (signature and spelling -> id) are joined to it
in DuckDB. Identities of earlier runs (the registry) and analyst overrides are inputs, so ids are stable
as documents are added and an analyst's decision holds at the next run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from common.records import NO_OVERRIDES, Overrides, ParsedDump, Reference
from common.settings import MatchSettings
from transform.identity import RegistryEntry, ReviewPair
from transform.persons import ID_PREFIX, Person, PersonGroup, PersonNode, PersonRule, local_nodes, resolve_people
from transform.schools import School, SchoolKey, SchoolRule, resolve_schools

__all__ = ["Evidence", "Person", "Resolution", "School", "resolve_entities"]


@dataclass
class Evidence:
    """What identity resolution needs of a corpus, folded document by document. Its size grows with the
    number of distinct people, spellings and networks, not with the number of documents; two partial
    folds merge into the fold of both, in any order."""

    people: dict[str, PersonGroup] = field(default_factory=dict)
    schools: Counter[SchoolKey] = field(default_factory=Counter)  # distinct mention -> documents
    network_home: dict[int, tuple[str, str]] = field(default_factory=dict)  # network -> (first file, district)
    networks: set[int] = field(default_factory=set)

    def add_document(self, dump: ParsedDump, district_id: str | None, pins: dict[str, dict[str, str]],
                     home: str | None = None) -> list[tuple[PersonNode, str]]:
        """Fold one document in; returns its person nodes with their signature keys (for its mention rows).
        home: what its officers belong to (their district, or a department's agency code; default the district)."""
        nodes = []
        for node in local_nodes(dump, home or district_id, pins):
            group = PersonGroup.of_node(node)
            self._add_people(group)
            nodes.append((node, group.key))
        for s in set(dump.schools):
            self.schools[SchoolKey(s.raw, s.name_th, district_id, s.network_no, s.tail, s.same_line)] += 1
        for no in dump.networks:
            self.networks.add(no)
            if district_id is not None:
                self._add_home(no, dump.source_file, district_id)
        return nodes

    def merge(self, other: Evidence) -> None:
        for group in other.people.values():
            self._add_people(group)
        self.schools.update(other.schools)
        self.networks |= other.networks
        for no, (source_file, district_id) in other.network_home.items():
            self._add_home(no, source_file, district_id)

    def _add_people(self, group: PersonGroup) -> None:
        known = self.people.get(group.key)
        if known is None:
            self.people[group.key] = group
        else:
            known.merge(group)

    def _add_home(self, no: int, source_file: str, district_id: str) -> None:
        """A network belongs to the district of the first file (by name) that places it in one."""
        known = self.network_home.get(no)
        if known is None or source_file < known[0]:
            self.network_home[no] = (source_file, district_id)


def fold_documents(documents: Iterable[tuple[ParsedDump, str | None]], overrides: Overrides = NO_OVERRIDES,
                   ) -> Evidence:
    """The evidence of (dump, district_id) pairs, for callers that hold the dumps (tests, small corpora)."""
    evidence = Evidence()
    pins = person_pins(overrides)
    for dump, district_id in documents:
        evidence.add_document(dump, district_id, pins)
    return evidence


def person_pins(overrides: Overrides) -> dict[str, dict[str, str]]:
    return {family: overrides.pins(family) for family in ID_PREFIX}


@dataclass(frozen=True)
class Resolution:
    persons: tuple[Person, ...]
    schools: tuple[School, ...]
    networks: dict[int, str | None]  # network_no -> district_id
    person_rules: tuple[PersonRule, ...]
    school_rules: tuple[SchoolRule, ...]
    reviews: tuple[ReviewPair, ...] = ()
    registry: tuple[RegistryEntry, ...] = ()


def resolve_entities(evidence: Evidence, reference: Reference, settings: MatchSettings,
                     registry: Sequence[RegistryEntry] = (), overrides: Overrides = NO_OVERRIDES,
                     run_id: str | None = None) -> Resolution:
    """All identities of a corpus from its folded evidence; deterministic whatever the order of documents."""
    people = resolve_people(evidence.people.values(), settings, registry, overrides, run_id)
    schools = resolve_schools(evidence.schools, reference, settings, registry, overrides, run_id)
    networks = _networks(evidence, schools.schools)
    previous_ids = {r.canonical_id: r for r in registry}
    registry_out = list(people.registry) + list(schools.registry)
    listed = {r.canonical_id for r in registry_out}
    registry_out += [RegistryEntry("school", s.school_id, s.name_th, None, s.district_id, (),
                                   getattr(previous_ids.get(s.school_id), "first_run_id", None) or run_id)
                     for s in schools.schools if s.school_id not in listed]
    listed |= {s.school_id for s in schools.schools}
    registry_out += [r for r in registry if r.canonical_id not in listed]  # ids never disappear
    return Resolution(people.persons, schools.schools, networks, people.rules, schools.rules,
                      people.reviews + schools.reviews,
                      tuple(sorted(registry_out, key=lambda r: (r.entity_type, r.canonical_id))))


def _networks(evidence: Evidence, schools: Sequence[School]) -> dict[int, str | None]:
    """Each network's district: the first file's that places it (a file that places it elsewhere gets a
    network_in_two_districts finding when the warehouse is assembled), else its schools'."""
    networks: dict[int, str | None] = {no: None for no in evidence.networks}
    for no, (_, district_id) in evidence.network_home.items():
        networks[no] = district_id
    for school in schools:
        if school.network_no is not None and networks.get(school.network_no) is None:
            networks[school.network_no] = school.district_id
    return dict(sorted(networks.items()))
