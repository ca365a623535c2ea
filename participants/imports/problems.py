"""What can be wrong with an arrears file: one row (`RowError`) or the whole file (`FileRejected`).

Re-exported by `parse.py`, which is where callers import them from.
"""

from __future__ import annotations

from dataclasses import dataclass

VALUE_MAX_CHARS = 200


@dataclass
class RowError:
    """One problem in one row. `row` is the row number a spreadsheet shows (the header is row 1)."""

    row: int
    column: str  # canonical column name ('' for the whole row)
    message: str  # Bahasa Indonesia, names the problem
    value: str  # the original cell text ('' if none), at most 200 characters

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message, "value": self.value}


class FileRejected(Exception):
    """The file as a whole cannot be imported; nothing of it is applied.

    `message` (Bahasa Indonesia) says what is wrong and what was found.
    `code` is stable for programs: empty, not_table, undecodable, too_large,
    too_many_rows, too_many_columns, zip_bomb, sheet_too_large, no_sheet, missing_columns,
    duplicate_columns, unreadable, no_rows, not_found.
    """

    def __init__(self, message: str, *, code: str = "rejected"):
        self.message = str(message)
        self.code = code
        super().__init__(self.message)
