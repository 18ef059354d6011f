"""What the daily run owes an org (R-period-4, R-once-1, R-sub-3/4, R-invoice-1/2, R-trial,
R-partner-2)."""

from __future__ import annotations

from datetime import date

import pytest

from cxbill.domain.schedule import Due, OrgState, due_on, next_due, trial_expiry, unbilled_charges

ENABLEMENT = {"description": "Enablement package", "amount": "5000.00", "date": "2026-01-15"}
TRAINING = {"description": "Training", "amount": "800.00", "date": "2026-02-15"}
EDGE = {"description": "Physical Edge appliance", "amount": "4000.00", "shipped_at": "2026-02-03"}


def what(dues: list[Due]) -> list[tuple]:
    return [(d.kind, d.issue_date.isoformat(), d.period_index) for d in dues]


@pytest.fixture
def monthly(make_contract):
    return make_contract(one_time=[ENABLEMENT], hardware=[EDGE])


@pytest.fixture
def annual(make_contract):
    return make_contract(
        subscription="annual_monthly",
        commitments={"CX2": 20},
        one_time=[ENABLEMENT, TRAINING],
    )


def billed(contract, *days: str) -> frozenset[str]:
    return frozenset(c.identity for c in contract.charges if c.day.isoformat() in days)


# --- due_on ---------------------------------------------------------------------------------------


def test_r_invoice_2_due_on_orders_by_date_then_opening_one_time_period(annual):
    dues = due_on(annual, OrgState(), date(2026, 3, 20))
    assert what(dues) == [
        ("opening", "2026-01-15", None),
        ("one_time", "2026-01-15", None),
        ("one_time", "2026-02-15", None),
        ("period", "2026-02-15", 0),
        ("period", "2026-03-15", 1),
    ]


def test_r_once_1_one_time_due_on_its_date(monthly):
    assert what(due_on(monthly, OrgState(), date(2026, 1, 14))) == []
    assert what(due_on(monthly, OrgState(), date(2026, 1, 15))) == [
        ("one_time", "2026-01-15", None)
    ]
    state = OrgState(billed_charges=billed(monthly, "2026-01-15"))
    assert what(due_on(monthly, state, date(2026, 2, 2))) == []
    assert what(due_on(monthly, state, date(2026, 2, 3))) == [("one_time", "2026-02-03", None)]


def test_r_period_4_period_due_the_day_after_it_ends(make_contract):
    contract = make_contract()
    assert due_on(contract, OrgState(), date(2026, 2, 15)) == []
    assert what(due_on(contract, OrgState(), date(2026, 2, 16))) == [("period", "2026-02-15", 0)]


def test_r_invoice_1_catch_up_of_several_periods(make_contract):
    contract = make_contract()
    dues = due_on(contract, OrgState(closed_periods=1), date(2026, 5, 20))
    assert what(dues) == [
        ("period", "2026-03-15", 1),
        ("period", "2026-04-15", 2),
        ("period", "2026-05-15", 3),
    ]
    assert [d.key for d in dues] == ["acme-us:period:1", "acme-us:period:2", "acme-us:period:3"]


def test_r_period_2_catch_up_of_a_month_end_org(make_contract):
    contract = make_contract(activation_date="2028-01-31")
    dues = due_on(contract, OrgState(), date(2028, 5, 1))
    assert what(dues) == [
        ("period", "2028-02-29", 0),
        ("period", "2028-03-31", 1),
        ("period", "2028-04-30", 2),
    ]


def test_r_trial_1_trial_orgs_have_nothing_due(make_contract):
    trial = make_contract(
        trial=True, subscription="annual_prepay", commitments={"CX1": 1}, one_time=[ENABLEMENT]
    )
    assert due_on(trial, OrgState(), date(2027, 6, 1)) == []
    assert next_due(trial, OrgState()) is None
    assert unbilled_charges(trial, OrgState()) == []


def test_r_trial_1_expiry_at_start_of_period_12(make_contract):
    assert trial_expiry(make_contract(trial=True)) == date(2027, 1, 15)
    assert trial_expiry(make_contract(trial=True, activation_date="2028-02-29")) == date(
        2029, 2, 28
    )
    assert trial_expiry(make_contract()) is None


def test_r_partner_2_no_opening_or_one_time_for_partners(make_contract):
    partner = make_contract(
        partner="Partner Co",
        subscription="annual_prepay",
        commitments={"CX2": 20},
        one_time=[ENABLEMENT],
        hardware=[EDGE],
    )
    assert what(due_on(partner, OrgState(), date(2026, 3, 1))) == [("period", "2026-02-15", 0)]
    assert unbilled_charges(partner, OrgState()) == []
    assert next_due(partner, OrgState()) == date(2026, 2, 16)


def test_r_sub_3_opening_due_on_activation_only_once(annual):
    assert due_on(annual, OrgState(), date(2026, 1, 14)) == []
    assert what(due_on(annual, OrgState(), date(2026, 1, 15)))[0] == ("opening", "2026-01-15", None)
    opened = OrgState(opened=True, billed_charges=billed(annual, "2026-01-15"))
    assert due_on(annual, opened, date(2026, 1, 20)) == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"subscription": "monthly", "commitments": {"CX2": 20}},
        {"subscription": "annual_prepay", "license_model": "hourly"},
        {"subscription": "annual_prepay", "ramp_periods": 1, "commitments": {"CX2": 20}},
    ],
)
def test_r_sub_3_no_opening_due(make_contract, overrides):
    assert due_on(make_contract(**overrides), OrgState(), date(2026, 1, 20)) == []


