"""Mentions found in running text: districts, network numbers, schools named with their network."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace

from common.records import SchoolMention
from common.text import normalize_thai

_DISTRICT = re.compile(r"(?:สำนักงานเขต|ผู้อำนวยการเขต|ผอ\.\s*เขต)\s*([\u0e00-\u0e7f]{2,})")
_NETWORK_NO = re.compile(r"เครื่?อข่าย(?:โรงเรียน)?\s*ที่\s*(\d{1,2})(?!\d)")
_NETWORK_LIST = re.compile(r"เครื่?อข่าย\s*\(\s*(\d{1,2}(?:\s*[,/]\s*\d{1,2})*)\s*\)")
# a school follows its network on the same line, or on a later one after a line or page break; its name runs
# to the end of the line or to what ends a listing item (the next item's number, a colon, a comma, a tab,
# 'และ', another network or school). A scan's network label may have lost the marks of its 'ที่' and have a
# speck read between its words where the line wrapped ('เครือข่าย 1\n.ที 6 โรงเรียนปลูกจิต')
_SCHOOL = re.compile(r"เครื่?อข่าย(?:โรงเรียน)?(?:\s+[\d.|']{1,2}(?=\s))?\s*ท[ิี]?่?\s*(\d{1,2})(?!\d)"
                     r"(?P<gap>[ \t]*(?:\n[ \t]*)*)โรงเรียน[ \t]*"
                     r"(?P<name>[\u0e00-\u0e7f.]+(?:[ \t]*\([^)\n]{1,40}\))?)(?=(?P<tail>[^\n]{0,80}))")
_RUN_ON = re.compile(r"(?<=.{3})(?:เครื่?อข่าย|โรงเรียน)")
_TAIL_END = re.compile(r"\s\d{1,2}\.\s|:|,|\t|<|\(|และ|เครื่?อข่าย|โรงเรียน|\s\s")
MAX_TAIL_WORDS = 3
MAX_NETWORK = 80


def district_mentions(texts: Iterable[str]) -> list[str]:
    """Every 'สำนักงานเขตX' / 'ผู้อำนวยการเขตX' in the texts -> ['X', ...] (repeats kept: they are evidence).

    Only the words around each 'เขต' are normalised: a paragraph's full normalisation cost milliseconds."""
    found: list[str] = []
    for text in texts:
        if "เขต" in text:
            for window in _district_windows(text):
                found.extend(m.group(1) for m in _DISTRICT.finditer(normalize_thai(window)))
    return found


_BEFORE_DISTRICT = 20  # characters before 'เขต' that its label can take ('ผู้อำนวยการ', 'ผอ. ')


def _district_windows(text: str) -> list[str]:
    """The stretches of text around each 'เขต': from a space at least _BEFORE_DISTRICT characters before it
    to the end of the Thai word after it, overlapping stretches joined. They start and end between words,
    where normalisation changes nothing across the cut."""
    spans: list[list[int]] = []
    at = text.find("เขต")
    while at >= 0:
        start = max(_space_before(text, max(at - _BEFORE_DISTRICT, 0)), 0)
        end = _end_of_next_word(text, at + 3)
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
        at = text.find("เขต", at + 3)
    return [text[a:b] for a, b in spans]


def _space_before(text: str, i: int) -> int:
    while i > 0 and not text[i].isspace():
        i -= 1
    return i


def _end_of_next_word(text: str, i: int) -> int:
    """After i: the rest of the Thai word at i, the spaces after it, and the Thai word after those."""
    n = len(text)
    while i < n and "\u0e00" <= text[i] <= "\u0e7f":
        i += 1
    while i < n and text[i].isspace():
        i += 1
    while i < n and ("\u0e00" <= text[i] <= "\u0e7f" or text[i] == "."):
        i += 1
    return i


def network_numbers(text: str) -> list[int]:
    """Network numbers named in the text ('เครือข่ายที่ 53', 'เครือข่าย (71,72)'), sorted, 1-80 only."""
    numbers = {int(m.group(1)) for m in _NETWORK_NO.finditer(text)}
    for m in _NETWORK_LIST.finditer(text):
        numbers.update(int(n) for n in re.split(r"\s*[,/]\s*", m.group(1)))
    return sorted(n for n in numbers if 1 <= n <= MAX_NETWORK)


# how many networks a document says it has: 'เครือข่ายโรงเรียน 3 เครือข่าย ได้แก่', 'ทั้ง 3 เครือข่าย' (seed 001)
_NETWORK_COUNT = re.compile(r"(?:เครื่?อข่ายโรงเรียน|ทั้ง)\s*(\d{1,2})\s*เครื่?อข่าย")


def beyond_stated_count(text: str, networks: Sequence[int]) -> tuple[tuple[int, ...], str | None]:
    """The networks of a scan that says how many it has and names more: the ones the text names most, when
    each is named at least twice as often as any other (a 4 read as 6 in one line names network 60 once a pass,
    its network 40 is named in every report); else all of them. And what was left out, and why (None: nothing)."""
    stated = Counter(int(m.group(1)) for m in _NETWORK_COUNT.finditer(text)).most_common(2)
    if not stated or (len(stated) == 2 and stated[0][1] == stated[1][1]) or not 0 < stated[0][0] < len(networks):
        return tuple(networks), None
    count = stated[0][0]
    named = Counter(int(m.group(1)) for m in _NETWORK_NO.finditer(text))
    ranked = sorted(networks, key=lambda n: (-named[n], n))
    if named[ranked[count - 1]] < 2 * named[ranked[count]]:  # not clearly apart: which is misread is not known
        return tuple(networks), None
    kept, left = sorted(ranked[:count]), sorted(ranked[count:])
    return tuple(kept), (f"the document says it has {count} network{'s' if count > 1 else ''} and names "
                         f"{len(networks)}: " + ", ".join(f"{n} (named {named[n]} times)" for n in left)
                         + " left out as misread, " + ", ".join(f"{n} ({named[n]})" for n in kept) + " kept")


def school_mentions(text: str) -> list[SchoolMention]:
    """Schools named with their network ('เครือข่ายที่ 53 โรงเรียนวัดนิมมานรดี'), every occurrence."""
    out: list[SchoolMention] = []
    for m in _SCHOOL.finditer(text):
        network = int(m.group(1))
        # a name runs on into the next sentence where a scan's wrapped lines were joined without a space
        # ('วัดสุวรรณารามเครือข่ายโรงเรียนได้ร่วมกัน'): no school's name holds 'เครือข่าย' or a second 'โรงเรียน'
        name = _RUN_ON.split(normalize_thai(m.group("name")), maxsplit=1)[0].rstrip(".")
        if 1 <= network <= MAX_NETWORK and len(name) >= 3:
            tail = _TAIL_END.split(m.group("tail"), maxsplit=1)[0]
            words = normalize_thai(tail).split(" ")[:MAX_TAIL_WORDS] if tail.strip() else []
            out.append(SchoolMention(raw="โรงเรียน" + name, name_th=name, network_no=network, tail=" ".join(words),
                                     same_line="\n" not in m.group("gap")))
    return out


def within_networks(schools: Sequence[SchoolMention], networks: Sequence[int]) -> tuple[SchoolMention, ...]:
    """A scan's school mentions with the networks its passes agree on: a mention whose network number only a
    pass that misread it has (a 7 read as 1: 'เครือข่ายที่ 15 โรงเรียนวัดประเสริฐสุทธาวาส' of network 75) keeps
    its school with its network unknown."""
    return tuple(s if s.network_no in networks else replace(s, network_no=None) for s in schools)
