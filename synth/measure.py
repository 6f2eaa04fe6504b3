"""The rates of the real dumps' phenomena, measured on ../shared/seeds with the parser's own pieces, and of
the registry's name shapes: what synth/world.py and synth/render.py reproduce. `python -m synth.measure`
prints the table kept in synth/PHENOMENA.md (a test keeps the two in step)."""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from common.records import Reference
from common.settings import PROJECT_ROOT
from common.text import normalize_thai
from extract.reference import load_reference
from transform.form_entries import TOKEN, read_entries
from transform.parse import detect_layout
from transform.progress_form import PAGE_TITLE, SECTION_2, form_lines, read_header, split_renderings

SEEDS = PROJECT_ROOT.parent / "shared" / "seeds"
PHENOMENA_FILE = PROJECT_ROOT / "synth" / "PHENOMENA.md"
_LISTED_SCHOOL = re.compile(r"เครื่?อข่ายที่\s*\d{1,2}([ \t]*\n[\s]*|[ \t]+)โรงเรียน")
NOTES_HEADING = "## What the generator draws"
_DISTRICT = re.compile(r"สำนักงานเขต\s*([\u0e00-\u0e7f]+)")
_NETWORK_SUBJECT = re.compile(r"เครื่?อง?ข่าย(?:โรงเรียน)?\s*(?:ที่\s*\d|ทั้ง\s*\d)")
_CUT_AFTER_NETWORK = re.compile(r"เครื่?อง?ข่าย(?:โรงเรียน)?ที่ \d+\s*$")


@dataclass
class Tally:
    """Counts over the seeds: what was seen (numerator) out of how many chances (denominator)."""

    counts: Counter = field(default_factory=Counter)

    def add(self, name: str, seen: int, chances: int) -> None:
        self.counts[(name, "seen")] += seen
        self.counts[(name, "of")] += chances

    def rate(self, name: str) -> tuple[int, int]:
        return self.counts[(name, "seen")], self.counts[(name, "of")]


def measure_form(text: str, tally: Tally) -> None:
    lines = normalize_thai(text, keep_lines=True).split("\n")
    tally.add("page header lines per rendering", sum(PAGE_TITLE in ln for ln in lines), 0)
    kept = form_lines(text)
    renderings = split_renderings(kept)
    tally.add("renderings per progress form", len(renderings), 1)
    tally.add("page header lines per rendering", 0, len(renderings))
    for rendering in renderings:
        _measure_rendering(rendering, tally)
    body = "\n".join(kept)
    listed = _LISTED_SCHOOL.findall(body)
    tally.add("listed school on the line after its network", sum("\n" in gap for gap in listed), len(listed))
    starts = [ln for ln in kept if ln.startswith(("โรงเรียน", "เครือข่าย"))]
    tally.add("lines that start with โรงเรียน/เครือข่าย and are not a school", len(starts), len(kept))


def _measure_rendering(rendering: list[str], tally: Tally) -> None:
    at = next((i for i, ln in enumerate(rendering) if SECTION_2.match(ln)), len(rendering))
    people = [v for name, v in read_header(rendering[:at]) if name in ("officer", "coordinator")]
    tally.add("person fields per rendering", len(people), 1)
    section = "\n".join(rendering[at:])
    entries = read_entries(section)
    keyed = [e for e in entries if e.inner is not None and e.label is not None]
    tally.add("row label shifted from the inner index", sum(e.label != e.inner for e in keyed), len(keyed))
    numbers = {e.inner for e in entries if e.inner is not None}
    tally.add("reports dropped by a rendering", (max(numbers) - len(numbers)) if numbers else 0,
              max(numbers) if numbers else 0)
    dated = [e for e in entries if e.has_narrative]
    tally.add("reports without a date", sum(e.date_text is None for e in dated), len(dated))
    progress = [m.group(0) for m in TOKEN.finditer(section) if m.lastgroup == "progress"]
    tally.add("progress without the % sign", sum("%" not in p for p in progress), len(progress))
    statuses = [m.group("phrase") for m in TOKEN.finditer(section) if m.lastgroup == "status"]
    monitors = [s for s in statuses if "แต่ควร" in s]
    tally.add("'to be monitored' status garbled", sum("แต่ควรติดตาม" not in s for s in monitors), len(monitors))
    notes = [" ".join(e.note_parts) for e in dated if e.note_parts]
    telling = [n for n in notes if _NETWORK_SUBJECT.search(n)]
    tally.add("narratives that speak of numbered networks", len(telling), len(notes))
    tally.add("network narratives cut after their last network's number",
              sum(bool(_CUT_AFTER_NETWORK.search(n)) for n in telling), len(telling))
    tally.add("renderings that spell เครือข่าย as เครื่องข่าย", int("เครื่องข่าย" in section), 1)


