"""The invoice PDF (R-pdf-1, R-pdf-3, R-pdf-4): ReportLab platypus, rendered from the stored invoice
document alone.

`render_invoice_pdf(doc)` takes an `InvoiceDocument` (the invoice, R-invoice-5, plus the org's
name, billing address, payment terms, partner, daily-usage chart and the seller as it was at
issue) and returns the PDF bytes. Every amount printed is the invoice's own decimal formatted for
people (the same decimal its JSON record writes as a string); nothing is recomputed here.

Text in any script prints as itself: each run of user text takes the font that has it
(`fonts.py`), and the PDF's text layer returns it unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import Any

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
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
from cxbill.domain.invoice import Invoice
from cxbill.domain.issuer import Issuer
from cxbill.domain.lines import SECTIONS, InvoiceLine
from cxbill.domain.periods import people_date, people_period
from cxbill.domain.rating import Chart

from . import fonts
from .people import format_money, format_quantity, format_rate, format_tax_rate

__all__ = ["LANGUAGE", "REMITTANCE", "render_invoice_pdf"]

REMITTANCE = (
    "We accept ACH/EFT, wire, or check. Please include the invoice number with your payment."
)
LANGUAGE = "en-US"  # the document's language (its labels); names keep their own scripts
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
_HALF = _WIDTH / 2
_CELL_PAD = 6  # a table cell's default left and right padding
_CHARGE_COLUMNS: tuple[str, ...] = ("Description", "Service period", "Quantity", "Rate", "Amount")
_CHARGE_WIDTHS: tuple[int, ...] = (164, 122, 60, 66, 80)
_USAGE_COLUMNS: tuple[str, ...] = ("Description", "Service period", "Quantity")
_USAGE_WIDTHS: tuple[int, ...] = (280, 122, 90)
_AMOUNT_WIDTH = _CHARGE_WIDTHS[-1]  # every amount column ends at the right margin, this wide
_HEADING_ROOM = 1.25 * inch  # a heading, the column headers and a few lines
_INK = colors.HexColor("#1F2933")
_MUTED = colors.HexColor("#5F6B7A")
_RULE = colors.HexColor("#C9D1DC")
_TINT = colors.HexColor("#E8ECF2")
_BAR = colors.HexColor("#4A6FA5")
_PEAK_BAR = colors.HexColor("#23406B")

_styles = getSampleStyleSheet()
_BODY = ParagraphStyle("Body", parent=_styles["Normal"], fontSize=9, leading=12, textColor=_INK)
_NAME = ParagraphStyle("Name", parent=_BODY, fontSize=10, leading=13)
_LABEL = ParagraphStyle(
    "Label", parent=_BODY, fontName="Helvetica-Bold", fontSize=7.5, leading=10, textColor=_MUTED
)
_SMALL = ParagraphStyle("Small", parent=_BODY, fontSize=7.5, leading=10, textColor=_MUTED)
_CELL = ParagraphStyle("Cell", parent=_BODY, fontSize=8, leading=10)
_MIN_FIT_SIZE = 6.5  # a long name or address line shrinks to one line down to this size

# Page streams Flate-compressed only, not also ASCII85-encoded: a quarter smaller, and the
# pure-Python encoder was a tenth of a render (R-pdf-1's rate). Only this module uses ReportLab.
rl_config.useA85 = 0


# ---------------------------------------------------------------------------- text for people


def _rate(rate: Decimal | None, currency: str) -> str:
    return NO_RATE if rate is None else format_rate(rate, currency)


def _money(amount: Decimal | None, currency: str) -> str:
    assert amount is not None  # an issued invoice's lines are priced (InvoiceLine.amount)
    return format_money(amount, currency)


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _distinct_lines(name: str, lines: Iterable[str]) -> list[str]:
    """Address lines without the name again (a contract's address defaults to [name]) and
    without a line repeated."""
    kept: list[str] = []
    for line in lines:
        if line.strip() and not _same(line, name) and not any(_same(line, k) for k in kept):
            kept.append(line)
    return kept


class _Line(Flowable):
    """One line of text, each run in its own font, drawn straight onto the canvas: what most
    of an invoice is (names, address lines, dates), at a fraction of a Paragraph's cost."""

    def __init__(
        self, runs: list[tuple[str, str]], size: float, color: Any = _INK, leading: float = 0
    ):
        super().__init__()
        self.runs, self.size, self.color = runs, size, color
        self.leading = leading or round(size * 1.3, 1)

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return available_width, self.leading

    def draw(self) -> None:
        text = self.canv.beginText(0, self.leading - self.size)
        text.setFillColor(self.color)
        for font, run in self.runs:
            text.setFont(font, self.size)
            text.textOut(run)
        self.canv.drawText(text)


class _Block(Flowable):
    """Consecutive lines drawn as one text object (a party's block, the invoice facts): one
    flowable instead of one per line."""

    def __init__(self, lines: list[_Line]):
        super().__init__()
        self.lines = lines
        self.height = sum(line.leading for line in lines)

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return available_width, self.height

    def draw(self) -> None:
        text, top, color = self.canv.beginText(), self.height, None
        for line in self.lines:
            text.setTextOrigin(0, top - line.size)
            if line.color != color:
                text.setFillColor(line.color)
                color = line.color
            for font, run in line.runs:
                text.setFont(font, line.size)
                text.textOut(run)
            top -= line.leading
        self.canv.drawText(text)


def _stacked(flowables: list[Flowable]) -> list[Flowable]:
    """`flowables` with each run of plain lines drawn as one block."""
    stacked: list[Flowable] = []
    lines: list[_Line] = []
    for flowable in [*flowables, None]:
        if isinstance(flowable, _Line) and not flowable.getSpaceBefore():
            lines.append(flowable)
            continue
        if lines:
            stacked.append(_Block(lines) if len(lines) > 1 else lines[0])
            lines = []
        if flowable is not None:
            stacked.append(flowable)
    return stacked


class _InFont(str):
    """A table cell's text that one font other than Helvetica prints whole."""

    font: str

    def __new__(cls, text: str, font: str) -> _InFont:
        cell = super().__new__(cls, text)
        cell.font = font
        return cell


def _cell_fonts(rows: list[list[Any]], column: int = 0) -> list[tuple]:
    """The table style commands that give each `_InFont` cell of `column` its font."""
    return [
        ("FONTNAME", (column, i), (column, i), row[column].font)
        for i, row in enumerate(rows)
        if isinstance(row[column], _InFont)
    ]


class _Text:
    """User and record text, each run in a font that has its script (R-pdf-4). One per
    document: Han characters take the document's CJK font."""

    def __init__(self, doc: InvoiceDocument):
        texts = [doc.org_name, *doc.billing_address, doc.partner or ""]
        if doc.issuer:
            texts += [doc.issuer.legal_name, *doc.issuer.address, *doc.issuer.remittance]
        self.han = fonts.cjk_font(texts, doc.invoice.currency)

    def para(self, text: str, style: ParagraphStyle = _BODY, bold: bool = False) -> Paragraph:
        """Text that may wrap, escaped so "<b>&" prints literally."""
        if not fonts.is_latin(text):
            style = ParagraphStyle(f"{style.name}-cjk", parent=style, wordWrap="CJK")
        return Paragraph(fonts.markup(text, self.han, bold), style)

    def line(
        self, text: str, width: float, style: ParagraphStyle = _BODY, bold: bool = False
    ) -> Flowable:
        """One line of a name or address, shrunk to fit `width` if need be (a line cut in two
        comes back from the text layer as two); wrapped only if it cannot fit."""
        runs = fonts.runs(text, self.han, bold)
        size, wide = style.fontSize, self._width(runs, style.fontSize)
        if wide > width:
            size = math.floor(style.fontSize * width / wide * 10) / 10
            if size < _MIN_FIT_SIZE:
                return self.para(text, style, bold)
        leading = style.leading if size == style.fontSize else 0
        return _Line(runs, size, style.textColor, leading)

    def cell(self, text: str, width: float, style: ParagraphStyle = _CELL) -> Any:
        """A table cell: the text itself if it fits in one font (the table draws it; see
        `_cell_fonts`), else one line of runs, else a wrapping paragraph."""
        room = width - 2 * _CELL_PAD
        runs = fonts.runs(text, self.han)
        if self._width(runs, style.fontSize) > room:
            return self.para(text, style)
        if len(runs) == 1 and runs[0][0] == fonts.LATIN:
            return text
        if len(runs) == 1:
            return _InFont(text, runs[0][0])
        return _Line(runs, style.fontSize, style.textColor, style.leading)

    @staticmethod
    def _width(runs: list[tuple[str, str]], size: float) -> float:
        return sum(pdfmetrics.stringWidth(run, fonts.register(font), size) for font, run in runs)


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
        self.setFillColor(_MUTED)
        self.drawRightString(
            _PAGE[0] - _MARGIN - 6, _MARGIN / 2, f"Page {self._pageNumber} of {page_count}"
        )
        self.restoreState()


def _footer_with_number(number: str) -> Callable[[Canvas, Any], None]:
    def draw(canvas: Canvas, _doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(_MUTED)
        canvas.drawString(_MARGIN + 6, _MARGIN / 2, number)
        canvas.setStrokeColor(_RULE)
        canvas.setLineWidth(0.5)
        canvas.line(_MARGIN + 6, _MARGIN / 2 + 11, _PAGE[0] - _MARGIN - 6, _MARGIN / 2 + 11)
        canvas.restoreState()

    return draw


# ---------------------------------------------------------------------------- the header


def _facts(doc: InvoiceDocument) -> list[str]:
    invoice = doc.invoice
    facts = [
        f"Number: {invoice.number}",
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
    return facts


def _seller(issuer: Issuer, text: _Text) -> list[Flowable]:
    """R-pdf-3: legal name, address, tax registration and contact."""
    room = _HALF - 2 * _CELL_PAD
    block: list[Flowable] = [_label("FROM")]
    block.append(text.line(issuer.legal_name, room, _NAME, bold=True))
    block += [text.line(line, room) for line in _distinct_lines(issuer.legal_name, issuer.address)]
    if issuer.tax_id:
        block.append(text.line(f"Tax ID: {issuer.tax_id}", room))
    if issuer.email:
        block.append(text.line(issuer.email, room))
    return _stacked(block)


def _buyer(doc: InvoiceDocument, text: _Text) -> list[Flowable]:
    room = _HALF - 2 * _CELL_PAD
    block: list[Flowable] = [_label("BILL TO")]
    block.append(text.line(doc.org_name, room, _NAME, bold=True))
    block += [text.line(line, room) for line in _distinct_lines(doc.org_name, doc.billing_address)]
    block.append(text.line(f"Organization ID: {doc.invoice.org_id}", room))
    return _stacked(block)


def _header(doc: InvoiceDocument, text: _Text) -> list[Flowable]:
    invoice = doc.invoice
    title = "Usage statement" if invoice.is_statement else "Invoice"
    facts = _stacked([text.line(fact, _HALF * 2 / 3 - _CELL_PAD) for fact in _facts(doc)])
    top = Table(
        [[_Line([(fonts.LATIN_BOLD, title)], 20, _INK, 24), facts]],
        colWidths=(_HALF, _HALF),
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("LEFTPADDING", (1, 0), (1, -1), _HALF / 3),
            ]
        ),
    )
    # Seller and buyer side by side; no seller stored (R-pdf-3): the buyer alone, on the left.
    parties = [_seller(doc.issuer, text), _buyer(doc, text)] if doc.issuer else [_buyer(doc, text)]
    while len(parties) < 2:
        parties.append([])
    boxes = Table(
        [parties],
        colWidths=(_HALF, _HALF),
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("LINEABOVE", (0, 0), (-1, 0), 0.75, _RULE),
                ("LINEBELOW", (0, 0), (-1, 0), 0.75, _RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        ),
    )
    period = people_period(invoice.period_start, invoice.period_end)
    return [
        top,
        Spacer(1, 10),
        boxes,
        Spacer(1, 6),
        text.line(f"Billing period: {period}", _WIDTH),
    ]


# ---------------------------------------------------------------------------- the lines


def _sections_in_order(lines: Iterable[InvoiceLine]) -> dict[str, list[InvoiceLine]]:
    """Lines by section in R-invoice-4's order; an unknown section still prints, last."""
    grouped: dict[str, list[InvoiceLine]] = {name: [] for name in SECTIONS}
    for line in lines:
        grouped.setdefault(line.section, []).append(line)
    return {name: section_lines for name, section_lines in grouped.items() if section_lines}


_LINE_TABLE_STYLE = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, -1), "Helvetica"),
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("TEXTCOLOR", (0, 0), (-1, -1), _INK),
        ("BACKGROUND", (0, 0), (-1, 0), _TINT),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.lightgrey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
    ]
)


