"""Bad upstream files through ``dealerflow import ...``: one ``error:`` line naming the file, line and problem,
a non-zero exit, the file kept byte for byte in ``<home>/quarantine/``, and the lake exactly as it was.

Every bad file is a corrupted copy of a real upstream file (``../shared/realdata``), imported into a home that
already holds the good versions of each format, so a case that wrongly landed or replaced anything would show.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner

from dagster_project.cli import main
from reliability_support import HomeSnapshot, assert_preserved, built_once, error_lines, sha256

pytestmark = pytest.mark.realdata

WEEKLY = ("finra_otc", "finra_otc_weekly_otc_20251215.csv")  # OTCE non-ATS file published 2025-12-15
WEEKLY_ARGS = ["--week-start", "2025-11-10", "--kind", "otc"]
REGSHO = ("finra_regsho", "CNMSshvol20200102.txt")          # 8,172 records + trailer "8172"
FTD_ZIP = ("sec_ftd", "cnsfails202009a.zip")                # one member, both trailer lines
SHORT_INTEREST = ("finra_short_interest", "otcMarket_equityShortInterestStandardized.txt")
CBOE_CHAIN = ("options", "spx_quotedata.csv")               # Cboe quote-table download, 22 columns


def invoke(home: Path, *args: str):
    result = CliRunner().invoke(main, list(args), env={"DEALERFLOW_HOME": str(home)}, catch_exceptions=False)
    return result


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A home holding the good version of every importable format."""
    return built_once("bad_files_home", lambda: import_good_files(tmp_path_factory))


def import_good_files(tmp_path_factory) -> Path:
    from support.realdata import realdata_path

    home = tmp_path_factory.mktemp("bad_files") / "home"
    imports = [["import", "finra-weekly", str(realdata_path(*WEEKLY)), *WEEKLY_ARGS],
               ["import", "regsho", str(realdata_path(*REGSHO))],
               ["import", "ftd", str(realdata_path(*FTD_ZIP))],
               ["import", "short-interest", str(realdata_path(*SHORT_INTEREST))],
               ["import", "cboe-chain", str(realdata_path(*CBOE_CHAIN))]]
    for args in imports:
        result = invoke(home, *args)
        assert result.exit_code == 0, result.output
    return home


