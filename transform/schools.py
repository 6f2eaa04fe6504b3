"""Schools: the registry's name (without โรงเรียน) within the school's district, even when no rendering
spells it right; a school not in the registry keeps its best-supported spelling and goes to review."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from common.records import NO_OVERRIDES, Overrides, Reference, RegistrySchool
from common.settings import MatchSettings
from common.text import normalize_thai, tone_skeleton
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


@dataclass(frozen=True, slots=True)
class School:
    school_id: str
    name_th: str
    network_no: int | None
    district_id: str | None
    in_registry: bool


def school_score(a: str, b: str) -> float:
    return max(fuzz.ratio(a, b), fuzz.ratio(tone_skeleton(a), tone_skeleton(b)) - 2)


@dataclass(frozen=True, slots=True)
class RegistryMatch:
    """The best registry school for a spelling within its district (None under the threshold), its score,
    and the runner-up's."""

    school: RegistrySchool | None
    score: float
    runner_up: RegistrySchool | None
    runner_score: float


def match_registry(name: str, district_id: str | None, reference: Reference, settings: MatchSettings,
                   ) -> RegistryMatch:
    pool = [s for s in reference.schools if district_id is None or s.district_id == district_id]
    scored = sorted(((max(school_score(name, s.name_th), school_score(name, s.short_th) if s.short_th else 0.0),
                      s.name_th, s) for s in pool), key=lambda t: (-t[0], t[1]))
    if not scored:
        return RegistryMatch(None, 0.0, None, 0.0)
    best = scored[0]
    runner = scored[1] if len(scored) > 1 else (0.0, "", None)
    return RegistryMatch(best[2] if best[0] >= settings.school_min_score else None, best[0], runner[2], runner[0])


# a sentence run on into a name goes on with a consonant or a leading vowel right after it; a name followed by a
# space or a parenthesis ('วัดไก่เตี้ย (สวัสดิประชานุกูล)') is matched whole
_RUN_ON_LETTER = re.compile(r"[ก-ฮเ-ไ]")


def match_extent(key: SchoolKey, reference: Reference, settings: MatchSettings) -> tuple[RegistryMatch, str]:
    """The registry match of the mention's name, or of the name with its next words when that matches
    better ('วัดมหรรณพาราม' + 'ในพระราชูปถัมภ์ฯ', 'เคหะทุ่งสองห้องวิทยา' + '1'), or of the registry name the
    mention starts with when the whole does not match exactly; and that name."""
    best, name = match_registry(key.name, key.district_id, reference, settings), key.name
    if best.score < 100:  # a scan's lines joined without a space: 'ราชบพิธโดยใช้ระบบ' is ราชบพิธ and a sentence
        starts = [n for school in reference.schools if key.district_id is None or school.district_id == key.district_id
                  for n in (school.name_th, school.short_th)
                  if n and len(n) >= 4 and len(key.name) - len(n) >= 3 and key.name.startswith(n)
                  and _RUN_ON_LETTER.match(key.name, len(n))]
        if starts:
            name = max(starts, key=len)
            return match_registry(name, key.district_id, reference, settings), name
    words = key.tail.split(" ") if key.tail else []
    for k in range(1, len(words) + 1):
        longer = f"{key.name} {' '.join(words[:k])}"
        match = match_registry(longer, key.district_id, reference, settings)
        if match.score > best.score:
            best, name = match, longer
    return best, name


# Words of running text that no school name holds (tests check the registry): a candidate with one of them
# is a sentence that happens to start with โรงเรียน ('โรงเรียนในสังกัดกรุงเทพมหานครต้องมี...'), not a school.
NOT_IN_SCHOOL_NAMES = ("สังกัด", "ต้อง", "กระบวนการ", "คุณภาพ", "ดำเนิน", "ระหว่าง", "ทั้ง", "ทุก", "ได้", "เพื่อ",
                       "ซึ่ง", "ให้", "และ", "ของ", "ที่", "กรุงเทพมหานคร", "เครือข่าย", "โรงเรียน", "จัด", "ประชุม",
                       "นิทรรศการ", "ครู", "นักเรียน", "งบประมาณ", "โครงการ", "แห่ง", "ร่วม", "กิจกรรม")
NOT_A_NAME_START = ("ใน", "จะ", "แต่", "หรือ", "นั้น", "นี้", "ต่าง", "ด้วย")
MAX_NAME_LENGTH = 40  # characters before a space or parenthesis; the registry's longest is 24


def looks_like_a_name(name: str) -> bool:
    """A candidate the registry does not know may be a new school only if it is shaped like a name."""
    base = name.split("(")[0].strip()
    return (3 <= len(base) <= MAX_NAME_LENGTH and not base.startswith(NOT_A_NAME_START)
            and not any(word in name for word in NOT_IN_SCHOOL_NAMES))