def test_r_contract_8_opening_without_commitments_is_decided_once_without_an_invoice(
    make_contract,
):
    """The opening is settled by the first run on or after activation; commitments added later
    are not prepaid before the next year (R-contract-8), so nothing stays pending."""
    from cxbill.domain.invoice import opening_invoice

    contract = make_contract(subscription="annual_monthly")
    assert what(due_on(contract, OrgState(), date(2026, 1, 20)))[0] == (
        "opening",
        "2026-01-15",
        None,
    )
    assert opening_invoice(contract) is None
    later = make_contract(subscription="annual_monthly", commitments={"CX2": 20})
    assert all(d.kind != "opening" for d in due_on(later, OrgState(opened=True), date(2026, 3, 1)))


def test_r_once_1_billed_charges_not_due_again(monthly):
    state = OrgState(billed_charges=billed(monthly, "2026-01-15", "2026-02-03"))
    assert unbilled_charges(monthly, state) == []
    assert what(due_on(monthly, state, date(2026, 2, 10))) == []


def test_r_once_1_entry_added_later_for_an_invoiced_date_is_due_again(make_contract):
    first = make_contract(one_time=[ENABLEMENT])
    state = OrgState(billed_charges=billed(first, "2026-01-15"))
    added = {"description": "Extra seats setup", "amount": "250.00", "date": "2026-01-15"}
    later = make_contract(one_time=[ENABLEMENT, added])
    assert what(due_on(later, state, date(2026, 1, 20))) == [("one_time", "2026-01-15", None)]
    assert [c.description for c in unbilled_charges(later, state, date(2026, 1, 15))] == [
        "Extra seats setup"
    ]


def test_r_once_1_changed_amount_is_a_new_entry(make_contract):
    first = make_contract(one_time=[ENABLEMENT])
    state = OrgState(billed_charges=billed(first, "2026-01-15"))
    changed = make_contract(one_time=[{**ENABLEMENT, "amount": "5500.00"}])
    assert [str(c.amount) for c in unbilled_charges(changed, state)] == ["5500.00"]
    same_again = make_contract(one_time=[{**ENABLEMENT, "amount": "5000.0"}])
    assert unbilled_charges(same_again, state) == []  # the same amount written differently


def test_r_trial_2_converted_trial_skips_entries_before_the_new_activation(make_contract):
    contract = make_contract(
        activation_date="2026-06-01",
        one_time=[
            {"description": "Trial setup", "amount": "100.00", "date": "2026-05-20"},
            {"description": "Enablement", "amount": "5000.00", "date": "2026-06-01"},
        ],
        hardware=[{"description": "Edge", "amount": "10.00", "shipped_at": "2026-05-31"}],
    )
    state = OrgState(converted_from_trial=True)
    assert what(due_on(contract, state, date(2026, 6, 5))) == [("one_time", "2026-06-01", None)]
    assert [c.description for c in unbilled_charges(contract, state)] == ["Enablement"]
    assert next_due(contract, state) == date(2026, 6, 1)
    # an org that never was a trial bills an entry dated before its activation on that date
    assert what(due_on(contract, OrgState(), date(2026, 6, 5)))[0] == (
        "one_time",
        "2026-05-20",
        None,
    )


# --- next_due -------------------------------------------------------------------------------------


def test_next_due_is_the_first_date_anything_is_due(monthly, annual, make_contract):
    assert next_due(monthly, OrgState()) == date(2026, 1, 15)
    after_enablement = OrgState(billed_charges=billed(monthly, "2026-01-15"))
    assert next_due(monthly, after_enablement) == date(2026, 2, 3)
    all_billed = OrgState(billed_charges=billed(monthly, "2026-01-15", "2026-02-03"))
    assert next_due(monthly, all_billed) == date(2026, 2, 16)
    assert next_due(
        monthly, OrgState(closed_periods=3, billed_charges=all_billed.billed_charges)
    ) == (date(2026, 5, 16))
    assert next_due(annual, OrgState()) == date(2026, 1, 15)
    assert next_due(make_contract(), OrgState()) == date(2026, 2, 16)
    assert next_due(make_contract(activation_date="2027-01-31"), OrgState(closed_periods=1)) == (
        date(2027, 4, 1)
    )


def test_next_due_agrees_with_due_on(annual):
    state = OrgState(opened=True, billed_charges=billed(annual, "2026-01-15", "2026-02-15"))
    first = next_due(annual, state)
    assert due_on(annual, state, date.fromordinal(first.toordinal() - 1)) == []
    assert due_on(annual, state, first) != []


# --- Due messages ---------------------------------------------------------------------------------


def test_due_message_round_trip_and_key():
    due = Due("acme-us", "period", date(2026, 2, 15), 0)
    run = date(2026, 2, 16)
    assert Due.from_message(due.as_message(run)) == due
    assert due.key == "acme-us:period:0"
    one_time = Due("acme-us", "one_time", date(2026, 1, 15))
    assert Due.from_message(one_time.as_message(run)) == one_time
    assert one_time.key == "acme-us:one_time:2026-01-15"