class _Lines:
    """The charge tables: one per section, headers repeated on each page (R-pdf-1)."""

    def __init__(self, invoice: Invoice, text: _Text):
        self.invoice, self.text = invoice, text
        self.widths = _USAGE_WIDTHS if invoice.is_statement else _CHARGE_WIDTHS

    def _usage_row(self, line: InvoiceLine) -> list[Any]:
        return [
            self.text.cell(line.description, self.widths[0]),
            people_period(line.service_start, line.service_end),
            format_quantity(line.quantity),
        ]

    def _charge_row(self, line: InvoiceLine) -> list[Any]:
        currency = self.invoice.currency
        return [*self._usage_row(line), _rate(line.rate, currency), _money(line.amount, currency)]

    def table(self, section_lines: list[InvoiceLine]) -> Table:
        if self.invoice.is_statement:
            header, widths = _USAGE_COLUMNS, _USAGE_WIDTHS
            rows = [self._usage_row(line) for line in section_lines]
        else:
            header, widths = _CHARGE_COLUMNS, _CHARGE_WIDTHS
            rows = [self._charge_row(line) for line in section_lines]
        rows = [list(header), *rows]
        # repeatRows=1: a section that runs past a page break keeps its column headers.
        table = Table(rows, colWidths=widths, repeatRows=1, style=_LINE_TABLE_STYLE)
        if fonted := _cell_fonts(rows):
            table.setStyle(TableStyle(fonted))
        return table

    def sections(self) -> list[Flowable]:
        sections = _sections_in_order(self.invoice.lines)
        if not sections:
            return [*_heading("Charges"), self.text.para("No charges in this period.")]
        flowables: list[Flowable] = []
        for name, section_lines in sections.items():
            flowables += [*_heading(name), self.table(section_lines)]
        return flowables