def same_unregistered_school(a: str, b: str, settings: MatchSettings) -> bool:
    """OCR variants of one name differ by an edit or two; different schools differ by a word."""
    limit = (settings.school_cluster_max_edits_long if min(len(a), len(b)) >= settings.school_cluster_long_from
             else settings.school_cluster_max_edits)
    return Levenshtein.distance(normalize_thai(a), normalize_thai(b), score_cutoff=limit) <= limit


def registry_school_id(school: RegistrySchool) -> str:
    return stable_id("sch", school.name_th, school.district_id)


class SchoolKey(NamedTuple):
    """One distinct school mention: its spelling, as printed and normalised, its district and network, the
    words that may go on the name, and whether it was printed on its network's line."""

    raw: str
    name: str  # without โรงเรียน, normalised
    district_id: str | None
    network_no: int | None
    tail: str = ""
    same_line: bool = True


@dataclass(frozen=True, slots=True)
class SchoolRule:
    """How one school mention (spelling, district, network) resolves: the entity_alias rows of its
    mentions, and the dq finding of the files that mention it when it is not in the registry."""

    raw_text: str
    name_th: str
    district_id: str | None
    network_no: int | None
    tail: str
    same_line: bool
    spelled: str  # the mention's school name as printed (its first words, as far as the registry says)
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


@dataclass
class _Found:
    """A school as resolution finds it: its name, district, whether the registry has it, and how many
    documents named it with each network."""

    name: str
    district_id: str | None
    in_registry: bool
    networks: Counter[int] = field(default_factory=Counter)


def resolve_schools(mentions: Mapping[SchoolKey, int], reference: Reference, settings: MatchSettings,
                    registry: Sequence[RegistryEntry] = (), overrides: Overrides = NO_OVERRIDES,
                    run_id: str | None = None) -> SchoolResult:
    """Schools of a corpus from the tally of its distinct mentions (how many documents made each)."""
    rules: list[SchoolRule] = []
    reviews: list[ReviewPair] = []
    found: dict[str, _Found] = {}
    unmatched: list[tuple[SchoolKey, int]] = []
    pins = overrides.pins("school")
    for key in sorted(mentions, key=lambda k: (k.raw, k.name, k.district_id or "", k.network_no or 0, k.tail,
                                               k.same_line)):
        pinned = pins.get(normalize_thai(key.name)) or pins.get(normalize_thai(key.raw))
        match, name = match_extent(key, reference, settings)
        if pinned is None and match.school is None:
            # not in the registry: a new school only when shaped like a name and printed as a listing item
            # (on its network's line, or alone on the next); otherwise the text after the network is not a
            # school at all (a paragraph after a listing cut short)
            if (key.same_line or not key.tail) and looks_like_a_name(key.name):
                unmatched.append((key, mentions[key]))
            continue
        rule, review = _matched(key, mentions[key], pinned, match, name, found, settings)
        rules.append(rule)
        reviews += [review] if review else []
    unregistered = _Unregistered(unmatched, registry, settings, run_id)
    for sid, school in unregistered.cluster().items():
        found.setdefault(sid, school)
    renames = overrides.renames("school")
    schools = tuple(School(sid, renames.get(sid, f.name), most_frequent(f.networks), f.district_id, f.in_registry)
                    for sid, f in sorted(found.items()))
    reviews += unregistered.reviews
    return SchoolResult(schools, tuple(rules + unregistered.rules),
                        tuple(one_row_per_pair(reviews)),
                        tuple(unregistered.registry.values()))


