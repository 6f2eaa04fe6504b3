"""Entity resolution: one identity per district, person and school, with every raw spelling kept.

Evidence first: a district is the one all of a dump's mentions (and its project code) point to
together; a person's renderings of one field in one dump are one person; across dumps, names link
only with agreeing phones, or when nearly identical; schools resolve to the registry of their district.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from extract.reference import District, Reference, RegistrySchool
from schoolnet.settings import MatchSettings
from transform.normalize import normalize_thai, tone_skeleton
from transform.records import Finding, ParsedDump, PersonMention

ROLE_FAMILY = {"coordinator": "coordinator", "officer": "officer", "signatory": "officer"}


@dataclass(frozen=True)
class Alias:
    entity_type: str  # 'district', 'coordinator', 'officer', 'school'
    raw_text: str
    canonical_id: str | None
    canonical_name: str | None
    score: float
    method: str
    source_file: str


@dataclass(frozen=True)
class Person:
    person_id: str
    family: str  # 'coordinator' or 'officer'
    name_th: str
    title_th: str | None
    phone: str | None
    position_th: str | None


@dataclass(frozen=True)
class School:
    school_id: str
    name_th: str
    network_no: int | None
    district_id: str | None
    in_registry: bool


@dataclass(frozen=True)
class Resolution:
    district_of: dict[str, District | None]  # source_file -> district
    person_of: dict[tuple[str, str], str]  # (source_file, role key) -> person_id
    persons: tuple[Person, ...]
    schools: tuple[School, ...]
    networks: dict[int, str | None]  # network_no -> district_id
    aliases: tuple[Alias, ...]
    findings: tuple[tuple[str, Finding], ...]  # (source_file, finding)


def stable_id(prefix: str, *parts: object) -> str:
    """An id from the identity's defining evidence, not from row order or file order."""
    digest = hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:12]
    return f"{prefix}-{digest}"


def name_score(a: str, b: str, settings: MatchSettings) -> float:
    """Similarity of two names: plain, or with tone marks removed at a small penalty."""
    plain = fuzz.ratio(normalize_thai(a), normalize_thai(b))
    skeleton = fuzz.ratio(tone_skeleton(a), tone_skeleton(b)) - settings.person_tone_skeleton_penalty
    return max(plain, skeleton)


# -- districts ---------------------------------------------------------------------------------------

def resolve_district(dump: ParsedDump, reference: Reference, settings: MatchSettings,
                     ) -> tuple[District | None, list[Alias], list[Finding]]:
    """Combine the evidence of every mention (and the project code) instead of the nearest single name."""
    by_id = {d.district_id: d for d in reference.districts}
    mentions = [normalize_thai(m) for m in dump.district_mentions if m.strip()]
    code = dump.header.project_code
    code_district = by_id.get(code[:4]) if code else None
    findings: list[Finding] = []
    scores = {d.district_id: sum(fuzz.ratio(m, d.name_th) for m in mentions) / len(mentions)
              for d in reference.districts} if mentions else {}
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    chosen: District | None = None
    method = "unresolved"
    if code_district is not None:
        chosen, method = code_district, "project_code"
        if ranked and ranked[0][0] != code_district.district_id and ranked[0][1] >= 95:
            findings.append(Finding("district_code_name_mismatch", "warning",
                                    f"project code says {code_district.name_th}, the text says "
                                    f"{by_id[ranked[0][0]].name_th}; kept the code's district"))
    elif ranked:
        (best_id, best), runner = ranked[0], (ranked[1][1] if len(ranked) > 1 else 0.0)
        if best >= 100:
            chosen, method = by_id[best_id], "exact"
        elif best >= settings.district_min_mean_score and best - runner >= settings.district_min_margin:
            chosen, method = by_id[best_id], "fuzzy_combined"
            findings.append(Finding("district_resolved_fuzzily", "warning",
                                    f"mentions ({', '.join(sorted(set(mentions)))}) do not all spell one district; "
                                    f"all {len(mentions)} mentions together point to {by_id[best_id].name_th} "
                                    f"(mean score {best:.1f}, next {runner:.1f})"))
    if chosen is None:
        findings.append(Finding("district_unresolved", "warning",
                                f"district not resolved from mentions {sorted(set(mentions))}"))
    aliases = [
        Alias("district", raw, chosen.district_id if chosen else None, chosen.name_th if chosen else None,
              round(fuzz.ratio(raw, chosen.name_th), 1) if chosen else 0.0,
              "exact" if chosen and raw == chosen.name_th else method, dump.source_file)
        for raw in sorted(set(mentions))
    ]
    return chosen, aliases, findings


