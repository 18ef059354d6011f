"""The invoice PDF (R-pdf-1): ReportLab platypus, rendered from the stored invoice document alone.

`render_invoice_pdf(doc)` takes the record (R-invoice-5) plus the org's name, billing address,
payment terms, partner and daily-usage chart, and returns the PDF bytes. Every amount printed is
the record's own decimal string formatted for people; nothing is recomputed here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from cxbill.domain.instants import ms_date, parse_instant
from cxbill.domain.money import format_money, format_rate

__all__ = ["SECTIONS", "human_period", "render_invoice_pdf"]

# R-invoice-4: the order sections print in; only sections that have lines are shown.
SECTIONS = (
    "Core services and fees",
    "Resource charges",
    "Device charges",
    "Telco usage charges",
)
REMITTANCE = (
    "We accept ACH/EFT, wire, or check. Please include the invoice number with your payment."
)
NO_RATE = "\u2014"  # calls are billed per call, not at one rate
_LOCALE = "en_US"
_KIND_LABELS = {
    "period": "Billing period",
    "opening": "Opening",
    "one_time": "One-time charges",
    "statement": "Usage statement",
}

_PAGE = LETTER
_MARGIN = 0.75 * inch
_WIDTH = _PAGE[0] - 2 * _MARGIN - 12  # 492 pt: the frame keeps 6 pt padding each side
_CHARGE_COLUMNS: tuple[str, ...] = ("Description", "Service period", "Quantity", "Rate", "Amount")
_CHARGE_WIDTHS: tuple[int, ...] = (164, 122, 60, 66, 80)
_USAGE_COLUMNS: tuple[str, ...] = ("Description", "Service period", "Quantity")
_USAGE_WIDTHS: tuple[int, ...] = (280, 122, 90)
_HEADING_ROOM = 1.25 * inch  # a heading, the column headers and a few lines

_styles = getSampleStyleSheet()
_TITLE = ParagraphStyle("InvoiceTitle", parent=_styles["Title"], alignment=0, spaceAfter=4)
_HEADING = ParagraphStyle(
    "SectionHeading", parent=_styles["Heading3"], spaceBefore=10, spaceAfter=4
)
_BODY = ParagraphStyle("Body", parent=_styles["Normal"], fontSize=9, leading=12)
_CELL = ParagraphStyle("Cell", parent=_BODY, fontSize=8, leading=10)
_CELL_RIGHT = ParagraphStyle("CellRight", parent=_CELL, alignment=TA_RIGHT)


# ---------------------------------------------------------------------------- dates for people


def _people_date(day: date) -> str:
    return format_date(day, "MMM d, y", locale=_LOCALE)


def human_period(start_iso: str, end_iso: str) -> str:
    """A [start, end) span as people read it, last day inclusive (R-invoice-7).

    "2026-03-10T00:00:00Z", "2026-04-10T00:00:00Z" -> "Mar 10, 2026 – Apr 9, 2026".
    A span within one day (or empty) shows that day alone.
    """
    start_ms, end_ms = parse_instant(start_iso), parse_instant(end_iso)
    first = ms_date(start_ms)
    last = ms_date(max(end_ms - 1, start_ms))
    if last == first:
        return _people_date(first)
    return f"{_people_date(first)} \u2013 {_people_date(last)}"


def _issue_date(text: str) -> str:
    return _people_date(date.fromisoformat(text))


# ---------------------------------------------------------------------------- numbers for people


def _quantity(text: str) -> str:
    """Grouped, with exactly the record's decimal places ("216.80" stays 216.80)."""
    quantity = Decimal(text)
    places = max(0, -int(quantity.as_tuple().exponent))
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(quantity, format=pattern, locale=_LOCALE, decimal_quantization=False)


def _money(text: str, currency: str) -> str:
    return format_money(Decimal(text), currency)


def _rate(text: str | None, currency: str) -> str:
    return NO_RATE if text is None else format_rate(Decimal(text), currency)


def _tax_percent(text: str) -> str:
    return format_percent(Decimal(text), "#,##0.####%", locale=_LOCALE, decimal_quantization=False)


def _heading(name: str) -> list[Flowable]:
    """A section heading that never sits alone at a page's foot.

    Not keepWithNext: that wraps heading and table in a KeepTogether, which pushes a table taller
    than the space left to the next page whole, leaving a blank page behind.
    """
    return [CondPageBreak(_HEADING_ROOM), _para(name, _HEADING)]


def _para(text: str, style: ParagraphStyle = _BODY) -> Paragraph:
    """User or record text, escaped so "<b>&" prints literally."""
    return Paragraph(escape(text), style)


# ---------------------------------------------------------------------------- page numbers


