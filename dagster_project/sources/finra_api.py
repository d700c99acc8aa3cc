"""FINRA Query API client (``api.finra.org``): one partition at a time, paged, complete or not at all.

A partition is fetched with EQUAL filters on its partition fields, in pages of up to 5,000 records,
until ``offset >= Record-Total``. HTTP 204 means the partition is empty. The fetch is complete only
when the records received equal ``Record-Total``; if ``Record-Total`` changes between pages (FINRA
republishing mid-fetch), the whole partition is fetched again, a bounded number of times.

The same pages can come from a replay folder (``<root>/finra_api/<dataset>/<field>=<value>/.../
page-NNNNN.json``): what the synthetic source writes and what recorded responses look like.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from dagster_project.errors import IncompletePartitionError, SourceError
from dagster_project.settings import source_url
from dagster_project.sources.http import HttpPolicy, make_session, request

MAX_PAGE = 5000
GROUP = "otcMarket"
#: Datasets that are age-based views of another one with the same fields (replay stores the canonical one).
REPLAY_ALIASES = {"weeklySummaryHistoric": "weeklySummary"}


@dataclass
class FetchedPartition:
    """Raw pages of one partition, exactly as sent, with the totals that prove completeness."""

    dataset: str
    filters: dict[str, str]
    pages: list[bytes] = field(default_factory=list)
    record_total: int = 0
    #: records counted while fetching; None when the source only states Record-Total (verified when parsed)
    records: int | None = 0
    source: str = ""

    @property
    def what(self) -> str:
        return describe(self.dataset, self.filters)

    def payloads(self) -> dict[str, bytes]:
        return {f"page-{i:05d}.json": page for i, page in enumerate(self.pages, start=1)}

    def facts(self) -> dict:
        return {"dataset": self.dataset, "filters": self.filters, "record_total": self.record_total,
                "records": self.records, "pages": len(self.pages), "source": self.source}


def describe(dataset: str, filters: dict[str, str]) -> str:
    return f"{dataset} " + " ".join(f"{k}={v}" for k, v in sorted(filters.items()))


def count_records(page: bytes, what: str) -> int:
    try:
        records = json.loads(page)
    except ValueError as exc:
        raise SourceError(f"{what}: response is not valid JSON: {exc}") from exc
    if not isinstance(records, list):
        raise SourceError(f"{what}: expected a JSON array of records, got {type(records).__name__}")
    return len(records)


class FinraApiClient:
    """Live client. Anonymous by default; a bearer token (``DEALERFLOW_FINRA_TOKEN``) is sent when set."""

    def __init__(self, base_url: str | None = None, token: str | None = None, page_size: int = MAX_PAGE,
                 policy: HttpPolicy | None = None, max_restarts: int = 3):
        self.base_url = (base_url or source_url("FINRA_API")).rstrip("/")
        self.page_size = min(page_size, MAX_PAGE)
        self.policy = policy or HttpPolicy.from_env()
        self.max_restarts = max_restarts
        self.session = make_session("dealerflow/0.1 (FINRA OTC transparency batch)", self.policy)
        self.session.headers["Accept"] = "application/json"
        token = token if token is not None else os.environ.get("DEALERFLOW_FINRA_TOKEN")
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def __repr__(self) -> str:  # never show the token
        return f"FinraApiClient(base_url={self.base_url!r})"

    def fetch_partition(self, dataset: str, filters: dict[str, str]) -> FetchedPartition:
        what = describe(dataset, filters)
        last_error: Exception | None = None
        for _attempt in range(self.max_restarts):
            try:
                return self._fetch_once(dataset, filters, what)
            except _TotalChanged as exc:
                last_error = exc
        raise IncompletePartitionError(f"{what}: Record-Total kept changing while paging ({last_error}); "
                                       f"gave up after {self.max_restarts} attempts, nothing landed")

    def _fetch_once(self, dataset: str, filters: dict[str, str], what: str) -> FetchedPartition:
        url = f"{self.base_url}/data/group/{GROUP}/name/{dataset}"
        result = FetchedPartition(dataset, dict(filters), source=url)
        offset, total = 0, None
        while True:
            body = {
                "compareFilters": [{"compareType": "EQUAL", "fieldName": k, "fieldValue": v}
                                   for k, v in filters.items()],
                "limit": self.page_size,
                "offset": offset,
            }
            response = request(self.session, "POST", url, what=f"{what} offset={offset}", policy=self.policy, json=body)
            if response.status_code == 204:
                if offset == 0:
                    return result  # an empty partition: complete with zero records
                raise IncompletePartitionError(f"{what}: HTTP 204 at offset {offset} of Record-Total {total}; nothing landed")
            page_total = _record_total(response, what)
            if total is None:
                total = page_total
            elif page_total != total:
                raise _TotalChanged(f"Record-Total {total} -> {page_total} at offset {offset}")
            n = count_records(response.content, f"{what} offset={offset}")
            promised = response.headers.get("Total-Records-On-Page")
            if promised is not None and promised.strip().isdigit() and int(promised) != n:
                raise IncompletePartitionError(
                    f"{what}: page at offset {offset} holds {n} records but Total-Records-On-Page says {promised}; nothing landed")
            if n == 0 and offset < total:
                raise IncompletePartitionError(
                    f"{what}: empty page at offset {offset} before Record-Total {total} was reached; nothing landed")
            result.pages.append(response.content)
            result.records += n
            offset += n
            if offset >= total:
                break
        result.record_total = total
        if result.records != total:
            raise IncompletePartitionError(f"{what}: received {result.records} records, Record-Total is {total}; nothing landed")
        return result

    def available_partitions(self, dataset: str) -> list[dict[str, str]]:
        """Partitions FINRA lists as published (``GET /partitions/group/otcMarket/name/<dataset>``), keyed by field."""
        url = f"{self.base_url}/partitions/group/{GROUP}/name/{dataset}"
        response = request(self.session, "GET", url, what=f"{dataset} partitions", policy=self.policy)
        try:
            payload = response.json()
        except ValueError as exc:
            raise SourceError(f"{dataset} partitions: response is not JSON: {exc}") from exc
        fields = payload.get("partitionFields") or []
        out = []
        for entry in payload.get("availablePartitions", []):
            values = entry.get("partitions", [])
            if len(values) != len(fields):
                raise SourceError(f"{dataset} partitions: {values} does not match partitionFields {fields}")
            out.append(dict(zip(fields, values)))
        return out


class _TotalChanged(Exception):
    pass


def _record_total(response, what: str) -> int:
    raw = response.headers.get("Record-Total")
    if raw is None or not raw.strip().isdigit():
        raise SourceError(f"{what}: response has no numeric Record-Total header (got {raw!r})")
    return int(raw)


def _replay_segment(value: str) -> str:
    """One folder name inside the replay root: dataset and filter values cannot climb out of it."""
    if not value or value in {".", ".."} or "/" in value or "\\" in value or "\x00" in value:
        raise SourceError(f"refusing replay path segment {value!r} (outside the replay folder)")
    return value


class FinraReplayClient:
    """Reads pages from a replay folder laid out like the lake's payloads (see module docstring)."""

    def __init__(self, root: Path):
        self.root = Path(root) / "finra_api"

    def partition_dir(self, dataset: str, filters: dict[str, str]) -> Path:
        path = self.root / _replay_segment(REPLAY_ALIASES.get(dataset, dataset))
        for key, value in sorted(filters.items()):
            path = path / _replay_segment(f"{key}={value}")
        return path

    def fetch_partition(self, dataset: str, filters: dict[str, str]) -> FetchedPartition:
        """The folder's pages and the Record-Total its ``response.json`` recorded.

        Records are not counted here: every caller parses the pages and refuses a partition whose parsed rows
        differ from Record-Total, so counting (a full JSON decode, ~1 s per 100 MB) would parse everything twice.
        Without a ``response.json`` the pages are counted and their count is the total."""
        pdir = self.partition_dir(dataset, filters)
        result = FetchedPartition(dataset, dict(filters), source=str(pdir))
        if not pdir.is_dir():
            return result  # what the API answers with 204
        result.pages = [page_path.read_bytes() for page_path in sorted(pdir.glob("page-*.json"))]
        meta_path = pdir / "response.json"
        if meta_path.is_file():
            result.record_total = json.loads(meta_path.read_text())["record_total"]
            result.records = None
        else:
            result.records = result.record_total = sum(count_records(page, f"{result.what} ({pdir})")
                                                       for page in result.pages)
        return result

    def available_partitions(self, dataset: str) -> list[dict[str, str]]:
        root = self.root / REPLAY_ALIASES.get(dataset, dataset)
        out = []
        for pdir in sorted({p.parent for p in root.glob("**/response.json")}):
            out.append(dict(part.split("=", 1) for part in pdir.relative_to(root).parts))
        return out


def write_replay_partition(root: Path, dataset: str, filters: dict[str, str], records: list[dict] | None = None,
                           pages: list[bytes] | None = None, page_size: int = MAX_PAGE,
                           record_total: int | None = None) -> Path:
    """Write one partition in replay layout, from records (paged like the API) or from raw pages.

    ``record_total`` is what ``response.json`` records; by default the pages' records are counted."""
    client = FinraReplayClient(root)
    pdir = client.partition_dir(dataset, filters)
    pdir.mkdir(parents=True, exist_ok=True)
    if pages is None:
        records = records or []
        pages = [json.dumps(records[i:i + page_size], separators=(",", ":")).encode()
                 for i in range(0, len(records), page_size)]
    for i, page in enumerate(pages, start=1):
        (pdir / f"page-{i:05d}.json").write_bytes(page)
    if record_total is None:
        record_total = sum(count_records(page, str(pdir)) for page in pages)
    (pdir / "response.json").write_text(json.dumps({"record_total": record_total}))
    return pdir