# -- people ------------------------------------------------------------------------------------------

@dataclass
class _LocalPerson:
    """One person as one dump shows them: all renderings of one field."""

    source_file: str
    role_key: str
    family: str
    mentions: list[PersonMention]
    district_id: str | None

    @property
    def spelling_counts(self) -> Counter[str]:
        return Counter(m.name_th for m in self.mentions)

    @property
    def phone(self) -> str | None:
        phones = Counter(m.phone for m in self.mentions if m.phone)
        return phones.most_common(1)[0][0] if phones else None

    @property
    def name(self) -> str:
        counts = self.spelling_counts
        return max(counts, key=lambda s: (counts[s], -len(s), s))


def local_people(dump: ParsedDump, district_id: str | None) -> list[_LocalPerson]:
    groups: dict[str, list[PersonMention]] = defaultdict(list)
    signatory_no = 0
    for m in dump.people:
        if m.role == "signatory":
            key = f"signatory:{signatory_no}"
            signatory_no += 1
        else:
            key = m.role
        groups[key].append(m)
    return [_LocalPerson(dump.source_file, key, ROLE_FAMILY[ms[0].role], ms, district_id)
            for key, ms in sorted(groups.items())]


def _same_person(a: _LocalPerson, b: _LocalPerson, settings: MatchSettings) -> tuple[bool, float]:
    score = name_score(a.name, b.name, settings)
    if a.phone and b.phone:
        if a.phone == b.phone:
            return score >= settings.person_same_phone_min_score, score
        return normalize_thai(a.name) == normalize_thai(b.name), score  # another phone: only the same name
    return score >= settings.person_no_phone_min_score, score


