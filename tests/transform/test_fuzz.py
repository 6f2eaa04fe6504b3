"""Fuzzing: seed-like dumps mutated at random (deletions, duplications, swaps, OCR confusions, cuts)
never crash the parser, and whatever it returns converts to the warehouse's types.

CI runs a few hundred cases; `make fuzz` runs SCHOOLNET_FUZZ_EXAMPLES (10,000) of them."""

from __future__ import annotations

import os
from functools import lru_cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.records import DumpParseError
from common.settings import MatchSettings
from extract.reference import load_reference
from load.staging import new_rows, stage_document
from load.tables import arrow_tables
from tests.conftest import REFERENCE, SAMPLE_RAW, SEEDS
from transform.agencies import place
from transform.entities import Evidence
from transform.parse import parse
from transform.people import title_book

EXAMPLES = int(os.environ.get("SCHOOLNET_FUZZ_EXAMPLES", "300"))
CONFUSIONS = [("ท", "ฑ"), ("ิ", "ี"), ("่", ""), ("้", ""), ("0", "๐"), ("5", "๕"), ("%", ""), (":", ""), ("/", "-"),
              ("ไม่", ""), ("เป็นไป", "ไม่เป็นไป"), ("ครั้งที่", "ครั้งที"), ("=", "= 9999999999999999"),
              ("บาท", ""), ("\t", " "), ("2564", "0000"), ("/10/", "/13/"), ("(ครั้งที่ 1)", "(ครั้งที่ 99999999999)")]
PAGE_BREAK = "\n\n\n\n**\\*\\* แบบแสดงรายงานความก้าวหน้าและข้อมูลเกี่ยวกับโครงการ \\*\\***\n\n"


@lru_cache(maxsize=1)
def corpus() -> tuple[str, ...]:
    folder = SEEDS if SEEDS.is_dir() else SAMPLE_RAW
    return tuple(p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt")))


@st.composite
def mutated_dump(draw) -> str:
    lines = draw(st.sampled_from(corpus())).splitlines()
    for _ in range(draw(st.integers(0, 8))):
        if not lines:
            break
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "confuse", "cut", "break", "noise"]))
        i = draw(st.integers(0, len(lines) - 1))
        j = min(len(lines), i + draw(st.integers(1, 12)))
        if op == "delete":
            del lines[i:j]
        elif op == "duplicate":
            lines[j:j] = lines[i:j]
        elif op == "swap":
            k = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[k] = lines[k], lines[i]
        elif op == "confuse":  # on one line, or everywhere (OCR engines err consistently too)
            a, b = draw(st.sampled_from(CONFUSIONS))
            if draw(st.booleans()):
                lines = [line.replace(a, b) for line in lines]
            else:
                lines[i] = lines[i].replace(a, b)
        elif op == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
            del lines[i + 1: i + 1 + draw(st.integers(0, 400))]
        elif op == "break":
            lines.insert(i, PAGE_BREAK)
        else:
            lines.insert(i, draw(st.text(min_size=0, max_size=60)))
    return "\n".join(lines)


@lru_cache(maxsize=1)
def _reference():
    return load_reference(REFERENCE)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated_dump())
def test_mutated_dumps_never_crash_the_parser(text):
    titles = title_book(None)
    try:
        dump = parse(text, "fuzz.txt", titles)
    except DumpParseError:
        return
    # every staged row (facts, project, findings, mentions) fits the warehouse's types
    placement = place(dump, _reference(), MatchSettings())
    people = Evidence().add_document(dump, placement.district_id, {}, placement.home)
    rows = new_rows()
    stage_document(rows, dump, placement, people)
    arrow_tables(rows)
    for r in dump.reports:
        assert r.progress_pct is None or 0 <= r.progress_pct <= 999.99