def _label(name: str) -> _Line:
    return _Line([(fonts.LATIN_BOLD, name)], _LABEL.fontSize, _MUTED, _LABEL.leading)


def _heading_line(name: str) -> _Line:
    heading = _Line([(fonts.LATIN_BOLD, name)], 11.5, _INK, 14)
    heading.spaceBefore, heading.spaceAfter = 10, 4
    return heading


def _heading(name: str) -> list[Flowable]:
    """A section heading that never sits alone at a page's foot.

    Not keepWithNext: that wraps heading and table in a KeepTogether, which pushes a table taller
    than the space left to the next page whole, leaving a blank page behind.
    """
    return [CondPageBreak(_HEADING_ROOM), _heading_line(name)]


# ---------------------------------------------------------------------------- the totals


_TOTALS_STYLE = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, -1), "Helvetica"),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("TEXTCOLOR", (0, 0), (-1, -1), _INK),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
    ]
)
_TOTAL_STYLE = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, -1), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), 10),
        ("LINEABOVE", (1, 0), (-1, 0), 0.75, _INK),
        ("TOPPADDING", (0, 0), (-1, -1), 5),
    ]
)


def _amount_row(label: str, amount: Decimal, currency: str, bold: bool = False) -> Table:
    """A label and an amount, the amount in the same column as every line's (R-pdf-1)."""
    widths = (_WIDTH - 180 - _AMOUNT_WIDTH, 180, _AMOUNT_WIDTH)
    table = Table([["", label, _money(amount, currency)]], colWidths=widths)
    table.setStyle(_TOTALS_STYLE)
    if bold:
        table.setStyle(_TOTAL_STYLE)
    return table


