"""Building ``spreadsheets:batchUpdate`` requests from a ``sheets.outputs.Layout`` (no I/O).

Number formats per column kind, bold frozen header, column widths, cell
colours by text (conditional format rules that replace the sheet's previous
ones), new tabs and protected ranges.
"""

from __future__ import annotations

from typing import Any

from sheets.outputs import Chart, ColumnKind, Layout

NUMBER_FORMATS: dict[ColumnKind, dict[str, str]] = {
    "percent": {"type": "PERCENT", "pattern": "0.00%"},
    "money": {"type": "CURRENCY", "pattern": "$#,##0.00"},
    "int": {"type": "NUMBER", "pattern": "#,##0"},
    "number": {"type": "NUMBER", "pattern": "#,##0.0"},
    "datetime": {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm"},
}
"""Sheets number format of each column kind; ``text`` columns get the default format."""

PROTECTION_DESCRIPTION = "Goals Sync output tab: rewritten by the service, edits here are overwritten"
"""Marks the protected ranges this service owns (so it replaces only its own)."""

Request = dict[str, Any]


def rgb(colour: str) -> dict[str, float]:
    """``#b7e1cd`` → Sheets ``Color`` (fractions of 1)."""
    text = colour.lstrip("#")
    if len(text) != 6:
        raise ValueError(f"colour {colour!r} is not #rrggbb")
    red, green, blue = (int(text[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return {"red": round(red, 4), "green": round(green, 4), "blue": round(blue, 4)}


def add_sheet(sheet_id: int, title: str, *, rows: int, columns: int, frozen_rows: int = 0) -> Request:
    """An ``addSheet`` request with a chosen id, so later requests of the same batch can use it."""
    grid: dict[str, int] = {"rowCount": max(rows, 1), "columnCount": max(columns, 1)}
    if frozen_rows:
        grid["frozenRowCount"] = frozen_rows
    return {"addSheet": {"properties": {"sheetId": sheet_id, "title": title, "gridProperties": grid}}}


def resize(sheet_id: int, *, rows: int, columns: int) -> Request:
    """Set a tab's grid size (before formatting ranges that reach beyond its current edge)."""
    return {"updateSheetProperties": {
        "properties": {"sheetId": sheet_id, "gridProperties": {"rowCount": max(rows, 1),
                                                               "columnCount": max(columns, 1)}},
        "fields": "gridProperties.rowCount,gridProperties.columnCount",
    }}


def layout_requests(sheet_id: int, layout: Layout, *, previous_rule_count: int = 0) -> list[Request]:
    """Everything a layout sets on one tab.

    ``previous_rule_count``: the tab's conditional format rules now, all
    replaced by the layout's colour rules.
    """
    columns = layout.columns
    requests: list[Request] = [
        {"updateSheetProperties": {
            "properties": {"sheetId": sheet_id, "gridProperties": {"frozenRowCount": layout.frozen_rows}},
            "fields": "gridProperties.frozenRowCount",
        }},
        {"repeatCell": {
            "range": _grid(sheet_id, 0, 1, 0, len(columns)),
            "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
            "fields": "userEnteredFormat.textFormat.bold",
        }},
    ]
    for index, column in enumerate(columns):
        number_format = NUMBER_FORMATS.get(column.kind)
        cell = {"userEnteredFormat": {"numberFormat": dict(number_format)}} if number_format else {}
        # An empty cell with the field named resets it: a column that became text loses its old format.
        requests.append({"repeatCell": {
            "range": _grid(sheet_id, 1, None, index, index + 1),
            "cell": cell,
            "fields": "userEnteredFormat.numberFormat",
        }})
    requests.extend(_widths(sheet_id, [c.width for c in columns]))
    requests.extend(_bold_rows(sheet_id, layout))
    requests.extend(
        {"deleteConditionalFormatRule": {"sheetId": sheet_id, "index": index}}
        for index in reversed(range(previous_rule_count))
    )
    requests.extend(colour_rules(sheet_id, layout))
    return requests


def colour_rules(sheet_id: int, layout: Layout) -> list[Request]:
    """One ``TEXT_EQ`` rule per colour on the colour column (e.g. Pace: ahead → green)."""
    headers = [c.header for c in layout.columns]
    if layout.colour_column is None or layout.colour_column not in headers:
        return []
    column = headers.index(layout.colour_column)
    return [
        {"addConditionalFormatRule": {
            "index": index,
            "rule": {
                "ranges": [_grid(sheet_id, 1, None, column, column + 1)],
                "booleanRule": {
                    "condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": text}]},
                    "format": {"backgroundColor": rgb(colour)},
                },
            },
        }}
        for index, (text, colour) in enumerate(layout.colours)
    ]


def _bold_rows(sheet_id: int, layout: Layout) -> list[Request]:
    """Section titles under the table in bold; every other row below the header plain again
    (a row that was a title before may hold data now)."""
    if not layout.bold_rows:
        return []
    field = "userEnteredFormat.textFormat.bold"
    requests: list[Request] = [{"repeatCell": {
        "range": _grid(sheet_id, 1, None, 0, None),
        "cell": {"userEnteredFormat": {"textFormat": {"bold": False}}}, "fields": field,
    }}]
    requests.extend({"repeatCell": {
        "range": _grid(sheet_id, row + 1, row + 2, 0, None),
        "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}}, "fields": field,
    }} for row in layout.bold_rows)
    return requests


def chart_spec(sheet_id: int, chart: Chart) -> Request:
    """A ``ChartSpec`` of a line chart over the tab's own cells (header row = series names)."""
    def column(index: int) -> Request:
        return {"sourceRange": {"sources": [_grid(sheet_id, 0, chart.rows + 1, index, index + 1)]}}

    series: list[Request] = []
    for line in chart.series:
        entry: Request = {"series": column(line.column), "targetAxis": "LEFT_AXIS",
                          "colorStyle": {"rgbColor": rgb(line.colour)}}
        if line.dashed:
            entry["lineStyle"] = {"type": "MEDIUM_DASHED", "width": 2}
        series.append(entry)
    return {
        "title": chart.title,
        "basicChart": {
            "chartType": "LINE",
            "legendPosition": "BOTTOM_LEGEND",
            "headerCount": 1,
            "axis": [{"position": "BOTTOM_AXIS", "title": chart.x_title},
                     {"position": "LEFT_AXIS", "title": chart.y_title}],
            "domains": [{"domain": column(chart.domain_column)}],
            "series": series,
        },
    }


def chart_position(sheet_id: int, chart: Chart) -> Request:
    """An ``EmbeddedObjectPosition`` floating over the tab at the chart's anchor cell."""
    return {"overlayPosition": {
        "anchorCell": {"sheetId": sheet_id, "rowIndex": chart.anchor_row, "columnIndex": chart.anchor_column},
        "widthPixels": chart.width, "heightPixels": chart.height,
    }}


def chart_requests(sheet_id: int, charts: tuple[Chart, ...], chart_ids: list[int],
                   existing: set[int]) -> list[Request]:
    """``addChart`` for a chart the tab does not have yet; for one it has, only its spec (the data
    ranges) and position are updated, so the chart a manager sees is never replaced."""
    requests: list[Request] = []
    for chart, chart_id in zip(charts, chart_ids, strict=True):
        if chart_id in existing:
            requests.append({"updateChartSpec": {"chartId": chart_id, "spec": chart_spec(sheet_id, chart)}})
            requests.append({"updateEmbeddedObjectPosition": {
                "objectId": chart_id, "newPosition": chart_position(sheet_id, chart),
                "fields": "anchorCell,widthPixels,heightPixels",
            }})
        else:
            requests.append({"addChart": {"chart": {
                "chartId": chart_id, "spec": chart_spec(sheet_id, chart),
                "position": chart_position(sheet_id, chart),
            }}})
    return requests


def protect(sheet_id: int, editor_email: str) -> Request:
    """Protect a whole tab so that only ``editor_email`` (the service account) may edit it."""
    return {"addProtectedRange": {"protectedRange": {
        "range": {"sheetId": sheet_id},
        "description": PROTECTION_DESCRIPTION,
        "warningOnly": False,
        "editors": {"users": [editor_email]},
    }}}


def _grid(sheet_id: int, start_row: int, end_row: int | None, start_column: int,
          end_column: int | None) -> dict[str, int]:
    grid = {"sheetId": sheet_id, "startRowIndex": start_row, "startColumnIndex": start_column}
    if end_row is not None:
        grid["endRowIndex"] = end_row
    if end_column is not None:
        grid["endColumnIndex"] = end_column
    return grid


def _widths(sheet_id: int, widths: list[int]) -> list[Request]:
    """``updateDimensionProperties`` per run of equal widths."""
    requests: list[Request] = []
    start = 0
    for index in range(1, len(widths) + 1):
        if index == len(widths) or widths[index] != widths[start]:
            requests.append({"updateDimensionProperties": {
                "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": start, "endIndex": index},
                "properties": {"pixelSize": widths[start]},
                "fields": "pixelSize",
            }})
            start = index
    return requests
