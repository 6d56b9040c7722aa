"""Exceptions raised by gosym.

A miss (an address outside every function) is never an error; malformed or
unsupported input is.
"""
from __future__ import annotations


class GosymError(Exception):
    """GosymError is the base of every error gosym raises about its input."""

    path: str | None = None  #: the file the error is about (set by `with_path`), or None

    def with_path(self, path: str | None) -> "GosymError":
        """with_path records the file the error is about and returns self."""
        if path is not None and self.path is None:
            self.path = str(path)
        return self

    def one_line(self) -> str:
        """one_line renders the error as `FILE: message` for the CLI."""
        msg = str(self)
        return f"{self.path}: {msg}" if self.path else msg


class FormatError(GosymError, ValueError):
    """FormatError reports malformed data, naming the section and file offset."""

    def __init__(self, message: str, section: str | None = None, offset: int | None = None):
        self.message = message  #: what is wrong
        self.section = section  #: the section it is in, or None
        self.offset = offset    #: the offset of the bad data (file offset; section offset in DWARF), or None
        super().__init__(message)

    def __str__(self) -> str:
        parts = []
        if self.section:
            parts.append(self.section)
        text = self.message
        if self.offset is not None:
            text += f" at offset {self.offset:#x}"
        parts.append(text)
        return ": ".join(parts)

    def __reduce__(self):
        return (type(self), (self.message, self.section, self.offset))


class NotGoBinaryError(GosymError):
    """NotGoBinaryError means the input holds no Go symbol table gosym can find."""


class UnsupportedError(GosymError):
    """UnsupportedError means the input is valid but uses something gosym does not read."""


class GosymWarning(UserWarning):
    """GosymWarning reports input gosym read only in part or by a fallback
    (container headers unreadable: read as a raw image)."""
