"""Request and response models: the OpenAPI schema that /openapi.json publishes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_QUESTION = 1000


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int | None = Field(None, ge=1900, le=2100)
    department: str | None = Field(None, max_length=100)
    category: str | None = Field(None, max_length=50)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(..., min_length=1, max_length=MAX_QUESTION, description="The question, in Chinese or English")
    filters: Filters | None = None


class CitationModel(BaseModel):
    id: int
    source: str
    title: str | None = None  # the document's title, from data/sources.toml
    line: int
    year: int
    kind: str
    department: str
    item: int | None
    field: str
    quote: str
    span: list[int] | None = None
    sheet: str | None = None


class FactModel(BaseModel):
    label: str
    department: str | None
    year: int | None
    value: float | int | str
    value_text: str
    unit: str
    citations: list[int]
    method: str | None = None


class ColumnModel(BaseModel):
    key: str = Field(..., max_length=100)
    label: str = Field(..., max_length=200)
    numeric: bool = False


class CellModel(BaseModel):
    text: str = Field(..., max_length=2000)
    value: float | int | None = None
    cite: int | None = None


class TableModel(BaseModel):
    title: str = Field("", max_length=200)
    ranked_by: str | None = None
    columns: list[ColumnModel] = Field(..., min_length=1, max_length=50)
    rows: list[list[CellModel]] = Field(..., max_length=5000)


class AnswerModel(BaseModel):
    question: str
    answer: str
    mode: Literal["facts", "retrieval", "llm", "refusal"]
    citations: list[CitationModel]
    facts: list[FactModel]
    searched: dict[str, Any]
    intent: str
    warnings: list[str]
    data_version: str
    table: TableModel | None = None


class DepartmentModel(BaseModel):
    year: int
    kind: str
    department: str
    category: str | None
    score: float | int | None
    score_text: str | None
    rank: int | None
    coefficient: float | int | None
    coefficient_text: str | None
    items: int
    source: str
    line: int


class SummaryModel(BaseModel):
    department: str
    years: list[dict[str, Any]]
    citations: list[CitationModel]
    facts: list[FactModel]
    markdown: str
    html: str
    chart: dict[str, Any] | None


class RowModel(BaseModel):
    source: str
    line: int
    department: str
    item: int
    year: int
    kind: str
    category: str | None
    title: str
    text: str
    score: float
    final_score: str | None
    coefficient: str | None


class SourceLineModel(BaseModel):
    source: str
    line: int
    raw: str | None
    title: str
    year: int
    kind: str | None
    record: dict[str, Any] | None
    data_version: str = ""  # the published version the line was read from


class PublishedFileModel(BaseModel):
    file: str
    year: int
    kind: str | None
    rows_read: int
    records: int
    departments: int
    rejected: int
    warnings: list[str]
    changed: bool


class ProblemModel(BaseModel):
    file: str
    line: int | None
    sheet: str | None
    cell: str | None
    column: str | None
    message: str
    text: str  # file:line: column …: message, as the CLI prints it


class PublishModel(BaseModel):
    ok: bool
    dry_run: bool
    version: dict[str, Any] | None  # the new version's manifest: version, parent, published_at/by, files
    files: list[PublishedFileModel]
    problems: list[ProblemModel]
    detail: str | None = None


class PublishRejectedModel(BaseModel):
    """422: a rejected publish (every problem; nothing changed), or a form field that is wrong or missing."""

    detail: str
    field: str | None = None
    ok: bool = False
    dry_run: bool = False
    version: dict[str, Any] | None = None
    files: list[PublishedFileModel] = []
    problems: list[ProblemModel] = []


class SourceModel(BaseModel):
    file: str
    year: int
    kind: str | None
    title: str
    records: int


class SourcesModel(BaseModel):
    data_version: str
    sources: list[SourceModel]
    versions: list[dict[str, Any]]


class ErrorModel(BaseModel):
    detail: str
    field: str | None = None
    suggestions: list[str] | None = None


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIErrorModel(BaseModel):
    """Errors on /v1/* as OpenAI sends them."""

    error: OpenAIErrorDetail


# ---- OpenAI Chat Completions --------------------------------------------------------------------------

class ContentPart(BaseModel):
    type: str = Field(..., max_length=50)
    text: str | None = Field(None, max_length=20000)


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[ContentPart] | None = Field(None)
    name: str | None = Field(None, max_length=100)

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text or "" for p in self.content or [] if p.type == "text")


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, top_p … are accepted and ignored: answers are exact
    model: str = Field("review-assistant", max_length=200)
    messages: list[ChatMessage] = Field(..., min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int | None = Field(None, description="Only 1: answers are computed, every choice would be the same")
    max_tokens: int | None = Field(None, description="Cuts the answer at a sentence end (finish_reason: length)")
    max_completion_tokens: int | None = None
    stop: str | list[str] | None = Field(None, description="The answer text ends before the first stop sequence")


class ChatChoiceMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int
    message: ChatChoiceMessage
    finish_reason: str


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatResponse(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage
    citations: list[CitationModel]
    answer: AnswerModel | None  # None for Open WebUI's background tasks (title, tags, follow-ups)


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
