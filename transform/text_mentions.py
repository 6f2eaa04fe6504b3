"""Mentions found in running text: districts, network numbers, schools named with their network."""

from __future__ import annotations

import re
from collections.abc import Iterable

from common.records import SchoolMention
from common.text import normalize_thai

_DISTRICT = re.compile(r"(?:สำนักงานเขต|ผู้อำนวยการเขต|ผอ\.\s*เขต)\s*([\u0e00-\u0e7f]{2,})")
_NETWORK_NO = re.compile(r"เครื่?อข่าย(?:โรงเรียน)?\s*ที่\s*(\d{1,2})(?!\d)")
_NETWORK_LIST = re.compile(r"เครื่?อข่าย\s*\(\s*(\d{1,2}(?:\s*[,/]\s*\d{1,2})*)\s*\)")
# the school follows its network on the same line or the next, never across a blank line (a listing
# cut short must not turn the next paragraph, 'โรงเรียนสังกัดกรุงเทพมหานครต้องมี...', into a school)
_SCHOOL = re.compile(
    r"เครื่?อข่าย(?:โรงเรียน)?\s*ที่\s*(\d{1,2})(?:[ \t]+|[ \t]*\n[ \t]*)"
    r"โรงเรียน[ \t]*([\u0e00-\u0e7f.]+(?:[ \t]*\([^)\n]{1,40}\))?)"
)
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
        name = normalize_thai(m.group(2)).rstrip(".")
        if 1 <= network <= MAX_NETWORK and len(name) >= 3:
            out.append(SchoolMention(raw="โรงเรียน" + name, name_th=name, network_no=network))
    return out
