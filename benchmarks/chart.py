"""tokens.svg: per task, the tokens the model reads (Claude Code) beside the raw API body as pretty JSON,
minified JSON and TOON. Hand-written SVG (no plotting dependency); a log scale, since the bars span four decades."""

from __future__ import annotations

import math
from html import escape

from .tokens import TokenReport

SERIES = (  # (label, colour)
    ("what Claude Code's model reads", "#2b8a3e"),
    ("raw API body, TOON", "#f59f00"),
    ("raw API body, minified JSON", "#74c0fc"),
    ("raw API body, pretty JSON", "#1c7ed6"),
)
LABEL_WIDTH, PLOT_WIDTH, BAR, GAP, TOP = 330, 560, 9, 14, 64


def _x(tokens: int, decades: int) -> float:
    """Position of a value on the log axis that starts at 1 token."""
    return LABEL_WIDTH + PLOT_WIDTH * math.log10(max(tokens, 1)) / decades


def render(report: TokenReport) -> str:
    values = [(t.title, (t.claude_code, t.raw.toon, t.raw.minified, t.raw.pretty)) for t in report.tasks]
    decades = math.ceil(math.log10(max(max(v) for _, v in values)))
    group = len(SERIES) * BAR + GAP
    height = TOP + group * len(values) + 40
    width = LABEL_WIDTH + PLOT_WIDTH + 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        '<text x="10" y="20" font-size="14" font-weight="bold">Tokens the model reads per task, beside the raw API '
        "(Claude's legacy tokenizer; log scale)</text>",
    ]
    parts += _legend()
    parts += _axis(decades, height)
    for index, (title, bars) in enumerate(values):
        top = TOP + index * group
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{top + 2 * BAR + 3}" text-anchor="end">{escape(title)}</text>')
        for offset, ((_, colour), tokens) in enumerate(zip(SERIES, bars, strict=True)):
            y = top + offset * BAR
            end = _x(tokens, decades)
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{end - LABEL_WIDTH:.1f}" height="{BAR - 1}" fill="{colour}"/>'
            )
            parts.append(f'<text x="{end + 3:.1f}" y="{y + BAR - 2}" font-size="8">{tokens:,}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _legend() -> list[str]:
    items = []
    for index, (label, colour) in enumerate(SERIES):
        x = 10 + index * 200
        items.append(f'<rect x="{x}" y="32" width="10" height="10" fill="{colour}"/>')
        items.append(f'<text x="{x + 14}" y="41">{escape(label)}</text>')
    return items


def _axis(decades: int, height: int) -> list[str]:
    lines = []
    for power in range(decades + 1):
        x = _x(10**power, decades)
        lines.append(f'<line x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{height - 30}" stroke="#ddd"/>')
        lines.append(f'<text x="{x:.1f}" y="{height - 16}" text-anchor="middle">{10**power:,}</text>')
    return lines
