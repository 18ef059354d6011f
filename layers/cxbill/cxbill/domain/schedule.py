"""What the daily run owes an org on a date (R-period-4, R-once-1, R-sub-3/4, R-invoice-1/2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .contract import Charge, Contract
from .invoice import KIND_ORDER, opens_with_invoice
from .periods import add_months, billing_period

TRIAL_MONTHS = 12


@dataclass(frozen=True)
class OrgState:
    """What has been issued for an org: the bookkeeping the schedule needs."""

    closed_periods: int = 0  # periods 0 … closed_periods-1 are closed
    opened: bool = False  # the opening invoice (if any) is issued
    billed_charges: frozenset[str] = field(default_factory=frozenset)
    converted_from_trial: bool = False


def period_key(org_id: str, index: int) -> str:
    """The identity of a period's close."""
    return f"{org_id}:period:{index}"


@dataclass(frozen=True)
class Due:
    """One thing to issue: a close message's body."""

    org_id: str
    kind: str  # "opening" | "one_time" | "period" | "pdf" (render what a day still lacks)
    issue_date: date
    period_index: int | None = None

    @property
    def key(self) -> str:
        """The identity of what is due; also the queue's deduplication id."""
        if self.kind == "period":
            assert self.period_index is not None  # a period's close always names its period
            return period_key(self.org_id, self.period_index)
        return f"{self.org_id}:{self.kind}:{self.issue_date.isoformat()}"

    def message_id(self, run_date: date) -> str:
        """The identity of a close message: what is due plus the run that sends it, so one
        run's duplicates collapse and a later run may offer again what is still unfinished."""
        return f"{run_date.isoformat()}:{self.key}"

    @property
    def order(self) -> tuple:
        return self.issue_date, KIND_ORDER.get(self.kind, len(KIND_ORDER))

    def as_message(self, run_date: date) -> dict:
        return {
            "id": self.message_id(run_date),
            "run_date": run_date.isoformat(),
            "org_id": self.org_id,
            "kind": self.kind,
            "issue_date": self.issue_date.isoformat(),
            "period_index": self.period_index,
        }

    @classmethod
    def from_message(cls, body: dict) -> Due:
        return cls(
            body["org_id"],
            body["kind"],
            date.fromisoformat(body["issue_date"]),
            body.get("period_index"),
        )


def trial_expiry(contract: Contract) -> date | None:
    """R-trial-1: a trial expires at the start of its period 12."""
    return add_months(contract.activation_date, TRIAL_MONTHS) if contract.trial else None


def unbilled_charges(
    contract: Contract, state: OrgState, through: date | None = None
) -> list[Charge]:
    if contract.trial or contract.partner is not None:  # R-trial-1, R-partner-2
        return []
    return [
        c
        for c in contract.charges
        if c.identity not in state.billed_charges
        and (through is None or c.day <= through)
        # R-trial-2: nothing dated before a converted trial's new activation is billed
        and not (state.converted_from_trial and c.day < contract.activation_date)
    ]


def _opening_pending(contract: Contract, state: OrgState) -> bool:
    """The opening is decided once, by the terms in force at the first run on or after the
    activation date: with no commitments then, it is recorded without an invoice, and
    commitments added later are not prepaid before the next year (R-contract-8)."""
    return not state.opened and opens_with_invoice(contract)


def due_on(contract: Contract, state: OrgState, today: date) -> list[Due]:
    """Everything due by `today` and not yet issued, in the order numbers are given."""
    if contract.trial:
        return []
    org = contract.org_id
    due = []
    if _opening_pending(contract, state) and contract.activation_date <= today:
        due.append(Due(org, "opening", contract.activation_date))
    for day in sorted({c.day for c in unbilled_charges(contract, state, today)}):
        due.append(Due(org, "one_time", day))
    k = state.closed_periods
    while (period := billing_period(contract.activation_date, k)).close_due <= today:
        due.append(Due(org, "period", period.issue_date, k))
        k += 1
    return sorted(due, key=lambda d: d.order)


def next_due(contract: Contract, state: OrgState) -> date | None:
    """The first run date on which something is due: what the daily run's index is keyed by."""
    if contract.trial:
        return None
    dates = [billing_period(contract.activation_date, state.closed_periods).close_due]
    if _opening_pending(contract, state):
        dates.append(contract.activation_date)
    dates.extend(c.day for c in unbilled_charges(contract, state))
    return min(dates)
