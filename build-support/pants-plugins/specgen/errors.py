"""Errors of a spec set: every problem carries its file, line and key path, none is a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Optional


@dataclass(frozen=True)
class SpecError:
    file: str  # repo-relative path of the spec
    line: int  # 1-based
    path: str  # key path inside the document: "models.User.fields.age.type", "" for the whole file
    message: str
    hint: Optional[str] = None

    def sort_key(self) -> tuple:
        return (self.file, self.line, self.path, self.message, self.hint or "")

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: "
        if self.path:
            where += f"{self.path}: "
        text = where + self.message
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


class SpecErrors(Exception):
    """All the errors of one load, sorted by file, line and key path; str() is one per line."""

    def __init__(self, errors: Iterable[SpecError]) -> None:
        self.errors: List[SpecError] = sorted(errors, key=SpecError.sort_key)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)
