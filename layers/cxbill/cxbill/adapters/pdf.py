"""The invoice PDF (R-pdf-1): ReportLab platypus, rendered from the stored invoice document alone.

`render_invoice_pdf(doc)` takes an `InvoiceDocument` (the invoice, R-invoice-5, plus the org's
name, billing address, payment terms, partner and daily-usage chart) and returns the PDF bytes.
Every amount printed is the invoice's own decimal formatted for people (the same decimal its JSON
record writes as a string); nothing is recomputed here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

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

from cxbill.domain.books import InvoiceDocument
from cxbill.domain.invoice import SECTIONS, Invoice, InvoiceLine
from cxbill.domain.periods import people_date, people_period
from cxbill.domain.rating import Chart

from .people import format_money, format_quantity, format_rate, format_tax_rate

__all__ = ["REMITTANCE", "render_invoice_pdf"]

REMITTANCE = (
    "We accept ACH/EFT, wire, or check. Please include the invoice number with your payment."
)
NO_RATE = "\u2014"  # calls are billed per call, not at one rate
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


# ---------------------------------------------------------------------------- text for people


def _rate(rate: Decimal | None, currency: str) -> str:
    return NO_RATE if rate is None else format_rate(rate, currency)


def _money(amount: Decimal | None, currency: str) -> str:
    assert amount is not None  # an issued invoice's lines are priced (InvoiceLine.amount)
    return format_money(amount, currency)


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


def _title(invoice: Invoice) -> list[Flowable]:
    title = "Usage statement" if invoice.is_statement else "Invoice"
    return [Paragraph(title, _TITLE), _para(f"Number: {invoice.number}")]


def _bill_to(doc: InvoiceDocument) -> list[Paragraph]:
    lines = ["<b>Bill to</b>", escape(doc.org_name)]
    lines += [escape(line) for line in doc.billing_address]
    lines.append(f"Organization ID: {escape(doc.invoice.org_id)}")
    return [Paragraph(line, _BODY) for line in lines]


def _terms(doc: InvoiceDocument) -> list[Paragraph]:
    invoice = doc.invoice
    facts = [
        f"Type: {_KIND_LABELS.get(invoice.kind, invoice.kind)}",
        f"Issue date: {people_date(invoice.issue_date)}",
        f"Due date: {people_date(invoice.due_date)}",
    ]
    if invoice.is_statement:
        # R-partner-1: the partner bills the cost; nothing here asks for payment.
        if doc.partner:
            facts.append(f"Billed through {doc.partner}")
    else:
        facts.append(f"Payable in {invoice.currency}")
        facts.append(f"Payment terms: Net {doc.payment_terms_days} days")
    return [_para(fact) for fact in facts]


def _header(doc: InvoiceDocument) -> list[Flowable]:
    invoice = doc.invoice
    parties = Table(
        [[_bill_to(doc), _terms(doc)]],
        colWidths=(_WIDTH / 2, _WIDTH / 2),
        style=TableStyle(
            [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]
        ),
    )
    period = people_period(invoice.period_start, invoice.period_end)
    return [
        *_title(invoice),
        Spacer(1, 8),
        parties,
        Spacer(1, 6),
        _para(f"Billing period: {period}"),
    ]


# ---------------------------------------------------------------------------- the lines


def _sections_in_order(lines: Iterable[InvoiceLine]) -> dict[str, list[InvoiceLine]]:
    """Lines by section in R-invoice-4's order; an unknown section still prints, last."""
    grouped: dict[str, list[InvoiceLine]] = {name: [] for name in SECTIONS}
    for line in lines:
        grouped.setdefault(line.section, []).append(line)
    return {name: section_lines for name, section_lines in grouped.items() if section_lines}


def _usage_row(line: InvoiceLine) -> list[Any]:
    return [
        _para(line.description, _CELL),
        people_period(line.service_start, line.service_end),
        format_quantity(line.quantity),
    ]


def _charge_row(line: InvoiceLine, currency: str) -> list[Any]:
    return [*_usage_row(line), _rate(line.rate, currency), _money(line.amount, currency)]


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