def _matched(key: SchoolKey, documents: int, pinned: str | None, match: RegistryMatch, name: str,
             found: dict[str, _Found], settings: MatchSettings) -> tuple[SchoolRule, ReviewPair | None]:
    """The rule of a mention that a pin or the registry resolves (and a review when the registry's
    runner-up was close)."""
    school = match.school
    sid = pinned or registry_school_id(school)  # type: ignore[arg-type]
    canonical = school.name_th if school and not pinned else key.name
    entry = found.setdefault(sid, _Found(canonical, school.district_id if school else key.district_id,
                                         school is not None and not pinned))
    if key.network_no is not None:
        entry.networks[key.network_no] += documents
    method = "pinned" if pinned else "registry_exact" if match.score >= 100 else "registry_fuzzy"
    rule = SchoolRule(key.raw, key.name, key.district_id, key.network_no, key.tail, key.same_line,
                      "โรงเรียน" + (key.name if pinned else name), sid, entry.name, round(match.score, 1), method)
    runner = match.runner_up
    close_runner = runner is not None and match.score - match.runner_score < settings.school_review_margin
    if pinned or match.score >= 100 or not close_runner:
        return rule, None
    return rule, ReviewPair("school", sid, canonical, registry_school_id(runner), runner.name_th,  # type: ignore[arg-type]
                            round(match.score, 1), Decision.MERGED,
                            f"{key.raw} is {match.score:.1f} like {canonical}, {match.runner_score:.1f} like "
                            f"{runner.name_th}")


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A spelling of a school the registry does not know, or a school an earlier run registered."""

    name: str
    district_id: str | None
    network_no: int | None
    raw: str | None  # None: registered by an earlier run (no mention today)
    documents: int
    registered_id: str | None = None
    key: SchoolKey | None = None


CUT_SHORT_MIN = 6  # letters a name read cut short keeps: fewer could be another name's start


def _cut_short(a: _Candidate, b: _Candidate) -> bool:
    """One spelling is the other with its end lost (a pass that read 'คลองศาลาแด' of คลองศาลาแดงศึกษา, the line's
    end unread), both named with the same network: one school. Two schools of one network are not named so."""
    if a.network_no is None or a.network_no != b.network_no:
        return False
    short, long = sorted((normalize_thai(a.name), normalize_thai(b.name)), key=len)
    return len(short) >= CUT_SHORT_MIN and len(long) > len(short) and long.startswith(short)


class _Unregistered:
    """Spellings of schools the registry does not know, grouped per district by similarity: each group is
    one school, with the id an earlier run gave it if it has one."""

    def __init__(self, unmatched: list[tuple[SchoolKey, int]], registry: Sequence[RegistryEntry],
                 settings: MatchSettings, run_id: str | None):
        self.items = [_Candidate(k.name, k.district_id, k.network_no, k.raw, n, key=k) for k, n in unmatched]
        self.items += [_Candidate(r.canonical_name, r.district_id, None, None, 0, r.canonical_id)
                       for r in registry if r.entity_type == "school"]
        self.settings, self.run_id = settings, run_id
        self.rules: list[SchoolRule] = []
        self.reviews: list[ReviewPair] = []
        self.registry: dict[str, RegistryEntry] = {}

    def cluster(self) -> dict[str, _Found]:
        found: dict[str, _Found] = {}
        for group in self._groups():
            live = [self.items[i] for i in group if self.items[i].raw is not None]
            if live:
                registered = sorted(self.items[i].registered_id for i in group if self.items[i].registered_id)
                self._publish(live, registered[0] if registered else None, found)
        return found

    def _groups(self) -> list[list[int]]:
        clusters = Clusters(len(self.items))
        # identical (name, district, network, registered-or-not) items need no comparison: join them first
        first_of: dict[tuple, int] = {}
        for i, it in enumerate(self.items):
            clusters.union(first_of.setdefault((it.name, it.district_id, it.network_no, it.raw is None), i), i)
        reps = sorted(first_of.values())
        keys = [[f"{self.items[i].district_id}:{tone_skeleton(self.items[i].name)[:3]}",
                 f"{self.items[i].district_id}:{tone_skeleton(self.items[i].name)[-3:]}"] for i in reps]
        for x, y in blocked_pairs(keys):
            a, b = self.items[reps[x]], self.items[reps[y]]
            if a.district_id != b.district_id or (a.network_no and b.network_no and a.network_no != b.network_no):
                continue
            if (a.raw is None and b.raw is None) or not (same_unregistered_school(a.name, b.name, self.settings)
                                                         or _cut_short(a, b)):
                continue
            clusters.union(reps[x], reps[y])
        return clusters.groups()

    def _publish(self, live: list[_Candidate], registered_id: str | None, found: dict[str, _Found]) -> None:
        spellings: Counter[str] = Counter()
        networks: Counter[int] = Counter()
        for it in live:
            spellings[it.name] += it.documents
            if it.network_no is not None:
                networks[it.network_no] += it.documents
        whole = {n: k for n, k in spellings.items() if not any(o != n and o.startswith(n) for o in spellings)}
        name = most_frequent(whole)  # never a spelling another one of the school goes on from: it was cut short
        district = live[0].district_id
        sid = registered_id or stable_id("sch", name, district or "")
        if sid in found:  # one spelling in one district, apart only by network numbers: one school
            found[sid].networks.update(networks)
        else:
            found[sid] = _Found(name, district, False, networks)  # type: ignore[arg-type]
        finding = (f"{name} matches no registry school of district {district}; kept as spelled, listed in "
                   "entity_review")
        self.rules += [SchoolRule(it.raw, it.name, it.district_id, it.network_no, it.key.tail,  # type: ignore[arg-type]
                                  it.key.same_line, it.raw, sid, name,  # type: ignore[union-attr]
                                  round(school_score(it.name, name), 1), "not_in_registry", finding) for it in live]
        self.reviews.append(ReviewPair("school", sid, name, "", "", None, Decision.NOT_IN_REGISTRY,
                                       f"spelled {', '.join(sorted(spellings))}; no registry school of district "
                                       f"{district} scores {self.settings.school_min_score:.0f} or more"))
        known = self.registry[sid].spellings if sid in self.registry else ()
        self.registry[sid] = RegistryEntry("school", sid, found[sid].name, None, district,
                                           tuple(sorted({*spellings, *known})), self.run_id)
