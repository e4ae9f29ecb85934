"""CSV downloads that no spreadsheet can read a formula from, whatever its list separator.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@`. Quoting does not protect a
cell: a spreadsheet whose list separator is `;` (most of Europe) or a tab splits
`abc;=1+1;x` into three cells even inside a comma-separated file's quotes, and the second one
is a formula. So a `'` goes before every such character that starts the text or follows
(past spaces and quotes) a `,`, `;`, tab or line break: wherever any reading of the file
could start a new cell. Readers with the right separator see the text with that `'` added.
"""

import csv
import re

from django.http import HttpResponse

# A place where some spreadsheet may start a cell, followed by a character that makes a formula.
_CELL_START_THEN_FORMULA = re.compile(r'(^|[,;\t\r\n])([ \t"]*)(?=[=+\-@])')


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return _CELL_START_THEN_FORMULA.sub(r"\1\2'", text)


def csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return response
