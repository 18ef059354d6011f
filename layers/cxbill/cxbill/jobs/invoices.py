"""What customer admins ask of their invoices (section 8): lists, records and signed URLs."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from ..domain.books import IssuedInvoice, Org
from ..domain.instants import date_ms, from_datetime
from ..domain.periods import BillingPeriod, billing_period, period_index_on
from ..domain.ports import Documents, Ledger, Orgs, UsageSource
from ..domain.subscription import assigned_at, subscription_view
from .adjustments import pending_adjustments
from .usage import rate_period

MAX_RANGE_DAYS = 366  # R-api-3
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)  # R-api-4
MAX_NUMBER_CHARS = 64  # R-api-4: a longer invoice number is simply not found
_YYYY_MM_DD = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadRequest(ValueError):
    pass


class NotFound(LookupError):
    pass


def parse_range(first: str | None, last: str | None, today: date) -> tuple[date, date]:
    """R-api-3: dates YYYY-MM-DD, both ends included, at most 366 days; defaults to the last
    year up to today."""
    end = parse_day(last) if last else today
    start = parse_day(first) if first else end - timedelta(days=MAX_RANGE_DAYS - 1)
    if start > end:
        raise BadRequest("from is after to")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise BadRequest(f"a range is at most {MAX_RANGE_DAYS} days")
    return start, end


def parse_day(text: str) -> date:
    """A YYYY-MM-DD date in 2000-01-01 … 2099-12-31 (R-api-4). Only that form: Python 3.11's
    fromisoformat also takes 20260101 and 2026-W01-1."""
    try:
        if not _YYYY_MM_DD.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError as e:
        raise BadRequest(f"not a date YYYY-MM-DD: {text[:40]!r}") from e
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadRequest(f"dates lie in {FIRST_DAY} … {LAST_DAY}: {text}")
    return day


def as_of_day(text: str | None, now: datetime) -> date:
    """The `as_of` date finance asks about, or today (UTC)."""
    return parse_day(text) if text else now.date()


class InvoiceDesk:
    def __init__(self, orgs: Orgs, ledger: Ledger, usage: UsageSource, documents: Documents):
        self.orgs = orgs
        self.ledger = ledger
        self.store = usage
        self.documents = documents

    def list(self, org_id: str, first: date, last: date) -> list[dict]:
        rows = []
        for issued in self.ledger.issued_between(org_id, first, last):
            record = issued.invoice.as_json()
            row = {
                k: record[k]
                for k in ("number", "kind", "issue_date", "period_start", "period_end", "currency")
            }
            if "total" in record:  # statements carry no cost (R-partner-1)
                row["total"] = record["total"]
            rows.append(row)
        return sorted(rows, key=lambda r: (r["issue_date"], r["number"]), reverse=True)

    def record(self, org_id: str, number: str) -> dict:
        return self._issued(org_id, number).document.record()  # with its seller (R-pdf-3)

    def pdf_url(self, org_id: str, number: str, now: datetime | None = None) -> dict:
        issued = self._issued(org_id, number)
        if not issued.pdf_key:
            raise NotFound(number)
        return self.documents.signed_url(issued.pdf_key, now or datetime.now(UTC)).as_json()

    def bill_to_date(self, org_id: str, today: date) -> dict:
        """R-bill-1: the current period from its start through yesterday, as an estimate."""
        org, so_far = self._period_so_far(org_id, today)
        late = pending_adjustments(self.ledger, self.store, org, before=so_far.index)
        invoice = rate_period(self.store, org.contract, so_far).estimate(late.lines)
        record = invoice.as_json()
        record.pop("number", None)
        return {
            "estimate": True,
            "as_of": today.isoformat(),
            "org_id": org_id,
            "currency": org.contract.currency,
            **record,
        }

    def subscription(self, org_id: str, today: date, now: datetime) -> dict:
        """Per product: licenses assigned now (at `now`, or at the start of an earlier `today`),
        committed, and used so far this period; the current period and the ramp (R-period-5)."""
        org, so_far = self._period_so_far(org_id, today)
        now_ms = from_datetime(now) if today == now.date() else date_ms(today)
        holders = assigned_at(self.store.load(org_id, "licenses", now_ms, now_ms + 1), now_ms)
        used = rate_period(self.store, org.contract, so_far).licenses
        contract = org.contract
        return {
            "org_id": org_id,
            "license_model": contract.license_model,
            "subscription": contract.subscription,
            "period_start": so_far.start.isoformat(),
            "period_end": billing_period(contract.activation_date, so_far.index).end.isoformat(),
            "ramp": {
                "periods": contract.ramp_periods,
                "license_billing": contract.ramp_license_billing,
                "in_ramp": so_far.index < contract.ramp_periods,
                "term_start": billing_period(
                    contract.activation_date, contract.ramp_periods
                ).start.isoformat(),
            },
            "products": subscription_view(contract, holders, used),
        }

    def _issued(self, org_id: str, number: str) -> IssuedInvoice:
        issued = None
        if len(number) <= MAX_NUMBER_CHARS:
            issued = self.ledger.invoice(org_id, number)
        if issued is None:  # R-api-1: another org's invoice is simply not there
            raise NotFound(number)
        return issued

    def _period_so_far(self, org_id: str, today: date) -> tuple[Org, BillingPeriod]:
        org = self.orgs.get(org_id)
        k = period_index_on(org.contract.activation_date, today) if org else -1
        if org is None or org.contract.trial or k < 0:  # trials and the future have none
            raise NotFound(org_id)
        period = billing_period(org.contract.activation_date, k)
        return org, BillingPeriod(k, period.start, today)
