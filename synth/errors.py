"""Errors a user can act on: each names the file, line and field at fault and what is allowed."""
from __future__ import annotations

import difflib
from collections.abc import Iterable


class SynthError(Exception):
    """An error caused by user input; the CLI prints it without a traceback and exits with code 2."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}" if self.line else self.file
        if self.field:
            where = f"{where}: {self.field}" if where else self.field
        return f"{where}: {self.message}" if where else self.message


class RecipeError(SynthError):
    """A recipe that does not validate."""


class WorkspaceError(SynthError):
    """A workspace that is missing, foreign or inconsistent."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
