"""Mentions found in running text: districts, network numbers, schools named with their network."""

from __future__ import annotations

import re
from collections.abc import Iterable

from common.records import SchoolMention
from common.text import normalize_thai

_DISTRICT = re.compile(r"(?:สำนักงานเขต|ผู้อำนวยการเขต|ผอ\.\s*เขต)\s*([\u0e00-\u0e7f]{2,})")
_NETWORK_NO = re.compile(r"เครื่?อข่าย(?:โรงเรียน)?\s*ที่\s*(\d{1,2})(?!\d)")
_NETWORK_LIST = re.compile(r"เครื่?อข่าย\s*\(\s*(\d{1,2}(?:\s*[,/]\s*\d{1,2})*)\s*\)")
# a school follows its network on the same line, or on a later one after a line or page break; its name runs
# to the end of the line or to what ends a listing item (the next item's number, a colon, a comma, a tab,
# 'และ', another network or school)
_SCHOOL = re.compile(r"เครื่?อข่าย(?:โรงเรียน)?\s*ที่\s*(\d{1,2})(?!\d)(?P<gap>[ \t]*(?:\n[ \t]*)*)โรงเรียน[ \t]*"
                     r"(?P<name>[\u0e00-\u0e7f.]+(?:[ \t]*\([^)\n]{1,40}\))?)(?=(?P<tail>[^\n]{0,80}))")
_TAIL_END = re.compile(r"\s\d{1,2}\.\s|:|,|\t|<|\(|และ|เครื่?อข่าย|โรงเรียน|\s\s")
MAX_TAIL_WORDS = 3
MAX_NETWORK = 80


def district_mentions(texts: Iterable[str]) -> list[str]:
    """Every 'สำนักงานเขตX' / 'ผู้อำนวยการเขตX' in the texts -> ['X', ...] (repeats kept: they are evidence)."""
    found: list[str] = []
    for text in texts:
        found.extend(m.group(1) for m in _DISTRICT.finditer(normalize_thai(text)))
    return found


def network_numbers(text: str) -> list[int]:
    """Network numbers named in the text ('เครือข่ายที่ 53', 'เครือข่าย (71,72)'), sorted, 1-80 only."""
    numbers = {int(m.group(1)) for m in _NETWORK_NO.finditer(text)}
    for m in _NETWORK_LIST.finditer(text):
        numbers.update(int(n) for n in re.split(r"\s*[,/]\s*", m.group(1)))
    return sorted(n for n in numbers if 1 <= n <= MAX_NETWORK)


def school_mentions(text: str) -> list[SchoolMention]:
    """Schools named with their network ('เครือข่ายที่ 53 โรงเรียนวัดนิมมานรดี'), every occurrence."""
    out: list[SchoolMention] = []
    for m in _SCHOOL.finditer(text):
        network = int(m.group(1))
        name = normalize_thai(m.group("name")).rstrip(".")
        if 1 <= network <= MAX_NETWORK and len(name) >= 3:
            tail = _TAIL_END.split(m.group("tail"), maxsplit=1)[0]
            words = normalize_thai(tail).split(" ")[:MAX_TAIL_WORDS] if tail.strip() else []
            out.append(SchoolMention(raw="โรงเรียน" + name, name_th=name, network_no=network, tail=" ".join(words),
                                     same_line="\n" not in m.group("gap")))
    return out