def measure_proposal(text: str, reference: Reference, tally: Tally) -> None:
    names = {d.name_th for d in reference.districts}
    mentions = [normalize_thai(m) for m in _DISTRICT.findall(text)]
    tally.add("district mentions misspelt (proposals)", sum(m not in names for m in mentions), len(mentions))
    digits = re.findall(r"[0-9๐-๙]", text)
    tally.add("Thai digits among digits (proposals)", sum("๐" <= d <= "๙" for d in digits), len(digits))


def measure_registry(reference: Reference, tally: Tally) -> None:
    names = [s.name_th for s in reference.schools]
    tally.add("registry names with a space", sum(" " in n for n in names), len(names))
    tally.add("registry names with parentheses", sum("(" in n for n in names), len(names))
    tally.add("registry names with a hyphen", sum("-" in n for n in names), len(names))
    tally.add("registry names with ฯ", sum("ฯ" in n for n in names), len(names))


def measure(seeds: Path = SEEDS, reference: Reference | None = None) -> list[tuple[str, int, int]]:
    reference = reference or load_reference(PROJECT_ROOT / "data" / "reference")
    tally = Tally()
    layouts: Counter[str] = Counter()
    for path in sorted(seeds.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        layout = detect_layout(text) or "none"
        layouts[layout] += 1
        if layout == "progress_form":
            measure_form(text, tally)
        elif layout == "proposal":
            measure_proposal(text, reference, tally)
    total = sum(layouts.values())
    rows = [(f"layout {name}", n, total) for name, n in sorted(layouts.items())]
    measure_registry(reference, tally)
    names = dict.fromkeys(name for name, _ in tally.counts)
    return rows + [(name, *tally.rate(name)) for name in names]


def as_markdown(rows: list[tuple[str, int, int]]) -> str:
    lines = ["# Phenomena of the real dumps, measured", "",
             "`python -m synth.measure` measures these on the five real dumps (`../shared/seeds/`) with the",
             "parser's own pieces, and on the BMA school registry; `synth/world.py` and `synth/render.py`",
             "draw their phenomena at these rates (the constants there cite this table).", "",
             "| phenomenon | seen | of | rate |", "|---|---|---|---|"]
    lines += [f"| {name} | {seen} | {of} | {seen / of:.3f} |" if of else f"| {name} | {seen} | {of} | - |"
              for name, seen, of in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synth.measure", description=__doc__)
    parser.add_argument("--seeds", type=Path, default=SEEDS)
    parser.add_argument("--write", action="store_true", help=f"write {PHENOMENA_FILE.name} instead of printing")
    args = parser.parse_args(argv)
    text = as_markdown(measure(args.seeds))
    if args.write:  # the measured table; the notes after it (what the generator draws) are kept
        kept = PHENOMENA_FILE.read_text(encoding="utf-8") if PHENOMENA_FILE.exists() else ""
        notes = kept[kept.index(NOTES_HEADING):] if NOTES_HEADING in kept else ""
        PHENOMENA_FILE.write_text(text + ("\n" + notes if notes else ""), encoding="utf-8")
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
