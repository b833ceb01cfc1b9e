"""The domain's fields in one table: name, the label the source tables and answers use, kind and unit.

Ingest matches header cells against `labels` and `header_aliases`; chunks, facts, citations, the LLM prompt
and the records' JSON all name fields from here, so a label is spelled in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldKind = Literal["text", "decimal", "int", "item"]


@dataclass(frozen=True)
class FieldSpec:
    name: str  # the attribute of a Commitment (department, score …)
    label: str  # the column as the source tables write it (最终得分)
    kind: FieldKind
    unit: str = ""  # what a value of it is counted in (分, 名)
    english: str = ""  # the label in English answers
    header_aliases: tuple[str, ...] = ()  # other header cells an office may use for the column
    per_department: bool = False  # written on a department's first row, carried down to its other rows


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("department", "部门", "text", english="department", header_aliases=("单位", "部门名称", "单位名称"),
              per_department=True),
    FieldSpec("title", "承诺事项", "item", english="commitment"),
    FieldSpec("number", "序号", "int", english="no."),
    FieldSpec("outcome", "兑现情况", "text", english="outcome", header_aliases=("完成情况",)),
    FieldSpec("target", "年度目标", "text", english="annual target"),
    FieldSpec("score", "最终得分", "decimal", "分", "final score", ("得分",), per_department=True),
    FieldSpec("rank", "类别内排名", "int", "名", "rank in category", ("排名",), per_department=True),
    FieldSpec("coefficient", "评定难度系数", "decimal", "", "difficulty coefficient", ("难度系数",),
              per_department=True),
    FieldSpec("category", "类别", "text", english="category", per_department=True),
)
BY_NAME = {f.name: f for f in FIELDS}


def spec(name: str) -> FieldSpec:
    return BY_NAME[name]


def label(name: str) -> str:
    """The column label of a field: label("score") == "最终得分"."""
    return BY_NAME[name].label


def header_columns() -> dict[str, str]:
    """Every header cell ingest understands -> the field it fills."""
    found: dict[str, str] = {}
    for f in FIELDS:
        for cell in (f.label, *f.header_aliases):
            found[cell] = f.name
    return found


def text_field(kind: str) -> str:
    """The field that holds a row's text: 兑现情况 for outcomes, 年度目标 for targets."""
    return "outcome" if kind == "outcomes" else "target"


# The measures a question can ask for, as fields of a department's row.
MEASURES = ("score", "rank", "coefficient")
