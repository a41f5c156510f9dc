"""CSV exports: one way to write them. Cells that a spreadsheet would run as a formula (starting =, +,
-, @, tab or CR) are neutralised, and the file is streamed a row at a time, so memory stays constant
however many rows."""

import csv
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.http import StreamingHttpResponse

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # makes Excel read the file as UTF-8 (a £ stays a £)


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in values]


class _Echo:
    """A file-like object whose ``write`` hands back the line: csv.writer then formats one row at a time."""

    def write(self, value: str) -> str:
        return value


def csv_lines(
    rows: Iterable[Iterable[Any]], *, header: Sequence[str] | None = None, bom: bool = False
) -> Iterator[str]:
    """``header`` (if any) then ``rows``, each a CSV line with its cells made safe; ``bom`` first if asked."""
    writer = csv.writer(_Echo())
    prefix = BOM if bom else ""
    if header is not None:
        yield prefix + writer.writerow(safe_row(header))
        prefix = ""
    for row in rows:
        yield prefix + writer.writerow(safe_row(row))
        prefix = ""
    if prefix:  # no header and no rows: the file is still marked UTF-8
        yield prefix


def stream_csv(
    rows: Iterable[Iterable[Any]],
    *,
    filename: str,
    header: Sequence[str] | None = None,
    bom: bool = False,
) -> StreamingHttpResponse:
    """A download of ``rows`` (an iterable read lazily, as the response is sent) named ``filename``."""
    response = StreamingHttpResponse(
        csv_lines(rows, header=header, bom=bom), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_text(rows: Iterable[Iterable[Any]], *, header: Sequence[str] | None = None, bom: bool = False) -> str:
    """The same file as one string, for a small table kept whole (a summary, a file attached to a PDF)."""
    return "".join(csv_lines(rows, header=header, bom=bom))