def _taxes_and_fees(invoice: Invoice, text: _Text) -> list[Flowable]:
    currency, taxes = invoice.currency, invoice.taxes
    heading = _heading("Taxes and fees")
    if not taxes:
        return [*heading, text.para("No taxes or fees apply.")]
    widths = (_WIDTH - 80 - _AMOUNT_WIDTH, 80, _AMOUNT_WIDTH)
    rows: list[list[Any]] = [["Tax or fee", "Rate", "Amount"]]
    rows += [
        [text.cell(tax.name, widths[0]), format_tax_rate(tax.rate), _money(tax.amount, currency)]
        for tax in taxes
    ]
    table = Table(rows, colWidths=widths, repeatRows=1, style=_LINE_TABLE_STYLE)
    table.setStyle(TableStyle([("ALIGN", (1, 0), (-1, -1), "RIGHT"), *_cell_fonts(rows)]))
    return [*heading, table]


def _totals(invoice: Invoice, text: _Text) -> list[Flowable]:
    if invoice.is_statement:
        return []  # R-partner-1: a statement carries no cost fields at all
    currency = invoice.currency
    return [
        Spacer(1, 6),
        KeepTogether([_amount_row("Subtotal", invoice.subtotal, currency)]),
        *_taxes_and_fees(invoice, text),
        Spacer(1, 4),
        KeepTogether([_amount_row("Total", invoice.total, currency, bold=True)]),
    ]


