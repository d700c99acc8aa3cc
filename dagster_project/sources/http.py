"""One HTTP session factory for every source: retries with backoff, Retry-After, timeouts, clear errors.

Transport-level faults (429, 5xx, timeouts, connection resets) are retried by urllib3's ``Retry``, and a
connection broken while the body streams is retried by :func:`request`;
anything still failing raises :class:`~dagster_project.errors.SourceError` naming the URL. Secrets are
never part of a message: headers are not echoed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from dagster_project.errors import NotPublishedError, SourceError

RETRY_STATUSES = (429, 500, 502, 503, 504)


@dataclass(frozen=True)
class HttpPolicy:
    """Retry and timeout settings; ``DEALERFLOW_HTTP_*`` env vars override the defaults."""

    retries: int = 5
    backoff_factor: float = 1.0
    backoff_max: float = 60.0
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    max_redirects: int = 5
    retry_after_max: float = 300.0  # a server asking for a longer wait (hours) must not hang a run

    @classmethod
    def from_env(cls) -> "HttpPolicy":
        env = os.environ.get
        return cls(
            retries=int(env("DEALERFLOW_HTTP_RETRIES", cls.retries)),
            backoff_factor=float(env("DEALERFLOW_HTTP_BACKOFF", cls.backoff_factor)),
            backoff_max=float(env("DEALERFLOW_HTTP_BACKOFF_MAX", cls.backoff_max)),
            connect_timeout=float(env("DEALERFLOW_HTTP_CONNECT_TIMEOUT", cls.connect_timeout)),
            read_timeout=float(env("DEALERFLOW_HTTP_READ_TIMEOUT", cls.read_timeout)),
            retry_after_max=float(env("DEALERFLOW_HTTP_RETRY_AFTER_MAX", cls.retry_after_max)),
        )

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)


def make_session(user_agent: str, policy: HttpPolicy | None = None) -> requests.Session:
    policy = policy or HttpPolicy.from_env()
    retry = Retry(
        total=policy.retries,
        connect=policy.retries,
        read=policy.retries,
        status=policy.retries,
        backoff_factor=policy.backoff_factor,
        backoff_max=policy.backoff_max,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=None,  # POST queries to the FINRA API are idempotent reads
        respect_retry_after_header=True,
        retry_after_max=int(policy.retry_after_max),
        raise_on_status=False,
        redirect=policy.max_redirects,
    )
    session = requests.Session()
    session.max_redirects = policy.max_redirects
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    session.headers["Accept-Encoding"] = "gzip, deflate"
    return session


def request(
    session: requests.Session,
    method: str,
    url: str,
    *,
    what: str,
    policy: HttpPolicy | None = None,
    not_published_statuses: tuple[int, ...] = (),
    **kwargs,
) -> requests.Response:
    """Send one request; return the response for 2xx, raise a clear error otherwise.

    ``what`` names the partition or file being fetched and starts every error message.
    Statuses in ``not_published_statuses`` raise :class:`NotPublishedError` (e.g. 403 from a CDN
    for a file that does not exist yet).
    """
    policy = policy or HttpPolicy.from_env()
    # urllib3 retries until the headers arrive; a connection broken while the body streams is retried here.
    send = lambda: _request_once(session, method, url, what=what, policy=policy,  # noqa: E731
                                 not_published_statuses=not_published_statuses, **kwargs)
    for attempt in range(policy.retries):
        try:
            return send()
        except requests.exceptions.ChunkedEncodingError:
            time.sleep(min(policy.backoff_factor * (2 ** attempt), policy.backoff_max))
    try:
        return send()
    except requests.exceptions.ChunkedEncodingError as exc:
        raise SourceError(f"{what}: connection broken while reading the response from {url} "
                          f"after {policy.retries} retries: {_reason(exc)}") from exc


def _request_once(session, method, url, *, what, policy, not_published_statuses, **kwargs) -> requests.Response:
    try:
        response = session.request(method, url, timeout=policy.timeout, **kwargs)
        # Touch the body now so a corrupt gzip stream or a broken connection fails here, inside the error mapping.
        _ = response.content
    except requests.exceptions.TooManyRedirects as exc:
        raise SourceError(f"{what}: too many redirects from {url} (redirect loop?)") from exc
    except requests.exceptions.ContentDecodingError as exc:
        raise SourceError(f"{what}: corrupt compressed response from {url}: {exc}") from exc
    except requests.exceptions.RetryError as exc:
        raise SourceError(f"{what}: gave up after {policy.retries} retries on {url}: {_reason(exc)}") from exc
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise SourceError(f"{what}: could not reach {url} after {policy.retries} retries: {_reason(exc)}") from exc
    if response.status_code in not_published_statuses:
        raise NotPublishedError(f"{what}: not published yet (HTTP {response.status_code} from {url})")
    if response.status_code >= 400:
        snippet = response.text[:200].replace("\n", " ") if response.content else ""
        raise SourceError(f"{what}: HTTP {response.status_code} from {url}" + (f": {snippet}" if snippet else ""))
    return response


def _reason(exc: Exception) -> str:
    inner = getattr(exc, "args", [None])[0]
    reason = getattr(inner, "reason", None)
    return str(reason or inner or exc)