class _NumberedCanvas(Canvas):
    """Two passes: pages are held until save(), when the page count is known ("Page n of m")."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held_pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._held_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        page_count = len(self._held_pages)
        for page in self._held_pages:
            self.__dict__.update(page)
            self._draw_page_footer(page_count)
            super().showPage()
        super().save()

    def _draw_page_footer(self, page_count: int) -> None:
        self.saveState()
        self.setFont("Helvetica", 8)
        self.drawRightString(
            _PAGE[0] - _MARGIN - 6, _MARGIN / 2, f"Page {self._pageNumber} of {page_count}"
        )
        self.restoreState()


def _footer_with_number(number: str) -> Callable[[Canvas, Any], None]:
    def draw(canvas: Canvas, _doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(_MARGIN + 6, _MARGIN / 2, number)
        canvas.restoreState()

    return draw


# ---------------------------------------------------------------------------- the header


def _is_statement(record: dict[str, Any]) -> bool:
    return record["kind"] == "statement"


def _title(record: dict[str, Any]) -> list[Flowable]:
    title = "Usage statement" if _is_statement(record) else "Invoice"
    return [Paragraph(title, _TITLE), _para(f"Number: {record['number']}")]


def _bill_to(doc: dict[str, Any]) -> list[Paragraph]:
    record = doc["record"]
    lines = ["<b>Bill to</b>", escape(doc["org_name"])]
    lines += [escape(line) for line in doc["billing_address"]]
    lines.append(f"Organization ID: {escape(record['org_id'])}")
    return [Paragraph(line, _BODY) for line in lines]


def _terms(doc: dict[str, Any]) -> list[Paragraph]:
    record = doc["record"]
    facts = [
        f"Type: {_KIND_LABELS.get(record['kind'], record['kind'])}",
        f"Issue date: {_issue_date(record['issue_date'])}",
        f"Due date: {_issue_date(record['due_date'])}",
    ]
    if _is_statement(record):
        # R-partner-1: the partner bills the cost; nothing here asks for payment.
        if doc.get("partner"):
            facts.append(f"Billed through {doc['partner']}")
    else:
        facts.append(f"Payable in {record['currency']}")
        facts.append(f"Payment terms: Net {doc['payment_terms_days']} days")
    return [_para(fact) for fact in facts]


def _header(doc: dict[str, Any]) -> list[Flowable]:
    record = doc["record"]
    parties = Table(
        [[_bill_to(doc), _terms(doc)]],
        colWidths=(_WIDTH / 2, _WIDTH / 2),
        style=TableStyle(
            [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]
        ),
    )
    period = human_period(record["period_start"], record["period_end"])
    return [
        *_title(record),
        Spacer(1, 8),
        parties,
        Spacer(1, 6),
        _para(f"Billing period: {period}"),
    ]


# ---------------------------------------------------------------------------- the lines


def _sections_in_order(lines: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Lines by section in R-invoice-4's order; an unknown section still prints, last."""
    grouped: dict[str, list[dict[str, Any]]] = {name: [] for name in SECTIONS}
    for line in lines:
        grouped.setdefault(line["section"], []).append(line)
    return {name: section_lines for name, section_lines in grouped.items() if section_lines}


def _charge_row(line: dict[str, Any], currency: str) -> list[Any]:
    return [
        _para(line["description"], _CELL),
        human_period(line["service_start"], line["service_end"]),
        _quantity(line["quantity"]),
        _rate(line.get("rate"), currency),
        _money(line["amount"], currency),
    ]


def _usage_row(line: dict[str, Any]) -> list[Any]:
    return [
        _para(line["description"], _CELL),
        human_period(line["service_start"], line["service_end"]),
        _quantity(line["quantity"]),
    ]


_LINE_TABLE_STYLE = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, -1), "Helvetica"),
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8ECF2")),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.lightgrey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
    ]
)


def _section_table(section_lines: list[dict[str, Any]], record: dict[str, Any]) -> Table:
    if _is_statement(record):
        header, widths = _USAGE_COLUMNS, _USAGE_WIDTHS
        rows = [_usage_row(line) for line in section_lines]
    else:
        header, widths = _CHARGE_COLUMNS, _CHARGE_WIDTHS
        rows = [_charge_row(line, record["currency"]) for line in section_lines]
    # repeatRows=1: a section that runs past a page break keeps its column headers (R-pdf-1).
    return Table([list(header), *rows], colWidths=widths, repeatRows=1, style=_LINE_TABLE_STYLE)


def _line_sections(record: dict[str, Any]) -> list[Flowable]:
    sections = _sections_in_order(record["lines"])
    if not sections:
        return [*_heading("Charges"), _para("No charges in this period.")]
    flowables: list[Flowable] = []
    for name, section_lines in sections.items():
        flowables += [*_heading(name), _section_table(section_lines, record)]
    return flowables


