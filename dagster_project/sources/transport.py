"""Where a fetcher's bytes come from: the live host over HTTP, or a local replay folder.

A replay folder mirrors the source's URL paths under ``<root>/<source>/``. A request with query
parameters maps to ``<path>@<k1=v1&k2=v2>`` (parameters sorted), so one recorded or synthetic folder
serves both the replay fetcher and a local test HTTP server. A missing replay file behaves like the
host's 404: :class:`NotPublishedError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode

from dagster_project.errors import NotPublishedError, SourceError
from dagster_project.settings import source_url
from dagster_project.sources.http import HttpPolicy, make_session, request


def replay_relpath(path: str, params: dict | None = None) -> str:
    """Relative file name of a GET request inside a replay folder."""
    rel = path.lstrip("/")
    if ".." in Path(rel).parts:
        raise SourceError(f"refusing replay path outside its root: {path!r}")
    if params:
        query = urlencode(sorted((str(k), str(v)) for k, v in params.items()))
        if "/" in query:
            raise SourceError(f"replay query must not contain '/': {query!r}")
        rel = f"{rel}@{query}"
    return rel


class Fetcher(Protocol):
    def get(self, path: str, params: dict | None = None, *, what: str,
            not_published: tuple[int, ...] = (403, 404), headers: dict | None = None) -> bytes: ...

    def describe(self, path: str, params: dict | None = None) -> str: ...


class HttpFetcher:
    """GETs ``<base_url><path>`` with retries; base URL from ``DEALERFLOW_<SOURCE>_URL``."""

    def __init__(self, source: str, user_agent: str, base_url: str | None = None, policy: HttpPolicy | None = None):
        self.source = source
        self.base_url = (base_url or source_url(source)).rstrip("/")
        self.policy = policy or HttpPolicy.from_env()
        self.session = make_session(user_agent, self.policy)

    def describe(self, path: str, params: dict | None = None) -> str:
        query = f"?{urlencode(params)}" if params else ""
        return f"{self.base_url}/{path.lstrip('/')}{query}"

    def get(self, path, params=None, *, what, not_published=(403, 404), headers=None) -> bytes:
        url = f"{self.base_url}/{path.lstrip('/')}"
        response = request(self.session, "GET", url, what=what, policy=self.policy,
                           not_published_statuses=not_published, params=params, headers=headers)
        return response.content


class ReplayFetcher:
    """Reads the same upstream bytes from ``<root>/<source>/`` instead of the network."""

    def __init__(self, source: str, root: Path):
        self.source = source
        self.root = Path(root) / source.lower()

    def describe(self, path: str, params: dict | None = None) -> str:
        return str(self.root / replay_relpath(path, params))

    def get(self, path, params=None, *, what, not_published=(403, 404), headers=None) -> bytes:
        file = self.root / replay_relpath(path, params)
        if not file.is_file():
            raise NotPublishedError(f"{what}: not in replay folder ({file})")
        return file.read_bytes()
