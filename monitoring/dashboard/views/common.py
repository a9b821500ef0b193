"""Helpers that several dashboard pages share: level order, paging, streamed CSV."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, StreamingHttpResponse

from monitoring import levels
from partners.csvio import SpreadsheetWriter

LEVEL_KEYS = levels.DISPLAY_ORDER


def page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


def level_counts(counts: dict[str, int]) -> list[tuple[str, int]]:
    """(level key, count) in display order, leaving out zeros."""
    return [(key, counts[key]) for key in LEVEL_KEYS if counts.get(key)]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(filename: str, rows: object) -> StreamingHttpResponse:
    writer = SpreadsheetWriter(_Echo(), lineterminator="\r\n")
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows),  # type: ignore[attr-defined]
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}-{date.today()}.csv"'
    return response
