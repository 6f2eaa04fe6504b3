"""People as printed: title, name and phone split apart ('น.ส.ณัฐพิมล สิริภักดิ์กุล โทร 6628')."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from common.records import PersonMention
from common.text import normalize_thai
from transform.values import normalize_phone

_PHONE = re.compile(r"\(?\s*(?:เบอร์\s*โทร(?:ศัพท์)?|โทร(?:ศัพท์)?)\s*\.?\s*:?\s*([0-9๐-๙][0-9๐-๙\s-]*)\)?")
_BUILTIN_TITLES = {  # spelling -> canonical title (used when the reference file is unavailable)
    "นาย": "นาย", "นาง": "นาง", "นางสาว": "นางสาว", "น.ส.": "นางสาว", "ดร.": "ดร.",
    "ว่าที่ร้อยตรี": "ว่าที่ร้อยตรี", "ว่าที่ ร.ต.": "ว่าที่ร้อยตรี", "ว่าที่ร.ต.": "ว่าที่ร้อยตรี",
}


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


def parse_person(raw: str, role: str, rendering: int, titles: TitleBook,
                 position_th: str | None = None) -> PersonMention | None:
    """A printed person field -> PersonMention; None when no name is left after the title."""
    split = _split_person(raw, titles)
    if split is None:
        return None
    title, name, phone = split
    return PersonMention(role=role, raw=raw.strip(), title_th=title, name_th=name, phone=phone,
                         rendering=rendering, position_th=position_th)


@lru_cache(maxsize=1 << 14)
def _split_person(raw: str, titles: TitleBook) -> tuple[str | None, str, str | None] | None:
    text = normalize_thai(raw)
    phone = None
    m = _PHONE.search(text)
    if m:
        phone = normalize_phone(m.group(1))
        text = (text[: m.start()] + " " + text[m.end():]).strip()
    text = text.strip(" ()[]:-").strip()
    title, name = titles.split(text)
    name = normalize_thai(name.strip(" ()"))
    if len(name.replace(" ", "")) < 2 or titles.is_title(name):
        return None
    return title, name, phone
