"""The error tree of the core: every domain failure is a PaichaError."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a campaign, located by file, line, column and JSON path."""

    source: str
    line: int
    column: int
    path: str
    message: str
    hint: str = ""
    severity: Severity = "error"

    def __str__(self) -> str:
        text = f"{self.source}:{self.line}:{self.column}  {self.path}  {self.message}"
        if self.severity == "warning":
            text = f"{self.source}:{self.line}:{self.column}  {self.path}  warning: {self.message}"
        return f"{text}  ({self.hint})" if self.hint else text

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
            "severity": self.severity,
        }


class PaichaError(Exception):
    """Root of every error the engine raises on purpose."""

    code = "paicha_error"


class CampaignInvalid(PaichaError):
    """A campaign failed validation; carries every problem found, sorted by position."""

    code = "campaign_invalid"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: Sequence[Problem] = sorted(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        first = f": {errors[0]}" if errors else ""
        super().__init__(f"campaign invalid, {len(errors)} problem(s){first}")


class CampaignNotFound(PaichaError):
    """No campaign with the given id is known."""

    code = "campaign_not_found"

    def __init__(self, campaign_id: str, known: Sequence[str] = ()) -> None:
        self.campaign_id = campaign_id
        self.known = list(known)
        super().__init__(f"no campaign with id {campaign_id!r}")


class CalendarOutOfRange(PaichaError):
    """A date lies outside the years the statutory calendar covers."""

    code = "calendar_out_of_range"

    def __init__(self, day: object, first: object, last: object) -> None:
        self.day, self.first, self.last = day, first, last
        super().__init__(
            f"{day} is outside the statutory calendar ({first} to {last}); "
            "upgrade the chinesecalendar package or set `calendar: none`"
        )
