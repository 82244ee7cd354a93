"""Charts drawn on the server as SVG: no chart library, no script, nothing to load."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

WIDTH = 720
HEIGHT = 180
LEFT = 40  # room for the scale
BOTTOM = 20  # room for the time labels


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    width: float
    ok_y: float
    ok_height: float
    bad_y: float
    bad_height: float
    label: str  # for the title a pointer or a screen reader shows


@dataclass(frozen=True, slots=True)
class MinuteChart:
    width: int
    height: int
    left: int
    plot_bottom: int
    top_value: int
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # (x, HH:MM)
    summary: str


def _nice(n: int) -> int:
    """The scale's top: the next of 1, 2, 5, 10, 20, 50, … at or above ``n``."""
    top = 1
    while True:
        for step in (1, 2, 5):
            if step * top >= n:
                return step * top
        top *= 10


def minute_chart(series: list[tuple[datetime, int, int]]) -> MinuteChart:
    """Stacked bars per minute: succeeded at the bottom, failed above."""
    plot_bottom = HEIGHT - BOTTOM
    plot_height = plot_bottom - 8
    top_value = _nice(max([ok + bad for _, ok, bad in series] + [1]))
    slot = (WIDTH - LEFT) / max(len(series), 1)
    bars: list[Bar] = []
    ticks: list[tuple[float, str]] = []
    for i, (at, ok, bad) in enumerate(series):
        x = LEFT + i * slot
        ok_h = plot_height * ok / top_value
        bad_h = plot_height * bad / top_value
        bars.append(
            Bar(
                x=round(x + slot * 0.1, 2),
                width=round(slot * 0.8, 2),
                ok_y=round(plot_bottom - ok_h, 2),
                ok_height=round(ok_h, 2),
                bad_y=round(plot_bottom - ok_h - bad_h, 2),
                bad_height=round(bad_h, 2),
                label=f"{at:%H:%M} UTC: {ok} succeeded, {bad} failed",
            )
        )
        if i % 10 == 0:
            ticks.append((round(x, 2), f"{at:%H:%M}"))
    total_ok = sum(ok for _, ok, _ in series)
    total_bad = sum(bad for _, _, bad in series)
    summary = (
        f"Deliveries finished per minute over the last {len(series)} minutes: "
        f"{total_ok} succeeded, {total_bad} failed."
    )
    return MinuteChart(WIDTH, HEIGHT, LEFT, plot_bottom, top_value, bars, ticks, summary)
