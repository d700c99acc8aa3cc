"""`dealerflow report`: a static HTML page of charts from the BI snapshot (no server, no network, no JS libraries).

Each section states where its numbers come from and what they cannot tell. A section whose mart is not
built yet says so instead of failing the report.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from dagster_project import charts
from dagster_project.lake import Lake
from dagster_project.settings import Paths, paths

TOP_VENUES = 8


@dataclass
class Section:
    title: str
    caption: str
    png: bytes | None = None
    missing: str | None = None


def _has(con, table: str) -> bool:
    return con.execute("select count(*) from information_schema.tables where table_schema = 'marts' and table_name = ?",
                       [table]).fetchone()[0] > 0


def venue_share_section(con) -> Section:
    title = "ATS venue share over time, all tiers combined"
    if not _has(con, "venue_share_weekly_all_tiers"):
        return Section(title, "", missing="marts.venue_share_weekly_all_tiers is not built yet")
    frame = con.execute(f"""
        with top as (select mpid from marts.venue_share_weekly_all_tiers where venue_kind = 'ATS'
                     group by mpid order by sum(share_quantity) desc limit {TOP_VENUES})
        select week_start_date, mpid, combined_share, is_complete
        from marts.venue_share_weekly_all_tiers join top using (mpid)
        where venue_kind = 'ATS' order by week_start_date, mpid""").df()
    provisional = set(frame.loc[~frame["is_complete"], "week_start_date"])
    caption = (f"Top {TOP_VENUES} ATSs by volume; share of all ATS volume in Tier 1, Tier 2 and OTC equities. "
               f"{len(provisional)} most recent week(s) are provisional (not every tier published yet). "
               "Source: FINRA OTC transparency (delayed 2–4 weeks, non-directional).")
    png = charts.render_share_lines_png(frame, x="week_start_date", series="mpid", y="combined_share", title=title,
                                        ylabel="share of ATS volume, %", dashed=provisional)
    return Section(title, caption, png)


def venue_share_by_tier_section(con, tier: str) -> Section:
    title = f"ATS venue share, {tier}"
    if not _has(con, "venue_share_weekly"):
        return Section(title, "", missing="marts.venue_share_weekly is not built yet")
    frame = con.execute(f"""
        with top as (select mpid from marts.venue_share_weekly where venue_kind = 'ATS' and tier = ?
                     group by mpid order by sum(share_quantity) desc limit {TOP_VENUES})
        select week_start_date, mpid, venue_share from marts.venue_share_weekly join top using (mpid)
        where venue_kind = 'ATS' and tier = ? order by week_start_date, mpid""", [tier, tier]).df()
    if frame.empty:
        return Section(title, "", missing=f"no {tier} weeks built yet")
    return Section(title, f"Share of {tier} ATS volume per week.",
                   charts.render_share_lines_png(frame, x="week_start_date", series="mpid", y="venue_share",
                                                 title=title, ylabel="share of tier ATS volume, %"))


def symbol_trend_section(con, symbol: str | None) -> Section:
    title = "A symbol's off-exchange trend"
    if not _has(con, "symbol_offexchange_weekly"):
        return Section(title, "", missing="marts.symbol_offexchange_weekly is not built yet")
    if symbol is None:
        row = con.execute("""select symbol from marts.symbol_offexchange_weekly group by symbol
                             order by sum(offexchange_share_quantity) desc limit 1""").fetchone()
        symbol = row[0] if row else None
    frame = con.execute("""select week_start_date, ats_share_quantity, otc_share_quantity, ats_fraction
                           from marts.symbol_offexchange_weekly where symbol = ? order by week_start_date""",
                        [symbol]).df()
    if frame.empty:
        return Section(title, "", missing=f"no weeks for symbol {symbol!r}")
    return Section(f"{symbol}: off-exchange trend",
                   "ATS and non-ATS weekly volume (FINRA; no exchange volume, so this is not a share of all volume) "
                   "and the ATS fraction of off-exchange volume.", charts.render_symbol_trend_png(frame, symbol=symbol))


def gex_section(con, p: Paths) -> Section:
    title = "GEX profile with zero gamma and walls"
    if not _has(con, "gex_levels_daily"):
        return Section(title, "", missing="marts.gex_levels_daily is not built yet")
    row = con.execute("""select as_of_date, underlying, spot, zero_gamma, call_wall, put_wall, total_gex_usd_per_1pct,
                                time_convention from marts.gex_levels_daily
                         order by as_of_date desc, (underlying = 'SPX') desc, underlying limit 1""").fetchone()
    if row is None:
        return Section(title, "", missing="no GEX levels built yet")
    as_of, underlying, spot, zero_gamma, call_wall, put_wall, total, convention = row
    version = Lake(p.lake).latest("gex", {"date": as_of.isoformat(), "underlying": underlying})
    profile_file = version.path / "payload" / "profile.parquet" if version else None
    if profile_file is None or not profile_file.is_file():
        return Section(title, "", missing=f"no GEX profile landed for {underlying} {as_of}")
    profile = pq.read_table(profile_file).to_pandas()
    png = charts.render_gex_profile_png(profile["spot_level"], profile["gex_usd_per_1pct"], spot=float(spot),
                                        zero_gamma=float(zero_gamma) if zero_gamma is not None else None,
                                        call_wall=float(call_wall) if call_wall is not None else None,
                                        put_wall=float(put_wall) if put_wall is not None else None,
                                        title=f"{underlying} GEX profile, {as_of}")
    caption = (f"{underlying} on {as_of}: total GEX {float(total) / 1e9:+.2f} $bn per 1% move at spot {float(spot):,.2f}. "
               f"Convention: dealers long calls, short puts; time {convention}. A model of positioning, not an observation.")
    return Section(f"{underlying}: {title}", caption, png)


def block_share_section(con) -> Section:
    title = "ATS block market share (10,000+ shares)"
    if not _has(con, "block_activity_monthly"):
        return Section(title, "", missing="marts.block_activity_monthly is not built yet")
    month = con.execute("""select max(month_start_date) from marts.block_activity_monthly
                           where venue_kind = 'ATS' and block_category = '10K'""").fetchone()[0]
    if month is None:
        return Section(title, "", missing="no ATS block months built yet")
    frame = con.execute("""select coalesce(venue_name, mpid) as venue, block_market_share from marts.block_activity_monthly
                           where venue_kind = 'ATS' and block_category = '10K' and month_start_date = ?
                           order by block_market_share desc limit 12""", [month]).df()
    png = charts.render_share_bars_png(frame["venue"], frame["block_market_share"], title=f"{title}, {month:%B %Y}",
                                       xlabel="share of all ATS block volume, %")
    return Section(f"{title}, {month:%B %Y}", "Monthly FINRA block-size statistics, aggregated over all NMS stocks "
                   "(FINRA publishes no per-symbol block data); published one month after month end.", png)


def build_sections(con, p: Paths, symbol: str | None) -> list[Section]:
    return [venue_share_section(con), *(venue_share_by_tier_section(con, t) for t in ("T1", "T2", "OTCE")),
            symbol_trend_section(con, symbol), gex_section(con, p), block_share_section(con)]


def render_html(sections: list[Section], generated: str) -> str:
    figures = []
    for s in sections:
        if s.png is None:
            figures.append(f'<section class="missing"><h2>{html.escape(s.title)}</h2><p>Not available: '
                           f'{html.escape(s.missing or "")}</p></section>')
            continue
        data = base64.b64encode(s.png).decode()
        figures.append(f'<section><h2>{html.escape(s.title)}</h2><img class="chart" alt="{html.escape(s.title)}" '
                       f'src="data:image/png;base64,{data}"><p>{html.escape(s.caption)}</p></section>')
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dealerflow report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1000px; color: #222; }}
section {{ margin-bottom: 2.5rem; }} img.chart {{ width: 100%; height: auto; border: 1px solid #ddd; }}
.missing p {{ color: #888; }} footer {{ color: #666; font-size: 0.85rem; }}
</style></head>
<body data-charts="{sum(s.png is not None for s in sections)}">
<h1>dealerflow report</h1>
<p>Dealer positioning context from public data, stacked by reliability: options GEX (primary), FINRA ATS/OTC
volume (context, delayed and non-directional), block statistics. Generated {html.escape(generated)} from the
read-only warehouse snapshot.</p>
{''.join(figures)}
<footer>Charts are static PNGs; the page loads nothing from the network.</footer>
<script>
window.addEventListener("load", function () {{
  var ok = Array.prototype.filter.call(document.images, function (i) {{ return i.complete && i.naturalWidth > 0; }});
  document.body.setAttribute("data-charts-rendered", String(ok.length));
}});
</script>
</body></html>
"""


def write_report(p: Paths | None = None, symbol: str | None = None, out: Path | None = None) -> Path:
    p = p or paths()
    if not p.bi_snapshot.is_file():
        from dagster_project.errors import DealerflowError

        raise DealerflowError(f"{p.bi_snapshot}: no warehouse snapshot yet; run `dealerflow demo` or a backfill first")
    with duckdb.connect(str(p.bi_snapshot), read_only=True) as con:
        sections = build_sections(con, p, symbol)
    out = out or p.reports / "dealerflow-report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out.write_text(render_html(sections, generated))
    return out
