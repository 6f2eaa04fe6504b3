"""Districts: the one of Bangkok's 50 that all of a dump's mentions (and its project code) point to."""

from __future__ import annotations

from functools import lru_cache

from rapidfuzz import fuzz

from common.records import District, Finding, ParsedDump, Reference
from common.settings import MatchSettings
from common.text import normalize_thai
from transform.identity import Alias


@lru_cache(maxsize=4096)
def _ranked_districts(mentions: tuple[str, ...], districts: tuple[District, ...]) -> list[tuple[str, float]]:
    """Mean score of the mentions against every district, best first (the same mentions recur a lot)."""
    scores = {d.district_id: sum(fuzz.ratio(m, d.name_th) for m in mentions) / len(mentions) for d in districts}
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def resolve_district(dump: ParsedDump, reference: Reference, settings: MatchSettings,
                     ) -> tuple[District | None, list[Alias], list[Finding]]:
    """Combine the evidence of every mention instead of taking the nearest name of one mention."""
    by_id = {d.district_id: d for d in reference.districts}
    mentions = [normalize_thai(m) for m in dump.district_mentions if m.strip()]
    code = dump.header.project_code
    code_district = by_id.get(code[:4]) if code else None
    findings: list[Finding] = []
    ranked = _ranked_districts(tuple(sorted(mentions)), reference.districts) if mentions else []
    chosen: District | None = None
    method = "unresolved"
    if code_district is not None:
        chosen, method = code_district, "project_code"
        if ranked and ranked[0][0] != code_district.district_id and ranked[0][1] >= 95:
            findings.append(Finding.of("district_code_name_mismatch",
                                       f"project code says {code_district.name_th}, the text says "
                                       f"{by_id[ranked[0][0]].name_th}; kept the code's district"))
    elif ranked:
        (best_id, best), runner = ranked[0], (ranked[1][1] if len(ranked) > 1 else 0.0)
        if best >= 100:
            chosen, method = by_id[best_id], "exact"
        elif best >= settings.district_min_mean_score and best - runner >= settings.district_min_margin:
            chosen, method = by_id[best_id], "fuzzy_combined"
            findings.append(Finding.of("district_resolved_fuzzily",
                                       f"mentions ({', '.join(sorted(set(mentions)))}) do not all spell one district; "
                                       f"all {len(mentions)} mentions together point to {by_id[best_id].name_th} "
                                       f"(mean score {best:.1f}, next {runner:.1f})"))
    if chosen is None:
        findings.append(Finding.of("district_unresolved",
                                   f"district not resolved from mentions {sorted(set(mentions))}"))
    aliases = [
        Alias("district", raw, chosen.district_id if chosen else None, chosen.name_th if chosen else None,
              round(fuzz.ratio(raw, chosen.name_th), 1) if chosen else 0.0,
              "exact" if chosen and raw == chosen.name_th else method, dump.source_file)
        for raw in sorted(set(mentions))
    ]
    return chosen, aliases, findings
