"""Schools: the registry's name (without โรงเรียน) within the school's district, even when no rendering
spells it right; a school not in the registry keeps its best-supported spelling and goes to review."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from common.records import NO_OVERRIDES, Overrides, Reference, RegistrySchool
from common.settings import MatchSettings
from common.text import normalize_thai, tone_skeleton
from transform.identity import Clusters, RegistryEntry, ReviewPair, blocked_pairs, most_frequent, stable_id


@dataclass(frozen=True, slots=True)
class School:
    school_id: str
    name_th: str
    network_no: int | None
    district_id: str | None
    in_registry: bool


def school_score(a: str, b: str) -> float:
    return max(fuzz.ratio(a, b), fuzz.ratio(tone_skeleton(a), tone_skeleton(b)) - 2)


def match_registry(name: str, district_id: str | None, reference: Reference, settings: MatchSettings,
                   ) -> tuple[RegistrySchool | None, float, RegistrySchool | None, float]:
    """Best registry school for a spelling within its district: (school, score, runner-up, its score)."""
    pool = [s for s in reference.schools if district_id is None or s.district_id == district_id]
    scored = sorted(((max(school_score(name, s.name_th), school_score(name, s.short_th) if s.short_th else 0.0),
                      s.name_th, s) for s in pool), key=lambda t: (-t[0], t[1]))
    if not scored:
        return None, 0.0, None, 0.0
    best = scored[0]
    runner = scored[1] if len(scored) > 1 else (0.0, "", None)
    return (best[2] if best[0] >= settings.school_min_score else None), best[0], runner[2], runner[0]


def same_unregistered_school(a: str, b: str, settings: MatchSettings) -> bool:
    """OCR variants of one name differ by an edit or two; different schools differ by a word."""
    limit = (settings.school_cluster_max_edits_long if min(len(a), len(b)) >= settings.school_cluster_long_from
             else settings.school_cluster_max_edits)
    return Levenshtein.distance(normalize_thai(a), normalize_thai(b), score_cutoff=limit) <= limit


def registry_school_id(school: RegistrySchool) -> str:
    return stable_id("sch", school.name_th, school.district_id)


SchoolKey = tuple[str, str, str | None, int | None]  # raw spelling, name, district_id, network_no


@dataclass(frozen=True, slots=True)
class SchoolRule:
    """How one school mention (spelling, district, network) resolves: the entity_alias rows of its
    mentions, and the dq finding of the files that mention it when it is not in the registry."""

    raw_text: str
    name_th: str
    district_id: str | None
    network_no: int | None
    school_id: str
    canonical_name: str
    score: float
    method: str
    finding: str | None = None


@dataclass(frozen=True)
class SchoolResult:
    schools: tuple[School, ...]
    rules: tuple[SchoolRule, ...]
    reviews: tuple[ReviewPair, ...]
    registry: tuple[RegistryEntry, ...]


def resolve_schools(mentions: Mapping[SchoolKey, int], reference: Reference, settings: MatchSettings,
                    registry: Sequence[RegistryEntry] = (), overrides: Overrides = NO_OVERRIDES,
                    run_id: str | None = None) -> SchoolResult:
    """Schools of a corpus from the tally of its distinct mentions (how many documents made each)."""
    rules: list[SchoolRule] = []
    reviews: list[ReviewPair] = []
    found: dict[str, dict] = {}
    unmatched: list[tuple[SchoolKey, int]] = []
    pins = overrides.pins("school")
    for key in sorted(mentions, key=lambda k: (k[0], k[1], k[2] or "", k[3] or 0)):
        raw, name, district_id, network = key
        count = mentions[key]
        pinned = pins.get(normalize_thai(name)) or pins.get(normalize_thai(raw))
        school, score, runner, runner_score = match_registry(name, district_id, reference, settings)
        if pinned is None and school is None:
            unmatched.append((key, count))
            continue
        sid = pinned or registry_school_id(school)  # type: ignore[arg-type]
        canonical = school.name_th if school and not pinned else name
        entry = found.setdefault(sid, {"name": canonical, "district": school.district_id if school
                                       else district_id, "registry": school is not None and not pinned,
                                       "networks": Counter()})
        if network is not None:
            entry["networks"][network] += count
        method = "pinned" if pinned else "registry_exact" if score >= 100 else "registry_fuzzy"
        rules.append(SchoolRule(raw, name, district_id, network, sid, entry["name"], round(score, 1), method))
        close_runner = runner is not None and score - runner_score < settings.school_review_margin
        if not pinned and score < 100 and close_runner:
            reviews.append(ReviewPair("school", sid, canonical, registry_school_id(runner),
                                      runner.name_th,  # type: ignore[union-attr]
                                      round(score, 1), "merged",
                                      f"{raw} is {score:.1f} like {canonical}, {runner_score:.1f} like "
                                      f"{runner.name_th}"))
    schools_unregistered, more_rules, more_reviews, registry_out = _cluster_unregistered(
        unmatched, registry, settings, run_id)
    for sid, entry in schools_unregistered.items():
        found.setdefault(sid, entry)
    rules += more_rules
    reviews += more_reviews
    renames = overrides.renames("school")
    schools = tuple(
        School(sid, renames.get(sid, e["name"]),
               most_frequent(e["networks"]),
               e["district"], e["registry"])
        for sid, e in sorted(found.items()))
    return SchoolResult(schools, tuple(rules), tuple(sorted(set(reviews), key=lambda r: (r.left_id, r.right_id))),
                        tuple(registry_out))


def _cluster_unregistered(unmatched: list[tuple[SchoolKey, int]], registry: Sequence[RegistryEntry],
                          settings: MatchSettings, run_id: str | None):  # noqa: ANN202
    """Spellings of schools the registry does not know, grouped per district by similarity."""
    known = [r for r in registry if r.entity_type == "school"]
    # (name, district, network, raw, documents); a registered school has no raw spelling
    items = [(name, district, network, raw, count) for (raw, name, district, network), count in unmatched]
    items += [(r.canonical_name, r.district_id, None, None, 0) for r in known]
    clusters = Clusters(len(items))
    # identical (name, district, network, registered-or-not) items need no comparison: join them first
    first_of: dict[tuple, int] = {}
    for i, (name, district, network, raw, _) in enumerate(items):
        rep = first_of.setdefault((name, district, network, raw is None), i)
        clusters.union(rep, i)
    reps = sorted(first_of.values())
    keys = [[f"{items[i][1]}:{tone_skeleton(items[i][0])[:3]}", f"{items[i][1]}:{tone_skeleton(items[i][0])[-3:]}"]
            for i in reps]
    for x, y in blocked_pairs(keys):
        i, j = reps[x], reps[y]
        a, b = items[i], items[j]
        if a[1] != b[1] or (a[2] and b[2] and a[2] != b[2]):
            continue
        if (a[3] is None and b[3] is None) or not same_unregistered_school(a[0], b[0], settings):
            continue
        clusters.union(i, j)
    found: dict[str, dict] = {}
    rules, reviews, registry_out = [], [], {}
    for group in clusters.groups():
        live = [items[i] for i in group if items[i][3] is not None]
        registered = sorted(known[i - len(unmatched)].canonical_id for i in group if i >= len(unmatched))
        if not live:
            continue
        spellings: Counter[str] = Counter()
        networks: Counter[int] = Counter()
        for it in live:
            spellings[it[0]] += it[4]
            if it[2] is not None:
                networks[it[2]] += it[4]
        name = most_frequent(spellings)
        district = live[0][1]
        sid = registered[0] if registered else stable_id("sch", name, district or "")
        if sid in found:  # one spelling in one district, apart only by network numbers: one school
            found[sid]["networks"].update(networks)
        else:
            found[sid] = {"name": name, "district": district, "registry": False, "networks": networks}
        finding = (f"{name} matches no registry school of district {district}; kept as spelled, listed in "
                   "entity_review")
        for name_i, district_i, network_i, raw, _ in live:
            rules.append(SchoolRule(raw, name_i, district_i, network_i, sid, name,
                                    round(school_score(name_i, name), 1), "not_in_registry", finding))
        reviews.append(ReviewPair("school", sid, name, "", "", 0.0, "not_in_registry",
                                  f"spelled {', '.join(sorted(spellings))}; no registry school of district "
                                  f"{district} scores {settings.school_min_score:.0f} or more"))
        known_spellings = registry_out[sid].spellings if sid in registry_out else ()
        registry_out[sid] = RegistryEntry("school", sid, found[sid]["name"], None, district,
                                          tuple(sorted({*spellings, *known_spellings})), run_id)
    return found, rules, reviews, list(registry_out.values())