# -- corruptions of text files (1-based line numbers) ----------------------------------------------------
def lines_of(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def set_field(line_no: int, column: int, value: bytes, sep: bytes = b"|") -> Callable[[bytes], bytes]:
    def corrupt(data: bytes) -> bytes:
        lines = lines_of(data)
        fields = lines[line_no - 1].split(sep)
        fields[column] = value
        lines[line_no - 1] = sep.join(fields)
        return b"\n".join(lines)
    return corrupt


def drop_column(column: int, sep: bytes = b"|") -> Callable[[bytes], bytes]:
    def corrupt(data: bytes) -> bytes:
        return b"\n".join(sep.join(f for i, f in enumerate(line.split(sep)) if i != column) if sep in line else line
                          for line in lines_of(data))
    return corrupt


def swap_columns(a: int, b: int, sep: bytes = b"|") -> Callable[[bytes], bytes]:
    def corrupt(data: bytes) -> bytes:
        out = []
        for line in lines_of(data):
            fields = line.split(sep)
            if len(fields) > max(a, b):
                fields[a], fields[b] = fields[b], fields[a]
            out.append(sep.join(fields))
        return b"\n".join(out)
    return corrupt


def add_column(name: bytes, sep: bytes = b"|") -> Callable[[bytes], bytes]:
    def corrupt(data: bytes) -> bytes:
        lines = lines_of(data)
        return b"\n".join([lines[0] + sep + name] + [line + sep + b"x" if sep in line else line for line in lines[1:]])
    return corrupt


def rename_header(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def corrupt(data: bytes) -> bytes:
        lines = lines_of(data)
        lines[0] = lines[0].replace(old, new)
        return b"\n".join(lines)
    return corrupt


def duplicate_line(line_no: int) -> Callable[[bytes], bytes]:
    def corrupt(data: bytes) -> bytes:
        lines = lines_of(data)
        return b"\n".join(lines[:line_no] + [lines[line_no - 1]] + lines[line_no:])
    return corrupt


def inject_bytes(line_no: int, junk: bytes = b"\xff\xfe") -> Callable[[bytes], bytes]:
    def corrupt(data: bytes) -> bytes:
        lines = lines_of(data)
        lines[line_no - 1] = lines[line_no - 1][:3] + junk + lines[line_no - 1][3:]
        return b"\n".join(lines)
    return corrupt


def cut_mid_line(line_no: int) -> Callable[[bytes], bytes]:
    """Truncate the file in the middle of ``line_no`` (a download that stopped early)."""
    def corrupt(data: bytes) -> bytes:
        lines = lines_of(data)
        return b"\n".join(lines[:line_no - 1] + [lines[line_no - 1][:12]])
    return corrupt


def replace_last_lines(count: int, *new: bytes) -> Callable[[bytes], bytes]:
    def corrupt(data: bytes) -> bytes:
        lines = lines_of(data.rstrip(b"\n"))
        return b"\n".join(lines[:-count] + list(new)) + b"\n"
    return corrupt


def header_only(data: bytes) -> bytes:
    return lines_of(data)[0] + b"\n"


def empty(_: bytes) -> bytes:
    return b""


def in_zip(corrupt_member: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    """Apply a text corruption to the one member of a zip and zip it again (same member name)."""
    def corrupt(data: bytes) -> bytes:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            info = zf.infolist()[0]
            member = zf.read(info)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(info, corrupt_member(member))
        return out.getvalue()
    return corrupt


def truncate_bytes(fraction: float) -> Callable[[bytes], bytes]:
    return lambda data: data[: int(len(data) * fraction)]


@dataclass(frozen=True)
class Case:
    id: str
    command: str
    base: tuple[str, str]
    corrupt: Callable[[bytes], bytes]
    problem: str               # regex of the problem text
    line: int | None           # the line the error must name (None: the file has no line to blame, e.g. a zip)
    name: str | None = None    # file name of the bad copy (default: the real file's name)
    args: tuple[str, ...] = ()


CASES = [
    # FINRA weekly download files (pipe-delimited, symbol x venue)
    Case("weekly-truncated-mid-line", "finra-weekly", WEEKLY, cut_mid_line(2000), r"Expected 8 columns, got \d", 2000),
    Case("weekly-missing-column", "finra-weekly", WEEKLY, drop_column(4), r"missing column\(s\) MPID", 1),
    Case("weekly-renamed-column", "finra-weekly", WEEKLY, rename_header(b"|MPID|", b"|mpId|"),
         r"missing column\(s\) MPID; unexpected column\(s\) mpId", 1),
    Case("weekly-reordered-columns", "finra-weekly", WEEKLY, swap_columns(5, 6), r"columns out of order", 1),
    Case("weekly-extra-column", "finra-weekly", WEEKLY, add_column(b"venueRegion"), r"unexpected column\(s\) venueRegion", 1),
    Case("weekly-letters-in-quantity", "finra-weekly", WEEKLY, set_field(1500, 5, b"12O0"), r"'12O0'", 1500),
    Case("weekly-negative-quantity", "finra-weekly", WEEKLY, set_field(321, 5, b"-40313"),
         r"negative totalWeeklyShareQuantity", 321),
    Case("weekly-negative-trade-count", "finra-weekly", WEEKLY, set_field(77, 6, b"-3"), r"negative totalWeeklyTradeCount", 77),
    Case("weekly-duplicate-row", "finra-weekly", WEEKLY, duplicate_line(900),
         r"duplicate row for the same week, tier, grain, symbol and venue", 901),
    Case("weekly-non-utf8", "finra-weekly", WEEKLY, inject_bytes(4000), r"not UTF-8 text \(byte 0xff", 4000),
    Case("weekly-empty-file", "finra-weekly", WEEKLY, empty, r"empty file", None),
    Case("weekly-header-only", "finra-weekly", WEEKLY, header_only, r"no data rows", 2),
    Case("weekly-file-for-a-later-week", "finra-weekly", WEEKLY, lambda d: d,
         r"lastUpdateDate precedes --week-start 2025-12-22: file is for another week", 2,
         args=("--week-start", "2025-12-22", "--kind", "otc")),
    Case("weekly-bad-date", "finra-weekly", WEEKLY, set_field(2500, 7, b"2025-13-15"),
         r"lastUpdateDate '2025-13-15' is not a YYYY-MM-DD date", 2500),
    # FINRA Reg SHO daily short volume
    Case("regsho-trailer-mismatch", "regsho", REGSHO, replace_last_lines(1, b"8171"), r"trailer says 8171 records, file has 8172", 8174),
    Case("regsho-trailer-missing", "regsho", REGSHO, replace_last_lines(1), r"no trailer line with the record count", None),
    # a download cut off mid-line has lost its trailer: the line after the last one is where the count is missing
    Case("regsho-truncated-mid-line", "regsho", REGSHO, cut_mid_line(5000), r"no trailer line with the record count", 5001),
    Case("regsho-short-line", "regsho", REGSHO, set_field(5000, 5, b"Q,N|"), r"expected 6 fields, got 7", 5000),
    Case("regsho-letters-in-volume", "regsho", REGSHO, set_field(100, 2, b"9399B"), r"non-numeric value '9399B' in column ShortVolume", 100),
    Case("regsho-negative-volume", "regsho", REGSHO, set_field(200, 4, b"-12"), r"negative value '-12' in column TotalVolume", 200),
    Case("regsho-blank-symbol", "regsho", REGSHO, set_field(300, 1, b""), r"blank Symbol", 300),
    Case("regsho-duplicate-row", "regsho", REGSHO, duplicate_line(400), r"duplicate row for symbol '.+' \(first at line 400\)", 401),
    Case("regsho-file-renamed-to-another-date", "regsho", REGSHO, lambda d: d,
         r"row dated 2020-01-02 in the file for 2020-01-03 \(wrong file for this date\?\)", 2, name="CNMSshvol20200103.txt"),
    Case("regsho-non-utf8", "regsho", REGSHO, inject_bytes(600), r"not UTF-8: byte 0xff", 600),
    Case("regsho-empty-file", "regsho", REGSHO, empty, r"empty file", None),
    Case("regsho-missing-exempt-column", "regsho", REGSHO, drop_column(3),
         r"pre-2011 5-column layout \(no ShortExemptVolume\) is not supported", 1),
    Case("regsho-renamed-column", "regsho", REGSHO, rename_header(b"|Market", b"|Markets"),
         r"unexpected column\(s\) \['Markets'\]", 1),
    Case("regsho-extra-column", "regsho", REGSHO, add_column(b"Venue"), r"unexpected column\(s\) \['Venue'\]", 1),
    Case("regsho-unknown-file-name", "regsho", REGSHO, lambda d: d, r"file name must be \{FACILITY\}shvolYYYYMMDD\.txt",
         None, name="shortvolume.txt"),
    # SEC fails-to-deliver (zip as published)
    Case("ftd-truncated-zip", "ftd", FTD_ZIP, truncate_bytes(0.6), r"not a readable zip \(truncated or corrupt\)", None),
    Case("ftd-empty-file", "ftd", FTD_ZIP, empty, r"empty file \(no header\)", None),
    Case("ftd-trailer-count-mismatch", "ftd", FTD_ZIP,
         in_zip(replace_last_lines(2, b"Trailer record count 43146", b"Trailer total quantity of shares 1056731899")),
         r"trailer record count 43146 != 43147 rows", 43149),
    Case("ftd-trailer-total-mismatch", "ftd", FTD_ZIP,
         in_zip(replace_last_lines(1, b"Trailer total quantity of shares 1056731898")),
         r"trailer total quantity 1056731898 != 1056731899 summed from rows", 43150),
    Case("ftd-letters-in-quantity", "ftd", FTD_ZIP, in_zip(set_field(700, 3, b"84x1")), r"'84x1'", 700),
    Case("ftd-negative-quantity", "ftd", FTD_ZIP, in_zip(set_field(800, 3, b"-8431")), r"negative", 800),
    Case("ftd-duplicate-row", "ftd", FTD_ZIP, in_zip(duplicate_line(900)), r"duplicate row for CUSIP \w+ on 2020-09-\d\d \(first at line 900\)", 901),
    Case("ftd-non-utf8", "ftd", FTD_ZIP, in_zip(inject_bytes(1000)), r"0xff", 1000),
    Case("ftd-missing-trailer", "ftd", FTD_ZIP, in_zip(replace_last_lines(2)), r"no trailer lines", 43149),
    # FINRA short interest (Query API CSV)
    Case("short-interest-missing-column", "short-interest", SHORT_INTEREST, drop_column(2, sep=b","),
         r"missing column\(s\) \['issueName'\] in header", 1),
    Case("short-interest-letters-in-quantity", "short-interest", SHORT_INTEREST, set_field(50, 5, b"17k", sep=b","), r"non-numeric value '17k' in column currentShortPositionQuantity", 50),
    Case("short-interest-negative-quantity", "short-interest", SHORT_INTEREST, set_field(60, 5, b"-5", sep=b","),
         r"negative value '-5' in column currentShortPositionQuantity", 60),
    Case("short-interest-duplicate-row", "short-interest", SHORT_INTEREST, duplicate_line(70),
         r"duplicate row for 'ACDSF' on 2020-12-31 \(first at line 70\)", 71),
    Case("short-interest-blank-symbol", "short-interest", SHORT_INTEREST, set_field(80, 1, b"", sep=b","),
         r"blank securitiesInformationProcessorSymbolIdentifier", 80),
    # Cboe option chain download (CSV quote table)
    Case("cboe-truncated-mid-line", "cboe-chain", CBOE_CHAIN, cut_mid_line(3001), r"expected 22 fields, got 1", 3001),
    Case("cboe-letters-in-gamma", "cboe-chain", CBOE_CHAIN, set_field(501, 9, b"12x", sep=b","),
         r"could not convert string to float: '12x'", 501),
    Case("cboe-empty-file", "cboe-chain", CBOE_CHAIN, empty, r"empty file", None),
    Case("short-interest-empty-file", "short-interest", SHORT_INTEREST, empty,
         r"not a known FINRA short-interest layout \(header ''\)", 1),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_file_is_rejected_quarantined_and_the_lake_is_unchanged(home, tmp_path, case, realdata_file):
    bad = case.corrupt(realdata_file(*case.base).read_bytes())
    path = tmp_path / (case.name or case.base[1])
    path.write_bytes(bad)
    quarantined_before = {p for p in (home / "quarantine").rglob("*") if p.is_file()}
    before = HomeSnapshot.of(home)

    result = invoke(home, "import", case.command, str(path), *(case.args or (WEEKLY_ARGS if case.command == "finra-weekly" else ())))

    assert result.exit_code != 0, result.output
    errors = error_lines(result.stderr)
    assert len(errors) == 1, result.stderr
    error = errors[0]
    assert str(path) in error, error
    if case.line is not None:
        assert f", line {case.line}:" in error, error
    assert re.search(case.problem, error), error
    new_files = [p for p in (home / "quarantine").rglob("*") if p.is_file() and p not in quarantined_before]
    kept = [p for p in new_files if p.name == path.name]
    assert len(kept) == 1 and sha256(kept[0]) == sha256(path), f"not quarantined byte for byte: {new_files}"
    assert str(kept[0]) in error, "the error should say where the file was quarantined"
    assert_preserved(before, HomeSnapshot.of(home))


def test_reordered_regsho_columns_are_read_by_name_and_land_nothing_new(home, tmp_path, realdata_file):
    """Reg SHO columns are located by header name: the same data in another column order is the same content."""
    path = tmp_path / REGSHO[1]
    path.write_bytes(swap_columns(2, 4)(realdata_file(*REGSHO).read_bytes()))
    before = HomeSnapshot.of(home)
    result = invoke(home, "import", "regsho", str(path))
    assert result.exit_code == 0, result.output
    assert "regsho_daily date=2020-01-02 facility=CNMS: 8172 rows (unchanged" in result.stdout
    assert_preserved(before, HomeSnapshot.of(home))


def test_two_weekly_files_for_one_partition_are_both_refused(home, tmp_path, realdata_file):
    """Each legacy file lands as its partition's whole new version: two in one call would silently drop one."""
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_bytes(realdata_file("finra_otc", "finra_otc_weekly_otc_20251222.csv").read_bytes())
    second.write_bytes(realdata_file("finra_otc", "finra_otc_weekly_otc_20251229.csv").read_bytes())
    before = HomeSnapshot.of(home)
    result = invoke(home, "import", "finra-weekly", str(first), str(second), "--week-start", "2025-11-10", "--kind", "otc")
    assert result.exit_code != 0
    (error,) = error_lines(result.stderr)
    assert error == (f"error: {first}, {second}: 2 files hold week 2025-11-10 tier OTCE OTC; import one file per "
                     "week, tier and kind (nothing landed from them)")
    assert_preserved(before, HomeSnapshot.of(home))


@pytest.mark.parametrize("command, good, bad, partition", [
    ("finra-weekly", ("finra_otc", "finra_otc_weekly_otc_20251222.csv"), WEEKLY,
     "finra_weekly/week=2025-11-17/tier=OTCE/kind=OTC"),
    ("regsho", ("finra_regsho", "FNSQshvol20200102.txt"), REGSHO, "regsho_daily/date=2020-01-02/facility=FNSQ"),
])
def test_a_bad_file_does_not_stop_the_good_ones(home, tmp_path, realdata_file, command, good, bad, partition):
    good_path, bad_path = tmp_path / good[1], tmp_path / bad[1]
    good_path.write_bytes(realdata_file(*good).read_bytes())
    bad_path.write_bytes(inject_bytes(10)(realdata_file(*bad).read_bytes()))
    args = ("--week-start", "2025-11-17", "--kind", "otc") if command == "finra-weekly" else ()
    before = HomeSnapshot.of(home)
    result = invoke(home, "import", command, str(bad_path), str(good_path), *args)
    assert result.exit_code != 0
    (error,) = error_lines(result.stderr)
    assert error.startswith(f"error: {bad_path}, line 10: not UTF-8") and "quarantine" in error, error
    assert re.search(r"1 (other )?partition\(s\)( from the other files)? landed", error), error
    after = HomeSnapshot.of(home)
    assert_preserved(before, after, new={partition: 1})
    assert after.rows(partition) == len(good_path.read_bytes().rstrip(b"\n").split(b"\n")) - (1 if command == "finra-weekly" else 2)
