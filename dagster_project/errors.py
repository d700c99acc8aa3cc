"""Errors that name what went wrong and where (file, line, partition), so one line tells an operator what to fix."""

from __future__ import annotations


class DealerflowError(Exception):
    """Base class: every message names the file or partition and the problem."""


class SourceError(DealerflowError):
    """A source could not be read (HTTP error, timeout, inconsistent paging)."""


class NotPublishedError(SourceError):
    """The source says the partition does not exist yet (HTTP 403/404 on static files). Not a failure."""


class IncompletePartitionError(SourceError):
    """Fewer (or more) rows arrived than the source promised: the partition is not landed."""


class ParseError(DealerflowError):
    """An upstream file does not have the documented format."""

    def __init__(self, source: str, problem: str, line: int | None = None):
        self.source = str(source)
        self.problem = problem
        self.line = line
        where = f"{self.source}, line {line}" if line is not None else self.source
        super().__init__(f"{where}: {problem}")


class ReconciliationError(ParseError):
    """A file's own control totals (trailer count, total quantity) disagree with its rows."""
