"""PNG charts rendered headless (matplotlib Agg) and returned as bytes, for asset metadata and reports."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def render_gex_profile_png(levels, gex_usd_per_1pct, *, spot: float, zero_gamma: float | None = None,
                           call_wall: float | None = None, put_wall: float | None = None,
                           extra_curves: dict[str, np.ndarray] | None = None, title: str = "GEX profile") -> bytes:
    """Total GEX ($bn per 1 % move) against spot level, with spot, zero gamma and walls marked."""
    fig, ax = plt.subplots(figsize=(9, 4.8))
    x = np.asarray(levels, dtype=float)
    ax.plot(x, np.asarray(gex_usd_per_1pct, dtype=float) / 1e9, lw=2, label="all expiries")
    for name, curve in (extra_curves or {}).items():
        ax.plot(x, np.asarray(curve, dtype=float) / 1e9, lw=1, ls="--", label=name)
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(spot, color="tab:blue", lw=1, ls=":", label=f"spot {spot:,.0f}")
    if zero_gamma is not None:
        ax.axvline(zero_gamma, color="tab:red", lw=1.2, label=f"zero gamma {zero_gamma:,.0f}")
    if call_wall is not None:
        ax.axvline(call_wall, color="tab:green", lw=1, ls="-.", label=f"call wall {call_wall:,.0f}")
    if put_wall is not None:
        ax.axvline(put_wall, color="tab:purple", lw=1, ls="-.", label=f"put wall {put_wall:,.0f}")
    ax.set_xlabel("spot level")
    ax.set_ylabel("GEX, $bn per 1% move")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    return _png(fig)


def render_gex_by_strike_png(strikes, call_gex_usd_per_1pct, put_gex_usd_per_1pct, *, spot: float,
                             call_wall: float | None = None, put_wall: float | None = None,
                             window: tuple[float, float] = (0.85, 1.15), title: str = "GEX by strike") -> bytes:
    """Call and put GEX per strike ($bn per 1 % move) within ``window`` x spot, walls marked."""
    k = np.asarray(strikes, dtype=float)
    sel = (k >= window[0] * spot) & (k <= window[1] * spot)
    k = k[sel]
    calls = np.asarray(call_gex_usd_per_1pct, dtype=float)[sel] / 1e9
    puts = np.asarray(put_gex_usd_per_1pct, dtype=float)[sel] / 1e9
    width = float(np.min(np.diff(np.unique(k)))) * 0.8 if k.size > 1 else 1.0
    fig, ax = plt.subplots(figsize=(9, 4.8))
    ax.bar(k, calls, width=width, color="tab:green", label="calls")
    ax.bar(k, puts, width=width, color="tab:red", label="puts")
    ax.axvline(spot, color="tab:blue", lw=1, ls=":", label=f"spot {spot:,.0f}")
    for wall, name, color in ((call_wall, "call wall", "tab:green"), (put_wall, "put wall", "tab:purple")):
        if wall is not None:
            ax.axvline(wall, color=color, lw=1, ls="-.", label=f"{name} {wall:,.0f}")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("strike")
    ax.set_ylabel("GEX, $bn per 1% move")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    return _png(fig)


def render_share_lines_png(frame, *, x: str, series: str, y: str, title: str, ylabel: str,
                           dashed: set | None = None) -> bytes:
    """One line per ``series`` value of ``y`` over ``x`` (a long DataFrame); dashed points mark provisional weeks."""
    fig, ax = plt.subplots(figsize=(9, 4.8))
    for name, group in frame.groupby(series, sort=False):
        group = group.sort_values(x)
        ax.plot(group[x], group[y] * 100, marker="o", ms=3, lw=1.6, label=str(name))
    if dashed:
        for when in sorted(dashed):
            ax.axvspan(when, when, color="grey", alpha=0.3)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2, loc="best")
    fig.autofmt_xdate()
    return _png(fig)


def render_symbol_trend_png(frame, *, symbol: str) -> bytes:
    """Weekly ATS and non-ATS volume (stacked bars, millions of shares) with the ATS fraction on a second axis."""
    fig, ax = plt.subplots(figsize=(9, 4.8))
    weeks = frame["week_start_date"]
    ats = frame["ats_share_quantity"].astype(float) / 1e6
    otc = frame["otc_share_quantity"].astype(float) / 1e6
    ax.bar(weeks, ats, width=5, label="ATS", color="tab:blue")
    ax.bar(weeks, otc, width=5, bottom=ats, label="non-ATS (OTC)", color="tab:orange")
    ax.set_ylabel("shares, millions")
    ax2 = ax.twinx()
    ax2.plot(weeks, frame["ats_fraction"].astype(float) * 100, color="black", marker="o", ms=3, label="ATS fraction")
    ax2.set_ylabel("ATS share of off-exchange volume, %")
    ax.set_title(f"{symbol}: off-exchange volume by week")
    ax.legend(loc="upper left", fontsize=8)
    ax2.legend(loc="upper right", fontsize=8)
    fig.autofmt_xdate()
    return _png(fig)


def render_share_bars_png(labels, shares, *, title: str, xlabel: str) -> bytes:
    """Horizontal bars of fractions (shown in %), largest on top."""
    fig, ax = plt.subplots(figsize=(9, 4.8))
    order = np.argsort(np.asarray(shares, dtype=float))
    ax.barh(np.asarray(labels)[order], np.asarray(shares, dtype=float)[order] * 100, color="tab:blue")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="x")
    return _png(fig)
