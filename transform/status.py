"""Status phrases onto the closed vocabulary of CONTRACT.md, negation first, never by similarity alone.

"เป็นไปตามแผน" and "ไม่เป็นไปตามแผน" are ~89 % alike by edit ratio, so polarity is decided by the
negation word, and only then is the phrase compared with the phrases of that polarity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from common.text import normalize_thai

_NEGATION = re.compile(r"ไม่\s*เป็น|ไม่\s*ตาม|ไม่\s*บรรลุ")
_MONITOR = re.compile(r"แต่\s*ควร|ควร\s*ติดตาม")
_PLAN_WORD = re.compile(r"แผ\S?น|ตามแผ")
_TARGET_WORD = re.compile(r"เป้า|ป้าหมาย|เป้ห")
_POSITIVE_PHRASES = ("เป็นไปตามแผน", "เป็นไปตามแผนแต่ควรติดตาม", "เป็นไปตามเป้าหมาย")
_MIN_FUZZY = 75.0


@dataclass(frozen=True)
class StatusReading:
    """What one status phrase says; both None when it fits nothing (a dq finding, not a guess)."""

    plan: str | None
    target: str | None


@lru_cache(maxsize=1 << 12)  # a few hundred phrases recur in every form
def classify_status(phrase: str) -> StatusReading:
    """'เป็นไปตามแผนแต่ควรถัด' -> on_plan_monitor; 'ไม่เป็นไปตามเป้าหมาย' -> off_target.

    One phrase can carry both statuses when OCR glued them together
    ('เป็นไปตามแผนแต่ควรติดตามเป็นปกติตามเป้าหมาย').
    """
    text = normalize_thai(phrase).replace(" ", "")
    if not text:
        return StatusReading(None, None)
    plan_at = _PLAN_WORD.search(text)
    target_at = _TARGET_WORD.search(text)
    if plan_at is None and target_at is None:
        return _classify_cut_phrase(text)
    plan = target = None
    if plan_at is not None:
        plan_part = text[: target_at.start()] if target_at and target_at.start() > plan_at.start() else text
        if _NEGATION.search(plan_part[: plan_at.end()]):
            plan = "off_plan"
        elif _MONITOR.search(plan_part[plan_at.start():]):
            plan = "on_plan_monitor"
        else:
            plan = "on_plan"
    if target_at is not None:
        start = plan_at.end() if plan_at and plan_at.start() < target_at.start() else 0
        target_part = text[start: target_at.end()]
        target = "off_target" if _NEGATION.search(target_part) else "on_target"
    return StatusReading(plan, target)


def _classify_cut_phrase(text: str) -> StatusReading:
    """A phrase cut before its key word ('เป็นไปตามแ'): compare with phrases of its own polarity only."""
    if _NEGATION.search(text) or text.startswith("ไม่"):
        return StatusReading(None, None)  # a cut negated phrase cannot tell plan from target
    best = max(_POSITIVE_PHRASES, key=lambda p: fuzz.ratio(text, p))
    if fuzz.ratio(text, best) < _MIN_FUZZY or len(text) < 8:
        return StatusReading(None, None)
    if best == "เป็นไปตามเป้าหมาย":
        return StatusReading(None, "on_target")
    return StatusReading("on_plan_monitor" if "แต่" in text else "on_plan", None)