def cluster_people(people: Sequence[_LocalPerson], settings: MatchSettings) -> list[list[_LocalPerson]]:
    """Union of local people that are the same person; blocked by phone and by name prefix."""
    parent = list(range(len(people)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    blocks: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, p in enumerate(people):
        if p.phone:
            blocks[(p.family, "phone:" + p.phone)].append(i)
        skeleton = tone_skeleton(p.name).replace(" ", "")
        blocks[(p.family, "name:" + skeleton[:2])].append(i)
    for members in blocks.values():
        for x, i in enumerate(members):
            for j in members[x + 1:]:
                if find(i) != find(j) and _same_person(people[i], people[j], settings)[0]:
                    parent[find(j)] = find(i)
    clusters: dict[int, list[_LocalPerson]] = defaultdict(list)
    for i, p in enumerate(people):
        clusters[find(i)].append(p)
    return list(clusters.values())


def resolve_people(dumps: Sequence[ParsedDump], district_of: dict[str, District | None],
                   settings: MatchSettings) -> tuple[list[Person], dict[tuple[str, str], str], list[Alias]]:
    pool = [lp for d in dumps for lp in local_people(d, getattr(district_of.get(d.source_file), "district_id",
                                                                  None))]
    persons: list[Person] = []
    person_of: dict[tuple[str, str], str] = {}
    aliases: list[Alias] = []
    for cluster in cluster_people(pool, settings):
        spellings: Counter[str] = Counter()
        titles: Counter[str] = Counter()
        phones: Counter[str] = Counter()
        positions: Counter[str] = Counter()
        for lp in cluster:
            spellings.update(lp.spelling_counts)
            titles.update(m.title_th for m in lp.mentions if m.title_th)
            phones.update(m.phone for m in lp.mentions if m.phone)
            positions.update(m.position_th for m in lp.mentions if m.position_th)
        name = max(spellings, key=lambda s: (spellings[s], -len(s), s))
        phone = max(phones, key=lambda p: (phones[p], p)) if phones else None
        family = cluster[0].family
        person = Person(stable_id(family[:4], name, phone or ""), family, name,
                        max(titles, key=lambda t: (titles[t], t)) if titles else None, phone,
                        max(positions, key=lambda p: (positions[p], p)) if positions else None)
        persons.append(person)
        for lp in cluster:
            person_of[(lp.source_file, lp.role_key)] = person.person_id
            for raw in sorted({m.raw for m in lp.mentions}):
                mention = next(m for m in lp.mentions if m.raw == raw)
                score = round(name_score(mention.name_th, name, settings), 1)
                method = ("exact" if mention.name_th == name else
                          "same_field_other_renderings" if lp.name == name else "phone_and_name")
                aliases.append(Alias(family, raw, person.person_id, name, score, method, lp.source_file))
    persons.sort(key=lambda p: p.person_id)
    return persons, person_of, aliases


# -- schools -----------------------------------------------------------------------------------------

def match_registry(name: str, district_id: str | None, reference: Reference,
                   settings: MatchSettings) -> tuple[RegistrySchool | None, float, float]:
    """Best registry school for a spelling, within its district when known: (school, score, runner-up)."""
    pool = [s for s in reference.schools if district_id is None or s.district_id == district_id]
    scored = []
    for s in pool:
        score = max(fuzz.ratio(name, s.name_th), fuzz.ratio(tone_skeleton(name), tone_skeleton(s.name_th)) - 2,
                    fuzz.ratio(name, s.short_th) if s.short_th else 0.0)
        scored.append((score, s.name_th, s))
    scored.sort(key=lambda t: (-t[0], t[1]))
    if not scored or scored[0][0] < settings.school_min_score:
        return None, scored[0][0] if scored else 0.0, 0.0
    return scored[0][2], scored[0][0], scored[1][0] if len(scored) > 1 else 0.0


def resolve_schools(dumps: Sequence[ParsedDump], district_of: dict[str, District | None], reference: Reference,
                    settings: MatchSettings) -> tuple[list[School], list[Alias], list[tuple[str, Finding]]]:
    found: dict[str, dict] = {}
    aliases: list[Alias] = []
    findings: list[tuple[str, Finding]] = []
    for dump in dumps:
        district = district_of.get(dump.source_file)
        district_id = district.district_id if district else None
        for raw in sorted({(s.raw, s.name_th, s.network_no) for s in dump.schools}):
            raw_text, name, network = raw
            school, score, runner = match_registry(name, district_id, reference, settings)
            if school is not None:
                sid = stable_id("sch", school.name_th, school.district_id)
                canonical, sdistrict, in_registry = school.name_th, school.district_id, True
                method = "registry_exact" if score >= 100 else "registry_fuzzy"
                if score < 100 and score - runner < settings.school_review_margin:
                    findings.append((dump.source_file, Finding(
                        "school_match_borderline", "warning",
                        f"{raw_text} -> {school.name_th} scored {score:.1f}, runner-up {runner:.1f}")))
            else:
                canonical, sdistrict, in_registry = name, district_id, False
                sid = stable_id("sch", name, district_id or "")
                method = "not_in_registry"
                findings.append((dump.source_file, Finding(
                    "school_not_in_registry", "warning",
                    f"{raw_text} matches no registry school of district {district_id} (best {score:.1f}); "
                    "kept as spelled, for review")))
            entry = found.setdefault(sid, {"name": canonical, "district": sdistrict, "registry": in_registry,
                                           "networks": Counter()})
            if network is not None:
                entry["networks"][network] += 1
            aliases.append(Alias("school", raw_text, sid, canonical, round(score, 1), method, dump.source_file))
    schools = [School(sid, e["name"], max(e["networks"], key=lambda n: (e["networks"][n], -n))
                      if e["networks"] else None, e["district"], e["registry"]) for sid, e in sorted(found.items())]
    return schools, aliases, findings


# -- everything --------------------------------------------------------------------------------------

def resolve_entities(dumps: Sequence[ParsedDump], reference: Reference, settings: MatchSettings) -> Resolution:
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
    persons, person_of, person_aliases = resolve_people(dumps, district_of, settings)
    schools, school_aliases, school_findings = resolve_schools(dumps, district_of, reference, settings)
    networks: dict[int, str | None] = {}
    for dump in dumps:
        district = district_of[dump.source_file]
        for no in dump.networks:
            did = district.district_id if district else None
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
    return Resolution(district_of, person_of, tuple(persons), tuple(schools), dict(sorted(networks.items())),
                      tuple(aliases + person_aliases + school_aliases), tuple(findings + school_findings))
