"""Template tags of the dashboard: levels and warnings shown with colour AND letter and words."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from monitoring import levels
from monitoring.probe.model import Level

register = template.Library()


@register.simple_tag
def level_badge(level: Level | str | None) -> str:
    """A level as a badge: sign, word and colour."""
    key = levels.level_key(level)
    return format_html(
        '<span class="level level-{}"><span class="sign" aria-hidden="true">{}</span> {}</span>',
        key,
        levels.LEVEL_SIGNS[key],
        levels.LEVEL_LABELS[key],
    )


@register.simple_tag
def level_cell(level: Level | str | None, assumed: bool = False) -> str:
    """A level as a matrix cell's content: the sign, with the word for screen readers; an
    asterisk when a side's sending was never observed (the pair's level is assumed)."""
    key = levels.level_key(level)
    return format_html(
        '<span class="sign" aria-hidden="true">{}{}</span>'
        '<span class="visually-hidden">{}{}</span>',
        levels.LEVEL_SIGNS[key],
        "*" if assumed else "",
        levels.LEVEL_LABELS[key],
        format_html(" ({})", _("assumed")) if assumed else "",
    )


@register.filter
def level_key(level: Level | str | None) -> str:
    return levels.level_key(level)


@register.filter
def level_label(level: Level | str | None) -> str:
    return str(levels.level_label(level))


@register.filter
def policy_label(policy: str | None) -> str:
    return str(levels.policy_label(policy))


@register.filter
def warning_label(code: str) -> str:
    return levels.warning_label(code)


@register.simple_tag
def legend() -> list[tuple[str, str, str]]:
    """(key, sign, label) for every level, best first, for legends."""
    return [
        (key, levels.LEVEL_SIGNS[key], str(levels.LEVEL_LABELS[key])) for key in levels.LEVEL_SIGNS
    ]


@register.simple_tag
def trend_chart(points: list[Any], width: int = 640, height: int = 160) -> str:
    """A server-rendered SVG line of the share at `verified`, with a text alternative."""
    left, bottom, top = 36, 20, 8
    inner_width, inner_height = width - left - 8, height - bottom - top
    count = len(points)

    def x(i: int) -> float:
        return left + (inner_width * i / (count - 1) if count > 1 else inner_width / 2)

    def y(percent: float) -> float:
        return top + inner_height * (1 - percent / 100)

    coordinates = " ".join(f"{x(i):.1f},{y(p.percent):.1f}" for i, p in enumerate(points))
    last = points[-1]
    description = _("%(percent).0f%% of probed mail domains at verified on %(day)s") % {
        "percent": last.percent,
        "day": date_format(localtime(last.day), "SHORT_DATE_FORMAT"),
    }
    grid = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" class="grid"/>'
        '<text x="{}" y="{}" class="axis">{}%</text>',
        (
            (left, width - 8, f"{y(v):.1f}", f"{y(v):.1f}", 2, f"{y(v) + 4:.1f}", v)
            for v in (0, 50, 100)
        ),
    )
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="2.5"><title>{}: {}%</title></circle>',
        (
            (
                f"{x(i):.1f}",
                f"{y(p.percent):.1f}",
                date_format(localtime(p.day), "SHORT_DATE_FORMAT"),
                f"{p.percent:.0f}",
            )
            for i, p in enumerate(points)
        ),
    )
    return format_html(
        '<figure class="trend"><svg viewBox="0 0 {} {}" role="img" aria-label="{}">{}'
        '<polyline points="{}" class="line"/>{}</svg><figcaption>{}</figcaption></figure>',
        width,
        height,
        description,
        grid,
        coordinates,
        dots,
        description,
    )
