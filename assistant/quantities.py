"""Numbers found in commitment text, with their units, qualifiers and the exact span they came from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

# Longest first, so that 亿美元 wins over 亿 and 个百分点 over 个.
MAGNITUDES = ("万亿", "亿", "千万", "百万", "万", "千")
BASE_UNITS = (
    "个百分点", "平方米", "立方米", "人次", "家次", "港币", "美元", "公里", "㎡", "bp",
    "元", "%", "家", "个", "项", "人", "亩", "座", "户", "套", "名", "场", "次", "件", "只", "条", "辆",
    "吨", "斤", "头", "所", "批", "期", "枚", "部", "棵", "倍", "年", "月", "日", "天", "层", "股",
)
QUALIFIERS_BEFORE = ("不少于", "不低于", "不超过", "超过", "达到", "突破", "约", "超", "达", "近", "≤", "≥")
QUALIFIERS_AFTER = ("以上", "以下", "以内", "左右", "余", "多")
DATE_UNITS = {"年", "月", "日", "天"}
MAGNITUDE_FACTORS = {"万亿": 10**12, "亿": 10**8, "千万": 10**7, "百万": 10**6, "万": 10**4, "千": 10**3}

_magnitude = "|".join(MAGNITUDES)
_base = "|".join(re.escape(u) for u in sorted(BASE_UNITS, key=len, reverse=True))
_before = "|".join(QUALIFIERS_BEFORE)
_after = "|".join(QUALIFIERS_AFTER)
NUMBER = re.compile(
    rf"(?P<before>{_before})?"
    rf"(?<![\d.])(?P<value>\d+(?:,\d{{3}})*(?:\.\d+)?)"
    rf"(?P<mag>{_magnitude})?(?P<post>余|多)?(?P<base>{_base})?(?P<after>{_after})?"
)


CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def cn_to_int(text: str) -> int | None:
    """Chinese numerals up to 999 (三 -> 3, 十四 -> 14, 二十 -> 20); digits pass through."""
    if text.isdigit():
        return int(text)
    if not text or any(ch not in CN_DIGITS and ch not in "十百" for ch in text):
        return None
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = CN_DIGITS[ch]
    return total + current


@dataclass(frozen=True)
class Quantity:
    value: Decimal  # the number as written (15.6 in 15.6亿美元)
    unit: str  # magnitude and unit as written: 亿美元, 万人, %, 个百分点, or "" for a bare number
    raw: str  # the exact substring, qualifiers included
    start: int
    end: int
    qualifier: str = ""  # 不少于, 以上, 超 …

    @property
    def is_date(self) -> bool:
        return self.unit in DATE_UNITS

    @property
    def magnitude(self) -> str:
        return next((m for m in MAGNITUDES if self.unit.startswith(m)), "")

    @property
    def base_unit(self) -> str:
        return self.unit[len(self.magnitude):]

    def scaled(self) -> Decimal:
        """The value in base units (15.6亿美元 -> 1560000000 美元), to compare 1.2万 with 12000."""
        return self.value * MAGNITUDE_FACTORS.get(self.magnitude, 1)


def quantities(text: str) -> list[Quantity]:
    """Every number in the text. Ranges such as 1-11月 give their end points; dates are marked."""
    found = []
    for m in NUMBER.finditer(text):
        unit = (m.group("mag") or "") + (m.group("base") or "")
        qualifier = m.group("before") or m.group("post") or m.group("after") or ""
        found.append(
            Quantity(
                value=Decimal(m.group("value").replace(",", "")),
                unit=unit,
                raw=m.group(0),
                start=m.start(),
                end=m.end(),
                qualifier=qualifier,
            )
        )
    return found
