"""One user-facing problem: file, line, field path, message and rule code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Problem:
    """One user-facing problem in one file: ``file:line: field.path: message``."""

    file: str
    line: int | None
    path: str
    message: str
    code: str = ""
    severity: str = "error"  # "warning": a style rule; reported by `validate`, never blocks a command

    def format(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field_path = f" {self.path}:" if self.path else ""
        code = f" [{self.code}]" if self.code else ""
        level = " warning:" if self.severity == "warning" else ""
        return f"{where}:{level}{field_path} {self.message}{code}"