# ---------------------------------------------------------------------------- the usage chart


def _short_date(day: date) -> str:
    return people_date(day).rsplit(",", 1)[0]  # "Mar 10"


def _tick_step(top: float, whole: bool) -> float:
    """About four gridlines at 1, 2, 2.5 or 5 times a power of ten (whole numbers for counts)."""
    raw = top / 4 if top > 0 else 1
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * power
        if step >= raw and (not whole or step == int(step)):
            return step
    return 10 * power


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


class _BarChart(Flowable):
    """The period's daily usage as bars (R-pdf-1), drawn straight onto the canvas: gridlines
    with their values, a bar a day, about eight day labels, the peak day darker and labelled."""

    _LEFT, _BOTTOM, _TOP = 34.0, 14.0, 12.0

    def __init__(self, points: Sequence[tuple[date, Decimal]], width: float, height: float = 96):
        super().__init__()
        self.points, self.width, self.height = points, width, height

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        values = [float(v) for _, v in self.points]  # drawing only; no money here
        whole = all(v == int(v) for v in values)
        peak = max(values)
        step = _tick_step(peak, whole)
        top = max(step, math.ceil(peak / step) * step)
        x0, y0 = self._LEFT, self._BOTTOM
        plot_w, plot_h = self.width - x0 - 4, self.height - y0 - self._TOP

        canvas.saveState()
        canvas.setFont("Helvetica", 6.5)
        canvas.setLineWidth(0.4)
        ticks = int(round(top / step))
        for i in range(ticks + 1):
            y = y0 + plot_h * i / ticks
            canvas.setStrokeColor(_RULE if i else _MUTED)
            canvas.line(x0, y, x0 + plot_w, y)
            canvas.setFillColor(_MUTED)
            canvas.drawRightString(x0 - 4, y - 2.2, _number(step * i))

        slot = plot_w / len(values)
        bar = slot * 0.72
        peak_at = values.index(peak)
        bars, peak_bar = canvas.beginPath(), canvas.beginPath()
        for i, value in enumerate(values):
            if value > 0:
                path = peak_bar if i == peak_at else bars
                path.rect(x0 + i * slot + (slot - bar) / 2, y0, bar, plot_h * value / top)
        canvas.setFillColor(_BAR)
        canvas.drawPath(bars, stroke=0, fill=1)
        canvas.setFillColor(_PEAK_BAR)
        canvas.drawPath(peak_bar, stroke=0, fill=1)
        canvas.setFillColor(_MUTED)
        for i in range(0, len(values), max(1, (len(values) + 7) // 8)):  # about eight labels
            canvas.drawCentredString(
                x0 + i * slot + slot / 2, y0 - 9, _short_date(self.points[i][0])
            )
        if peak > 0:
            canvas.setFillColor(_INK)
            x = x0 + peak_at * slot + slot / 2
            canvas.drawCentredString(x, y0 + plot_h * peak / top + 2.5, _number(peak))
        canvas.restoreState()


def _chart_block(chart: Chart) -> list[Flowable]:
    title = _heading_line(chart.title or "Daily usage")
    if not chart.points:
        return [KeepTogether([title, _Line([(fonts.LATIN, "No usage in this period")], 9)])]
    values = [v for _, v in chart.points]
    peak = max(values)
    day = chart.points[values.index(peak)][0]
    mean = float(sum(values)) / len(values)
    summary = (
        f"Peak {_number(float(peak))} on {people_date(day)} \u00b7 average {_number(mean)} a day"
    )
    caption = _Line([(fonts.LATIN, summary)], _SMALL.fontSize, _MUTED)
    return [KeepTogether([title, caption, Spacer(1, 4), _BarChart(chart.points, _WIDTH)])]


# ---------------------------------------------------------------------------- the document


def _remittance(doc: InvoiceDocument, text: _Text) -> list[Flowable]:
    """R-invoice-4 and R-pdf-3: how to pay, and the seller's own remittance details."""
    if doc.invoice.is_statement:
        return []  # R-partner-1: nothing here asks for payment
    room = _WIDTH - 2 * _CELL_PAD
    lines: list[Flowable] = [_label("REMITTANCE"), text.line(REMITTANCE, room)]
    if doc.issuer:
        lines += [text.line(line, room) for line in doc.issuer.remittance]
    lines.append(text.line(f"Reference: {doc.invoice.number}", room))
    box = Table(
        [[_stacked(lines)]],
        colWidths=(_WIDTH,),
        style=TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.75, _RULE),
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#F6F8FA")),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        ),
    )
    return [Spacer(1, 12), KeepTogether([box])]


def _story(doc: InvoiceDocument) -> list[Flowable]:
    invoice, text = doc.invoice, _Text(doc)
    return [
        *_header(doc, text),
        *_Lines(invoice, text).sections(),
        *_totals(invoice, text),
        *_remittance(doc, text),  # how to pay, right under what to pay
        *_chart_block(doc.chart),
    ]


def _subject(doc: InvoiceDocument) -> str:
    invoice = doc.invoice
    what = "Usage statement" if invoice.is_statement else "Invoice"
    period = people_period(invoice.period_start, invoice.period_end)
    return f"{what} {invoice.number} for {doc.org_name}, {period}"


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
        # R-pdf-4: title, the seller as author, subject and language
        title=f"{title} {invoice.number}",
        author=doc.issuer.legal_name if doc.issuer else "",
        subject=_subject(doc),
        creator="cxbill",
        lang=LANGUAGE,
        invariant=1,  # same record, same bytes: no timestamp or random id in the file
    )
    footer = _footer_with_number(invoice.number)
    template.build(
        _story(doc), onFirstPage=footer, onLaterPages=footer, canvasmaker=_NumberedCanvas
    )
    return buffer.getvalue()