# ---------------------------------------------------------------------------- the totals


_TOTALS_STYLE = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, -1), "Helvetica"),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
    ]
)


def _amount_row(label: str, amount: str, currency: str, bold: bool = False) -> Table:
    table = Table([["", label, _money(amount, currency)]], colWidths=(232, 180, 80))
    table.setStyle(_TOTALS_STYLE)
    if bold:
        table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), "Helvetica-Bold")]))
    return table


def _taxes_and_fees(record: dict[str, Any]) -> list[Flowable]:
    currency = record["currency"]
    taxes = record.get("taxes") or []
    heading = _heading("Taxes and fees")
    if not taxes:
        return [*heading, _para("No taxes or fees apply.")]
    rows = [["Tax or fee", "Rate", "Amount"]]
    rows += [
        [_para(tax["name"], _CELL), _tax_percent(tax["rate"]), _money(tax["amount"], currency)]
        for tax in taxes
    ]
    table = Table(rows, colWidths=(332, 80, 80), repeatRows=1, style=_LINE_TABLE_STYLE)
    table.setStyle(TableStyle([("ALIGN", (1, 0), (-1, -1), "RIGHT")]))
    return [*heading, table]


def _totals(record: dict[str, Any]) -> list[Flowable]:
    if _is_statement(record):
        return []  # R-partner-1: a statement carries no cost fields at all
    currency = record["currency"]
    return [
        Spacer(1, 6),
        KeepTogether([_amount_row("Subtotal", record["subtotal"], currency)]),
        *_taxes_and_fees(record),
        Spacer(1, 4),
        KeepTogether([_amount_row("Total", record["total"], currency, bold=True)]),
    ]


# ---------------------------------------------------------------------------- the usage chart


def _day_labels(days: list[str]) -> list[str]:
    """Every day's bar, but only about eight labels, so a 31-day month stays readable."""
    step = max(1, (len(days) + 7) // 8)
    return [
        _people_date(date.fromisoformat(day)).rsplit(",", 1)[0] if i % step == 0 else ""
        for i, day in enumerate(days)
    ]


def _usage_chart(chart: dict[str, Any]) -> Flowable:
    points = chart["points"]
    days = [day for day, _ in points]
    values = [float(Decimal(value)) for _, value in points]  # drawing only; no money here
    drawing = Drawing(_WIDTH, 130)
    bars = VerticalBarChart()
    bars.x, bars.y, bars.width, bars.height = 36, 20, _WIDTH - 46, 100
    bars.data = [values]
    bars.bars[0].fillColor = colors.HexColor("#4A6FA5")
    bars.bars[0].strokeColor = None
    bars.valueAxis.valueMin = 0
    top = max(values) if max(values) > 0 else 1
    bars.valueAxis.valueMax = top
    if all(v.is_integer() for v in values):  # users and peaks are counts: whole-number ticks
        bars.valueAxis.valueStep = max(1, math.ceil(top / 5))
    bars.valueAxis.labels.fontSize = 6
    bars.categoryAxis.categoryNames = _day_labels(days)
    bars.categoryAxis.labels.fontSize = 6
    bars.categoryAxis.labels.boxAnchor = "n"
    drawing.add(bars)
    return drawing


def _chart_block(chart: dict[str, Any] | None) -> list[Flowable]:
    chart = chart or {"title": "Daily usage", "points": []}
    title = _para(chart.get("title") or "Daily usage", _HEADING)
    body = _usage_chart(chart) if chart["points"] else _para("No usage in this period")
    return [KeepTogether([title, body])]


# ---------------------------------------------------------------------------- the document


def _remittance(record: dict[str, Any]) -> list[Flowable]:
    if _is_statement(record):
        return []
    return [Spacer(1, 10), _para(REMITTANCE)]


def _story(doc: dict[str, Any]) -> list[Flowable]:
    record = doc["record"]
    return [
        *_header(doc),
        *_line_sections(record),
        *_totals(record),
        *_chart_block(doc.get("chart")),
        *_remittance(record),
    ]


def render_invoice_pdf(doc: dict[str, Any]) -> bytes:
    """The invoice (or partner usage statement) PDF for a stored invoice document (R-pdf-1)."""
    record = doc["record"]
    title = "Usage statement" if _is_statement(record) else "Invoice"
    buffer = BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=_PAGE,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
        title=f"{title} {record['number']}",
        invariant=1,  # same record, same bytes: no timestamp or random id in the file
    )
    footer = _footer_with_number(record["number"])
    template.build(
        _story(doc), onFirstPage=footer, onLaterPages=footer, canvasmaker=_NumberedCanvas
    )
    return buffer.getvalue()
