"""People as printed: title, name, position and phone split apart ('น.ส.ณัฐพิมล สิริภักดิ์กุล โทร 6628'), and the
contact line of a web progress page, which names a unit or one or two people with phones in many shapes."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from common.records import PersonMention
from common.text import normalize_thai
from transform.values import normalize_phone

_BUILTIN_TITLES = {  # spelling -> canonical title (used when the reference file is unavailable)
    "นาย": "นาย", "นาง": "นาง", "นางสาว": "นางสาว", "น.ส.": "นางสาว", "นส.": "นางสาว", "ดร.": "ดร.",
    "ว่าที่ร้อยตรี": "ว่าที่ร้อยตรี", "ว่าที่ ร.ต.": "ว่าที่ร้อยตรี", "ว่าที่ร.ต.": "ว่าที่ร้อยตรี", "คุณ": "คุณ",
}
# a phone as printed beside a name: 'โทร 6628', 'โทร. 5378', 'เบอร์โทร 6425', '(3027)', '(โทร.02 6289067)', '/ โทร 6628',
# '6822-3', '3347-49', '02 2245 1234 ต่อ 15', '... หรือโทร. 2556', or bare digits after the name (glued to it or not)
_PHONE_LABEL = r"(?:เบอร์\s*)?โทร(?:ศัพท์)?\.?\s*:?"
_NUMBER = r"\d[\d -]*\d|\d"
_PHONE = re.compile(rf"(?:/\s*)?\(?\s*{_PHONE_LABEL}\s*(?P<labelled>{_NUMBER})"
                    rf"|\(\s*(?P<bracketed>{_NUMBER})\s*\)"
                    r"|(?P<bare>(?:0\d[ -]?)?\d{3,}(?:[ -]\d+)*)")
_AFTER_NUMBER = re.compile(r"\s*(?:ต่อ\s*\d+|(?:หรือ|/|,)\s*(?:" + _PHONE_LABEL + r")?\s*\d[\d -]*)*\s*\)?")
# words that start a position or a unit after a name ('หน.ฝ่ายการศึกษา', 'ผอ.สศ.', 'นักวิชาการศึกษา'); a word
# with a dot is an abbreviation of one
_POSITION_WORDS = ("หัวหน้า", "ผู้อำนวยการ", "ผู้ช่วย", "รอง", "นัก", "เจ้าหน้าที่", "เจ้าพนักงาน", "พนักงาน", "ข้าราชการ",
                   "ครู", "ศึกษานิเทศก์", "ฝ่าย", "กลุ่ม", "ส่วน", "งาน", "กอง", "ผู้ประสาน", "เลขานุการ")
# what a web page's contact line starts with when it names a unit, not a person
UNIT_WORDS = ("ฝ่าย", "กลุ่มงาน", "กลุ่ม", "กอง", "ส่วน", "งาน", "ศูนย์", "สำนัก", "หน่วย", "สถานี", "โรงเรียน",
              "สถาบัน", "โรงพยาบาล", "ศูนย์บริการ")


@dataclass(frozen=True, eq=False)
class TitleBook:
    """Title spellings, longest first, each mapped to its full form ('น.ส.' -> 'นางสาว')."""

    spellings: tuple[tuple[str, str], ...]
    by_first_char: dict[str, tuple[tuple[str, str], ...]]

    @classmethod
    def from_pairs(cls, pairs: dict[str, str]) -> TitleBook:
        ordered = tuple(sorted(pairs.items(), key=lambda kv: (-len(kv[0]), kv[0])))
        index: dict[str, list[tuple[str, str]]] = {}
        for spelling, canonical in ordered:
            index.setdefault(spelling[0], []).append((spelling, canonical))
        return cls(ordered, {k: tuple(v) for k, v in index.items()})

    def is_title(self, text: str) -> bool:
        return any(text == spelling for spelling, _ in self.by_first_char.get(text[:1], ()))

    def starts_with_title(self, text: str) -> bool:
        return any(text.startswith(spelling) for spelling, _ in self.by_first_char.get(text[:1], ()))

    def split(self, text: str) -> tuple[str | None, str]:
        """'นางสาวทิพการ ทวีคุณ' -> ('นางสาว', 'ทิพการ ทวีคุณ'); titles may stack ('ดร.นาย...')."""
        found: list[str] = []
        rest = text.strip()
        while rest:
            for spelling, canonical in self.by_first_char.get(rest[0], ()):
                if rest.startswith(spelling):
                    remainder = rest[len(spelling):].lstrip()
                    if len(remainder.replace(" ", "")) >= 2:
                        found.append(canonical)
                        rest = remainder
                        break
            else:
                break
        return (" ".join(found) if found else None), rest


@lru_cache(maxsize=4)
def title_book(reference_dir: str | None = None) -> TitleBook:
    """Titles of thai_name_titles.csv (both full and short spellings) plus the common ones."""
    pairs = dict(_BUILTIN_TITLES)
    if reference_dir:
        path = Path(reference_dir) / "thai_name_titles.csv"
        if path.exists():
            with path.open(encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    full = normalize_thai(row["title_th"])
                    for spelling in (full, normalize_thai(row.get("short_th") or "")):
                        if len(spelling) >= 3:  # shorter ones would eat the start of real names
                            pairs.setdefault(spelling, full)
    return TitleBook.from_pairs(pairs)


def split_phone(text: str) -> tuple[str, str | None]:
    """(the text without its phone, the phone's first number): the first phone printed in the text, with what
    follows it (an extension, a second number) taken out too."""
    m = _PHONE.search(text)
    if m is None:
        return text, None
    number = m.group("labelled") or m.group("bracketed") or m.group("bare")
    end = m.end()
    tail = _AFTER_NUMBER.match(text, end)
    if tail:
        end = tail.end()
    return (text[: m.start()] + " " + text[end:]).strip(), normalize_phone(number)


def parse_person(raw: str, role: str, rendering: int, titles: TitleBook,
                 position_th: str | None = None) -> PersonMention | None:
    """A printed person field -> PersonMention; None when no name is left after the title."""
    split = _split_person(raw, titles)
    if split is None:
        return None
    title, name, phone, position = split
    return PersonMention(role=role, raw=raw.strip(), title_th=title, name_th=name, phone=phone,
                         rendering=rendering, position_th=position_th or position)


@lru_cache(maxsize=1 << 14)
def _split_person(raw: str, titles: TitleBook) -> tuple[str | None, str, str | None, str | None] | None:
    text, phone = split_phone(normalize_thai(raw))
    text = text.strip(" ()[]:-/").strip()
    title, rest = titles.split(text)
    name, position = _name_and_position(normalize_thai(rest.strip(" ()")))
    if len(name.replace(" ", "")) < 2 or titles.is_title(name):
        return None
    return title, name, phone, position


def _name_and_position(text: str) -> tuple[str, str | None]:
    """'สมศรี ทวีคุณ หน.ฝ่ายการศึกษา' -> ('สมศรี ทวีคุณ', 'หน.ฝ่ายการศึกษา'): a first name, a surname (two words after
    'ณ'), then what a position or a unit's abbreviation starts with; a first name alone when the next word is one."""
    words = text.split(" ")
    if len(words) == 1:
        return text, None
    name_words = 1 if _is_position(words[1]) else 3 if words[1] == "ณ" and len(words) > 2 else 2
    position = " ".join(words[name_words:]) or None
    return " ".join(words[:name_words]), position


def _is_position(word: str) -> bool:
    return "." in word or word.startswith(_POSITION_WORDS)


@dataclass(frozen=True)
class ContactLine:
    """The line under a web page's headline progress: the responsible unit, or the people responsible."""

    unit_th: str | None
    people: tuple[PersonMention, ...]


_AND = re.compile(r"\s+และ\s*")


def read_contact_line(line: str, rendering: int, titles: TitleBook) -> ContactLine:
    """'ฝ่ายการศึกษา' or 'กลุ่มงานส่งเสริมสุขภาพ (คุณสมศรี)' -> a unit; 'นายสมชาย บุญวงศ์ และนางสมศรี ทวีคุณ โทร 6628'
    -> two people, the first the project's officer (a phone belongs to the name it follows)."""
    text = " ".join(line.split())  # as printed (a doubled vowel included): the raw text of each person
    if not text:
        return ContactLine(None, ())
    if normalize_thai(text).startswith(UNIT_WORDS):
        return ContactLine(normalize_thai(text), ())
    parts = [p for p in _split_people(text, titles) if p.strip()]
    people = []
    for i, part in enumerate(parts):
        person = parse_person(part, "officer" if i == 0 else "co_officer", rendering, titles)
        if person is not None:
            people.append(person)
    return ContactLine(None, tuple(people))


def _split_people(text: str, titles: TitleBook) -> list[str]:
    """At 'และ' between two people: after a space ('... บุญวงศ์ และสมศรี ...') or before a title ('...บุญวงศ์และนาง...');
    never inside a word ('ฝ่ายพัฒนาชุมชนและสวัสดิการสังคม')."""
    cuts = [m for m in _AND.finditer(text)]
    cuts += [m for m in re.finditer("และ", text) if titles.starts_with_title(text[m.end():])
             and not any(c.start() <= m.start() < c.end() for c in cuts)]
    parts, start = [], 0
    for m in sorted(cuts, key=lambda m: m.start()):
        parts.append(text[start:m.start()])
        start = m.end()
    parts.append(text[start:])
    return parts
