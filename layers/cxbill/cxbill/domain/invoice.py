"""Invoice assembly: license lines per subscription and ramp (R-sub), one-time charges
(R-once-1), money and taxes (R-money), partner statements (R-partner-1) and the JSON record
(R-invoice-5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from .contract import ADD_ONS, TIERS, Charge, Contract
from .instants import date_ms, format_instant
from .licensing import license_model
from .lines import (
    CORE_SERVICES,
    DEVICE_CHARGES,
    SECTIONS,
    Draft,
    InvoiceLine,
    span,
)
from .money import line_amount, round_money
from .periods import BillingPeriod, billing_period, is_ramp, people_period
from .rating import LicenseUsage

# R-invoice-5: the keys of an invoice record, in order (a statement omits the cost ones).
RECORD_KEYS = (
    "number",
    "kind",
    "org_id",
    "issue_date",
    "due_date",
    "currency",
    "period_start",
    "period_end",
    "lines",
    "subtotal",
    "taxes",
    "total",
    "warnings",
)
KIND_ORDER = {"opening": 0, "one_time": 1, "period": 2, "statement": 2}  # R-invoice-2
ADD_ON_NAMES = {"DIGITAL": "Digital Add-on", "WEM": "WEM Add-on"}
YEAR = 12


def invoice_number(org_id: str, sequence: int) -> str:
    """R-invoice-2: `<ORG_ID upper-cased>-<6-digit sequence>`."""
    return f"{org_id.upper()}-{sequence:06d}"


@dataclass(frozen=True)
class TaxLine:
    name: str
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Invoice:
    """An invoice (or a partner's usage statement) before and after it gets its number."""

    kind: str
    org_id: str
    issue_date: date
    due_date: date
    currency: str
    period_start: date
    period_end: date
    lines: tuple[InvoiceLine, ...]
    subtotal: Decimal
    taxes: tuple[TaxLine, ...]
    total: Decimal
    warnings: tuple[str, ...] = ()
    number: str = ""

    @property
    def is_statement(self) -> bool:
        return self.kind == "statement"

    def numbered(self, sequence: int) -> Invoice:
        """R-invoice-2: `<ORG_ID>-<6-digit sequence>`."""
        return replace(self, number=invoice_number(self.org_id, sequence))

    def as_json(self) -> dict:
        record = {
            "number": self.number,
            "kind": self.kind,
            "org_id": self.org_id,
            "issue_date": self.issue_date.isoformat(),
            "due_date": self.due_date.isoformat(),
            "currency": self.currency,
            "period_start": format_instant(date_ms(self.period_start)),
            "period_end": format_instant(date_ms(self.period_end)),
            "lines": [line.as_json(not self.is_statement) for line in self.lines],
        }
        if not self.is_statement:  # R-partner-1: no cost field at all on a statement
            record["subtotal"] = str(self.subtotal)
            record["taxes"] = [
                {"name": t.name, "rate": str(t.rate), "amount": str(t.amount)} for t in self.taxes
            ]
            record["total"] = str(self.total)
        record["warnings"] = list(self.warnings)
        return record


def opens_with_invoice(contract: Contract) -> bool:
    """R-sub-3/4: an annual term that starts at activation (no ramp) is prepaid on an opening
    invoice dated the activation date; never for trials, partners (R-partner-2) or a model
    without prepay (R-hourly-2)."""
    return (
        not contract.trial
        and contract.partner is None
        and contract.subscription != "monthly"
        and contract.ramp_periods == 0
        and license_model(contract).prepaid
    )


def add_prepay(draft: Draft, contract: Contract, opens: BillingPeriod) -> None:
    """Prepay billed in advance for the term period `opens` (R-sub-3, R-sub-4)."""
    model = license_model(contract)
    if not model.prepaid or is_ramp(opens.index, contract.ramp_periods):
        return
    if contract.subscription == "annual_monthly":
        months, service = 1, span(opens)
    elif contract.subscription == "annual_prepay":
        if (opens.index - contract.ramp_periods) % YEAR:
            return  # prepaid once at the start of each contract year
        year_end = billing_period(contract.activation_date, opens.index + YEAR - 1)
        months, service = YEAR, (opens.start, year_end.end)
    else:
        return
    for tier in TIERS:
        draft.add(
            CORE_SERVICES,
            model.prepay_product(tier),
            model.prepay_name(tier),
            service,
            months * contract.committed(tier),
            contract.price(tier, "prepay"),
        )


def add_license_usage(draft: Draft, contract: Contract, period: BillingPeriod, usage: LicenseUsage):
    """License and add-on lines in arrears for a closed (or to-date) period."""
    add_licenses(draft, contract, period, usage)
    add_add_ons(draft, contract, period, usage)
    draft.warnings.extend(usage.warnings)


def add_licenses(draft: Draft, contract: Contract, period: BillingPeriod, usage: LicenseUsage):
    """R-sub-1/2/5, R-hourly-2: A(T) in arrears at the model's arrears price, less what the
    commitment covers (prepaid in advance, or billed here for a monthly subscription)."""
    model = license_model(contract)
    service = span(period)
    ramp = is_ramp(period.index, contract.ramp_periods)
    if ramp and contract.ramp_license_billing != "actual":
        return  # R-sub-1: no license lines in ramp under the default policy
    for tier in TIERS:
        product, name = model.product(tier), model.line_name(tier)
        price = contract.price(tier, model.arrears_price)
        committed = 0 if ramp or not model.prepaid else contract.committed(tier)
        if contract.subscription == "monthly":  # R-sub-2: the greater of committed and actual
            prepay = contract.price(tier, "prepay")
            draft.add(
                CORE_SERVICES,
                model.prepay_product(tier),
                model.prepay_name(tier),
                service,
                committed,
                prepay,
            )
        overage = max(Decimal(0), usage.actual[tier] - committed)  # R-sub-5: per tier
        draft.add(CORE_SERVICES, product, name, service, overage, price)


def add_add_ons(draft: Draft, contract: Contract, period: BillingPeriod, usage: LicenseUsage):
    """R-named-3, R-conc-5, R-hourly-2: add-on units at overage, in ramp too."""
    service = span(period)
    for add_on in ADD_ONS:  # R-named-3, R-conc-5: billed in ramp too, at overage
        units = usage.add_ons[add_on]
        price = contract.price(add_on, "overage")
        if units and price is None:
            draft.warnings.append(
                f"{units} {add_on} add-on unit(s) not billed: the contract has no price"
            )
            continue
        draft.add(CORE_SERVICES, add_on, ADD_ON_NAMES[add_on], service, units, price)


def add_charges(draft: Draft, charges: list[Charge]) -> None:
    """R-once-1: each entry one line, quantity 1, on its own day."""
    for charge in charges:
        section = CORE_SERVICES if charge.kind == "one_time" else DEVICE_CHARGES
        day = (charge.day, charge.day + timedelta(days=1))
        draft.lines.append(
            InvoiceLine(section, charge.kind, charge.description, *day, Decimal(1), charge.amount)
        )


def finish(
    contract: Contract, kind: str, issue_date: date, period: tuple[date, date], draft: Draft
) -> Invoice | None:
    """Price the lines, add taxes and totals; None when there is nothing to issue (R-sub-6)."""
    if not draft.lines:
        return None
    currency = contract.currency
    ordered = sorted(draft.lines, key=lambda line: SECTIONS.index(line.section))
    amounts = [_amount(line, currency) for line in ordered]
    lines = tuple(replace(line, amount=a) for line, a in zip(ordered, amounts, strict=True))
    subtotal = round_money(sum(amounts, Decimal(0)), currency)
    taxes = tuple(
        TaxLine(t.name, t.rate, round_money(subtotal * t.rate, currency)) for t in contract.taxes
    )
    total = subtotal + sum((t.amount for t in taxes), Decimal(0))
    if contract.partner is not None:  # R-partner-1: a usage statement, quantities only
        kind, taxes = "statement", ()
    return Invoice(
        kind=kind,
        org_id=contract.org_id,
        issue_date=issue_date,
        due_date=issue_date + timedelta(days=contract.payment_terms_days),  # R-invoice-3
        currency=currency,
        period_start=period[0],
        period_end=period[1],
        lines=lines,
        subtotal=subtotal,
        taxes=taxes,
        total=round_money(total, currency),
        warnings=tuple(dict.fromkeys(draft.warnings)),
    )


def _amount(line: InvoiceLine, currency: str) -> Decimal:
    if line.amount is not None:  # already summed and rounded (calls, adjustments)
        return line.amount
    assert line.rate is not None
    return line_amount(line.quantity, line.rate, currency)


# -- the invoices the rules issue --------------------------------------------------------------


def period_invoice(
    contract: Contract,
    period: BillingPeriod,
    usage: LicenseUsage,
    advance: bool = True,
    adjustments: tuple[InvoiceLine, ...] = (),
    charges: tuple[InvoiceLine, ...] = (),
    charge_warnings: tuple[str, ...] = (),
) -> Invoice | None:
    """The close of a period: usage in arrears, the next period's prepay in advance, and the
    adjustments for late usage of closed periods (R-invoice-6). `charges` are the period's
    resource, device and telco lines (charges.rate_charges), billed in ramp too (R-sub-1)."""
    draft = Draft()
    add_license_usage(draft, contract, period, usage)
    draft.lines.extend(charges)
    draft.warnings.extend(charge_warnings)
    if advance:
        add_prepay(draft, contract, billing_period(contract.activation_date, period.index + 1))
    draft.lines.extend(adjustments)
    return finish(contract, "period", period.issue_date, span(period), draft)


def billed_lines(invoice: Invoice | None) -> list[dict]:
    """What a close billed, with costs even for a statement: the base of later adjustments."""
    return [line.as_json(with_cost=True) for line in invoice.lines] if invoice else []


def adjustment_lines(
    billed: Sequence[Mapping], rerated: Invoice | None, period: BillingPeriod
) -> tuple[InvoiceLine, ...]:
    """R-invoice-6: per product, re-rated minus billed, for a closed period; none if equal."""
    before = {line["product"]: line for line in billed}
    after = {line.product: line for line in rerated.lines} if rerated else {}
    lines = []
    for product in dict.fromkeys([*before, *after]):
        was, now = before.get(product), after.get(product)
        now_amount = now.amount if now else 0
        assert now_amount is not None  # finish() priced every line of the re-rated invoice
        quantity = (now.quantity if now else 0) - (Decimal(was["quantity"]) if was else 0)
        amount = now_amount - (Decimal(was["amount"]) if was else 0)
        if not quantity and not amount:
            continue
        if was is not None:
            section, description = was["section"], was["description"]
            rate = None if was["rate"] is None else Decimal(was["rate"])
        else:
            assert now is not None  # the product is in `after` when it is not in `before`
            section, description, rate = now.section, now.description, now.rate
        lines.append(
            InvoiceLine(
                section,
                f"adjustment:{product}",
                f"Adjustment: {description} ({people_period(period.start, period.end)})",
                period.start,
                period.end,
                Decimal(quantity),
                rate,
                Decimal(amount),
            )
        )
    return tuple(lines)


def opening_invoice(contract: Contract) -> Invoice | None:
    """R-sub-3/4: the prepay of period 0 when the term starts at activation (no ramp)."""
    if not opens_with_invoice(contract):
        return None
    first = billing_period(contract.activation_date, 0)
    draft = Draft()
    add_prepay(draft, contract, first)
    return finish(contract, "opening", contract.activation_date, span(first), draft)


def one_time_invoice(contract: Contract, day: date, charges: list[Charge]) -> Invoice | None:
    draft = Draft()
    add_charges(draft, charges)
    return finish(contract, "one_time", day, (day, day + timedelta(days=1)), draft)


def bill_to_date(
    contract: Contract,
    period: BillingPeriod,
    usage: LicenseUsage,
    adjustments: tuple[InvoiceLine, ...] = (),
    charges: tuple[InvoiceLine, ...] = (),
    charge_warnings: tuple[str, ...] = (),
) -> Invoice:
    """R-bill-1: the close of `period` (already cut at the as-of date) with the adjustments
    pending, without the next period's advance prepay; never stored, never numbered. With
    nothing billed yet it keeps its whole shape: no lines, zero totals."""
    invoice = period_invoice(
        contract,
        period,
        usage,
        advance=False,
        adjustments=adjustments,
        charges=charges,
        charge_warnings=charge_warnings,
    )
    if invoice is None:
        zero = round_money(Decimal(0), contract.currency)
        kind = "statement" if contract.partner is not None else "estimate"
        warnings = tuple(dict.fromkeys([*usage.warnings, *charge_warnings]))
        return Invoice(
            kind=kind,
            org_id=contract.org_id,
            issue_date=period.issue_date,
            due_date=period.issue_date + timedelta(days=contract.payment_terms_days),
            currency=contract.currency,
            period_start=period.start,
            period_end=period.end,
            lines=(),
            subtotal=zero,
            taxes=(),
            total=zero,
            warnings=warnings,
        )
    if invoice.is_statement:
        return invoice
    return replace(invoice, kind="estimate")