def _section_table(section_lines: list[InvoiceLine], invoice: Invoice) -> Table:
    if invoice.is_statement:
        header, widths = _USAGE_COLUMNS, _USAGE_WIDTHS
        rows = [_usage_row(line) for line in section_lines]
    else:
        header, widths = _CHARGE_COLUMNS, _CHARGE_WIDTHS
        rows = [_charge_row(line, invoice.currency) for line in section_lines]
    # repeatRows=1: a section that runs past a page break keeps its column headers (R-pdf-1).
    return Table([list(header), *rows], colWidths=widths, repeatRows=1, style=_LINE_TABLE_STYLE)


def _line_sections(invoice: Invoice) -> list[Flowable]:
    sections = _sections_in_order(invoice.lines)
    if not sections:
        return [*_heading("Charges"), _para("No charges in this period.")]
    flowables: list[Flowable] = []
    for name, section_lines in sections.items():
        flowables += [*_heading(name), _section_table(section_lines, invoice)]
    return flowables


# ---------------------------------------------------------------------------- the totals


_TOTALS_STYLE = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, -1), "Helvetica"),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
    ]
)


def _amount_row(label: str, amount: Decimal, currency: str, bold: bool = False) -> Table:
    table = Table([["", label, _money(amount, currency)]], colWidths=(232, 180, 80))
    table.setStyle(_TOTALS_STYLE)
    if bold:
        table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), "Helvetica-Bold")]))
    return table


def _taxes_and_fees(invoice: Invoice) -> list[Flowable]:
    currency, taxes = invoice.currency, invoice.taxes
    heading = _heading("Taxes and fees")
    if not taxes:
        return [*heading, _para("No taxes or fees apply.")]
    rows = [["Tax or fee", "Rate", "Amount"]]
    rows += [
        [_para(tax.name, _CELL), format_tax_rate(tax.rate), _money(tax.amount, currency)]
        for tax in taxes
    ]
    table = Table(rows, colWidths=(332, 80, 80), repeatRows=1, style=_LINE_TABLE_STYLE)
    table.setStyle(TableStyle([("ALIGN", (1, 0), (-1, -1), "RIGHT")]))
    return [*heading, table]


def _totals(invoice: Invoice) -> list[Flowable]:
    if invoice.is_statement:
        return []  # R-partner-1: a statement carries no cost fields at all
    currency = invoice.currency
    return [
        Spacer(1, 6),
        KeepTogether([_amount_row("Subtotal", invoice.subtotal, currency)]),
        *_taxes_and_fees(invoice),
        Spacer(1, 4),
        KeepTogether([_amount_row("Total", invoice.total, currency, bold=True)]),
    ]


# ---------------------------------------------------------------------------- the usage chart


def _day_labels(days: list[date]) -> list[str]:
    """Every day's bar, but only about eight labels, so a 31-day month stays readable."""
    step = max(1, (len(days) + 7) // 8)
    return [
        people_date(day).rsplit(",", 1)[0] if i % step == 0 else "" for i, day in enumerate(days)
    ]


def _usage_chart(chart: Chart) -> Flowable:
    days = [day for day, _ in chart.points]
    values = [float(value) for _, value in chart.points]  # drawing only; no money here
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


def _chart_block(chart: Chart) -> list[Flowable]:
    title = _para(chart.title or "Daily usage", _HEADING)
    body = _usage_chart(chart) if chart.points else _para("No usage in this period")
    return [KeepTogether([title, body])]


# ---------------------------------------------------------------------------- the document


def _remittance(invoice: Invoice) -> list[Flowable]:
    if invoice.is_statement:
        return []
    return [Spacer(1, 10), _para(REMITTANCE)]


def _story(doc: InvoiceDocument) -> list[Flowable]:
    invoice = doc.invoice
    return [
        *_header(doc),
        *_line_sections(invoice),
        *_totals(invoice),
        *_chart_block(doc.chart),
        *_remittance(invoice),
    ]


def render_invoice_pdf(doc: InvoiceDocument) -> bytes:
    """The invoice (or partner usage statement) PDF for an invoice document (R-pdf-1)."""
    invoice = doc.invoice
    title = "Usage statement" if invoice.is_statement else "Invoice"
    buffer = BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=_PAGE,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
        title=f"{title} {invoice.number}",
        invariant=1,  # same record, same bytes: no timestamp or random id in the file
    )
    footer = _footer_with_number(invoice.number)
    template.build(
        _story(doc), onFirstPage=footer, onLaterPages=footer, canvasmaker=_NumberedCanvas
    )
    return buffer.getvalue()
