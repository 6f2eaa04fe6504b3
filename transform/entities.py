"""Entity resolution of a corpus: districts, then people and schools, then networks.

Identities of earlier runs (the registry) and analyst overrides are inputs, so ids are stable as
documents are added and an analyst's decision holds at the next run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from extract.reference import District, Reference
from schoolnet.settings import MatchSettings
from transform.districts import resolve_district
from transform.identity import NO_OVERRIDES, Alias, Overrides, RegistryEntry, ReviewPair
from transform.persons import Person, resolve_people
from transform.records import Finding, ParsedDump
from transform.schools import School, resolve_schools

__all__ = ["Alias", "Person", "Resolution", "School", "resolve_entities"]


@dataclass(frozen=True)
class Resolution:
    district_of: dict[str, District | None]  # source_file -> district
    person_of: dict[tuple[str, str], str]  # (source_file, role key) -> person_id
    persons: tuple[Person, ...]
    schools: tuple[School, ...]
    networks: dict[int, str | None]  # network_no -> district_id
    aliases: tuple[Alias, ...]
    findings: tuple[tuple[str, Finding], ...]  # (source_file, finding)
    reviews: tuple[ReviewPair, ...] = ()
    registry: tuple[RegistryEntry, ...] = ()


def resolve_entities(dumps: Sequence[ParsedDump], reference: Reference, settings: MatchSettings,
                     registry: Sequence[RegistryEntry] = (), overrides: Overrides = NO_OVERRIDES,
                     run_id: str | None = None) -> Resolution:
    """All identities of a corpus; deterministic whatever the order of the dumps."""
    dumps = sorted(dumps, key=lambda d: d.source_file)
    district_of: dict[str, District | None] = {}
    aliases: list[Alias] = []
    findings: list[tuple[str, Finding]] = []
    for dump in dumps:
        district, district_aliases, district_findings = resolve_district(dump, reference, settings)
        district_of[dump.source_file] = district
        aliases.extend(district_aliases)
        findings.extend((dump.source_file, f) for f in district_findings)
    district_ids = {f: (d.district_id if d else None) for f, d in district_of.items()}
    people = resolve_people(dumps, district_ids, settings, registry, overrides, run_id)
    schools = resolve_schools(dumps, district_ids, reference, settings, registry, overrides, run_id)
    networks = _networks(dumps, district_ids, schools.schools, findings)
    previous_ids = {r.canonical_id: r for r in registry}
    registry_out = list(people.registry) + list(schools.registry)
    listed = {r.canonical_id for r in registry_out}
    registry_out += [RegistryEntry("school", s.school_id, s.name_th, None, s.district_id, (),
                                   getattr(previous_ids.get(s.school_id), "first_run_id", None) or run_id)
                     for s in schools.schools if s.school_id not in listed]
    listed |= {s.school_id for s in schools.schools}
    registry_out += [r for r in registry if r.canonical_id not in listed]  # ids never disappear
    return Resolution(district_of, people.person_of, people.persons, schools.schools, networks,
                      tuple(aliases) + people.aliases + schools.aliases, tuple(findings) + schools.findings,
                      people.reviews + schools.reviews,
                      tuple(sorted(registry_out, key=lambda r: (r.entity_type, r.canonical_id))))


def _networks(dumps: Sequence[ParsedDump], district_ids: dict[str, str | None], schools: Sequence[School],
              findings: list[tuple[str, Finding]]) -> dict[int, str | None]:
    networks: dict[int, str | None] = {}
    for dump in dumps:
        did = district_ids[dump.source_file]
        for no in dump.networks:
            if networks.get(no) not in (None, did) and did is not None:
                findings.append((dump.source_file, Finding(
                    "network_in_two_districts", "warning",
                    f"network {no} is in district {networks[no]} elsewhere, {did} here; kept {networks[no]}")))
                continue
            if networks.get(no) is None:
                networks[no] = did
    for school in schools:
        if school.network_no is not None and networks.get(school.network_no) is None:
            networks[school.network_no] = school.district_id
    return dict(sorted(networks.items()))
