"""Orgs and their invoices in DynamoDB. Issuing is one transaction: the org's bookkeeping moves
on, the gap-free number is taken and the invoice record is written together, or nothing is
(R-invoice-1, R-invoice-2)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from ..domain.contract import Contract, contract_from_json
from ..domain.invoice import invoice_number
from ..domain.schedule import OrgState, next_due
from .models import DUE_SHARD, LedgerItem, OrgItem
from .settings import Settings


class AlreadyIssued(Exception):
    """Someone else issued this first (a duplicate message or run); nothing was written."""


@dataclass(frozen=True)
class Org:
    item: OrgItem
    contract: Contract

    @property
    def state(self) -> OrgState:
        return OrgState(
            closed_periods=int(self.item.closed_periods or 0),
            opened=bool(self.item.opened),
            billed_charges=frozenset(self.item.billed_charges or ()),
            converted_from_trial=bool(self.item.converted_from_trial),
        )


@dataclass(frozen=True)
class Issue:
    """What one close writes: the state after it, the invoice (if any), the close record, and
    the closed periods it adjusts (their close records' new `billed` lines)."""

    close_key: str
    state: OrgState
    record: dict | None = None
    document: dict | None = None
    close_record: dict | None = None
    adjusted: dict[int, tuple[str, dict]] = field(default_factory=dict)


class Orgs:
    def get(self, org_id: str) -> Org | None:
        try:
            item = OrgItem.get(org_id, consistent_read=True)
        except DoesNotExist:
            return None
        return Org(item, contract_from_json(json.loads(item.contract)))

    def save_contract(
        self,
        contract: Contract,
        raw: dict,
        key: str,
        version: str,
        converted_from_trial: bool = False,
    ) -> None:
        """A new contract in force; the bookkeeping of what was issued stays (R-contract-7/8)."""
        org = self.get(contract.org_id)
        state = org.state if org else OrgState()
        # Model.update wants a list (checked at run time), so it is typed wide, not a Sequence.
        actions: list[Action] = [
            OrgItem.contract.set(json.dumps(raw, ensure_ascii=False)),
            OrgItem.contract_key.set(key),
            OrgItem.contract_version.set(version),
        ]
        if org is None:  # a new org starts its bookkeeping at zero
            actions += [
                OrgItem.invoice_seq.set(0),
                OrgItem.closed_periods.set(0),
                OrgItem.opened.set(False),
            ]
        if converted_from_trial:  # R-trial-2: periods anchor anew; nothing of the trial is billed
            state = OrgState(converted_from_trial=True)
            actions += [OrgItem.converted_from_trial.set(True), OrgItem.closed_periods.set(0)]
        actions += _due_actions(contract, state)
        OrgItem(contract.org_id).update(actions=actions)

    def due_by(self, day: date) -> list[str]:
        """Org ids with something due on or before `day`: a Query on the due index."""
        return [
            item.org_id
            for item in OrgItem.due_index.query(DUE_SHARD, OrgItem.next_due <= day.isoformat())
        ]

    def note_usage(self, org_id: str, late: set[int]) -> int:
        """Count a stored batch and mark the closed periods it changes (R-invoice-6); returns
        how many periods are closed now, so the caller sees a close that raced it."""
        actions: list[Action] = [OrgItem.usage_marks.add(1)]
        if late:
            actions.append(OrgItem.late_periods.add(late))
        item = OrgItem(org_id)
        item.update(actions=actions)  # PynamoDB reads the item back (ALL_NEW)
        return int(item.closed_periods or 0)


def _due_actions(contract: Contract, state: OrgState) -> list[Action]:
    upcoming = next_due(contract, state)
    if upcoming is None:  # nothing will ever be due (a trial): leave the due index
        return [OrgItem.due_shard.remove(), OrgItem.next_due.remove()]
    return [OrgItem.due_shard.set(DUE_SHARD), OrgItem.next_due.set(upcoming.isoformat())]


class Ledger:
    def __init__(self, settings: Settings):
        self.connection = Connection(region=settings.region, host=settings.endpoint_url)

    def issue(self, org: Org, expected: OrgState, issue: Issue, issued_at: str) -> str | None:
        """Write the close atomically; returns the invoice number, or raises AlreadyIssued."""
        item, state = org.item, issue.state
        seq = int(item.invoice_seq or 0)
        number = None
        actions = [
            OrgItem.closed_periods.set(state.closed_periods),
            OrgItem.opened.set(state.opened),
            *_due_actions(org.contract, state),
        ]
        new_charges = state.billed_charges - expected.billed_charges
        if new_charges:
            actions.append(OrgItem.billed_charges.add(new_charges))
        if issue.adjusted:  # late usage now billed: those periods are clean again
            actions.append(OrgItem.late_periods.delete(set(issue.adjusted)))
        condition = OrgItem.invoice_seq == seq
        condition &= OrgItem.closed_periods == expected.closed_periods
        condition &= OrgItem.opened == expected.opened
        # usage or terms stored since this close read the org are not in its plan: plan again
        marks = int(item.usage_marks or 0)
        condition &= (OrgItem.usage_marks == marks) | OrgItem.usage_marks.does_not_exist()
        condition &= OrgItem.contract_version == item.contract_version
        for charge in new_charges:
            condition &= ~OrgItem.billed_charges.contains(charge)
        try:
            with TransactWrite(connection=self.connection) as tx:
                if issue.record is not None:
                    seq += 1
                    number = issue.record["number"] = invoice_number(org.contract.org_id, seq)
                    actions.append(OrgItem.invoice_seq.set(seq))
                    tx.save(
                        LedgerItem(
                            org.contract.org_id,
                            f"invoice#{number}",
                            number=number,
                            issue_date=issue.record["issue_date"],
                            record=json.dumps(issue.record),
                            document=json.dumps(issue.document),
                            issued_at=issued_at,
                        ),
                        condition=LedgerItem.sk.does_not_exist(),
                    )
                if issue.close_record is not None:
                    tx.save(
                        LedgerItem(
                            org.contract.org_id,
                            f"close#{issue.close_key}",
                            number=number,
                            record=json.dumps(issue.close_record),
                            issued_at=issued_at,
                        ),
                        condition=LedgerItem.sk.does_not_exist(),
                    )
                for close_key, close_record in issue.adjusted.values():
                    tx.update(
                        LedgerItem(org.contract.org_id, f"close#{close_key}"),
                        actions=[LedgerItem.record.set(json.dumps(close_record))],
                        condition=LedgerItem.sk.exists(),
                    )
                tx.update(item, actions=actions, condition=condition)
        except TransactWriteError as e:
            raise AlreadyIssued(issue.close_key) from e
        return number

    def close_record(self, org_id: str, close_key: str) -> dict | None:
        try:
            return json.loads(LedgerItem.get(org_id, f"close#{close_key}").record)
        except DoesNotExist:
            return None

    def invoice(self, org_id: str, number: str) -> LedgerItem | None:
        try:
            return LedgerItem.get(org_id, f"invoice#{number}", consistent_read=True)
        except DoesNotExist:
            return None

    def issued_on(self, org_id: str, day: date) -> list[LedgerItem]:
        return list(
            LedgerItem.by_issue_date.query(org_id, LedgerItem.issue_date == day.isoformat())
        )

    def issued_between(self, org_id: str, first: date, last: date) -> list[LedgerItem]:
        """Invoices issued in [first, last], newest first (a Query on the issue-date index)."""
        return list(
            LedgerItem.by_issue_date.query(
                org_id,
                LedgerItem.issue_date.between(first.isoformat(), last.isoformat()),
                scan_index_forward=False,
            )
        )

    def attach_pdf(self, invoice: LedgerItem, key: str, sha256: str) -> None:
        invoice.update(actions=[LedgerItem.pdf_key.set(key), LedgerItem.pdf_sha256.set(sha256)])
