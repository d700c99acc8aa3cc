"""The FINRA Query API's JSON page format: one exact parser for every otcMarket dataset.

A page is a JSON array of flat records. Records are read by Arrow's JSON reader with an explicit
schema, so numbers convert exactly (decimals never pass through floats) and a field the schema does
not know is schema drift. When that fast path refuses a page (drift, an inexact number, a record
separator inside a string value) the page is re-read with Python's json module (decimals kept as
``Decimal``) so the error can name the field and record — or the page parses after all.
"""

from __future__ import annotations

import io
import json
import re
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from dagster_project.errors import ParseError

_RECORD_SEPARATOR = re.compile(rb"\}\s*,\s*\{")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_pages(pages: dict[str, bytes] | list[bytes], fields: dict[str, pa.DataType], source: str) -> pa.Table:
    """Parse pages (name -> bytes; names appear in errors) into one table of ``fields`` (dates still as text)."""
    if isinstance(pages, list):
        pages = {f"page-{i:05d}.json": p for i, p in enumerate(pages, start=1)}
    tables = [parse_page(body, fields, f"{source}/{name}") for name, body in pages.items()]
    return pa.concat_tables(tables) if tables else pa.schema(fields).empty_table()


def parse_page(body: bytes, fields: dict[str, pa.DataType], where: str) -> pa.Table:
    stripped = body.strip()
    if not stripped:
        raise ParseError(where, "empty page (expected a JSON array)")
    if not (stripped.startswith(b"[") and stripped.endswith(b"]")):
        raise ParseError(where, "expected a JSON array of records")
    inner = stripped[1:-1].strip()
    if not inner:
        return pa.schema(fields).empty_table()
    options = pajson.ParseOptions(explicit_schema=pa.schema(fields), unexpected_field_behavior="error")
    try:
        return pajson.read_json(io.BytesIO(_RECORD_SEPARATOR.sub(b"}\n{", inner)), parse_options=options)
    except pa.ArrowInvalid:
        return _from_records(_exact_records(stripped, where), fields, where)


def _exact_records(body: bytes, where: str) -> list[dict]:
    try:
        records = json.loads(body, parse_float=Decimal)
    except ValueError as exc:
        raise ParseError(where, f"invalid JSON: {exc}") from exc
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ParseError(where, "expected a JSON array of objects")
    return records


def _from_records(records: list[dict], fields: dict[str, pa.DataType], where: str) -> pa.Table:
    unknown = sorted({k for r in records for k in r} - set(fields))
    if unknown:
        raise ParseError(where, f"schema drift: unexpected field(s) {', '.join(unknown)}")
    columns = {}
    for name, typ in fields.items():
        values = [r.get(name) for r in records]
        for i, v in enumerate(values):
            if v is not None and not _exact_fit(v, typ):
                raise ParseError(where, f"field {name}: {v!r} is not a valid {typ} (record {i + 1})")
        values = [float(v) if pa.types.is_floating(typ) and v is not None else v for v in values]
        columns[name] = pa.array(values, type=typ)
    return pa.table(columns)


def _exact_fit(value, typ: pa.DataType) -> bool:
    if isinstance(value, bool):
        return False
    if pa.types.is_integer(typ):
        return isinstance(value, int)
    if pa.types.is_decimal(typ):
        return isinstance(value, (int, Decimal)) and Decimal(value).as_tuple().exponent >= -typ.scale
    if pa.types.is_floating(typ):
        return isinstance(value, (int, Decimal))
    return isinstance(value, str)


def _is_iso_date(value: str) -> bool:
    """``YYYY-MM-DD`` and a real calendar day (``2025-13-15`` is well formed but not a date)."""
    try:
        return bool(_ISO_DATE.fullmatch(value)) and date.fromisoformat(value) is not None
    except ValueError:
        return False


def to_date(column: pa.ChunkedArray, source: str, name: str, line_offset: int = 1) -> pa.Array:
    """ISO ``YYYY-MM-DD`` text to date32; a bad value is named with its record (or line, for files)."""
    try:
        return pc.cast(column, pa.date32())
    except pa.ArrowInvalid as exc:
        values = column.to_pylist()
        bad = next(i for i, v in enumerate(values) if v is not None and not _is_iso_date(v))
        where = {"line": bad + line_offset} if line_offset != 1 else {}
        suffix = "" if where else f" (record {bad + 1})"
        raise ParseError(source, f"{name} {values[bad]!r} is not a YYYY-MM-DD date{suffix}", **where) from exc
