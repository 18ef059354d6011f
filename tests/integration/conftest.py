"""The local stack (moto, in-process) and what the integration tests read from it.

Every test gets a fresh stack from template.yaml through `local_cloud()`, with fake credentials
set before any client exists; events are delivered in the shapes AWS sends (tests/events/).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from cxbill.adapters.models import IngestionItem, LedgerItem, OrgItem, UsageBatch
from cxbill.jobs import wiring
from cxbill_local.runtime import LambdaContext, LocalCloud, local_cloud

EVENTS = Path(__file__).resolve().parents[1] / "events"

# A small named, monthly, USD contract with two taxes; tests override what they need.
ACME = {
    "org_id": "acme",
    "name": "Acme Corp",
    "billing_address": ["Acme Corp", "1 Main St", "Springfield, IL 62701", "US"],
    "region": "us-east-1",
    "currency": "USD",
    "activation_date": "2026-01-15",
    "license_model": "named",
    "subscription": "monthly",
    "prices": {
        "CX1": {"prepay": "75.00", "overage": "90.00"},
        "CX2": {"prepay": "95.00", "overage": "115.00"},
        "CX3": {"prepay": "135.00", "overage": "160.00"},
        "DIGITAL": {"overage": "20.00"},
    },
    "taxes": [
        {"name": "State sales tax", "rate": "0.0625"},
        {"name": "County tax", "rate": "0.01"},
    ],
    "payment_terms_days": 30,
}
ACTIVATION = date(2026, 1, 15)  # period 0 is [01-15, 02-15), closed by the run of 02-16


def _contract(org_id: str = "acme", **overrides) -> dict:
    contract = copy.deepcopy(ACME)
    contract.update(org_id=org_id, name=f"{org_id.title()} Corp", **overrides)
    return contract


class Books:
    """The local cloud plus readers for what it holds (tables and documents)."""

    def __init__(self, cloud: LocalCloud):
        self.cloud = cloud

    def __getattr__(self, name: str):
        return getattr(self.cloud, name)

    # -- writing --
    def upload_contract(self, contract: dict, day: date) -> None:
        self.cloud.set_day(day)
        self.cloud.upload(f"contracts/{contract['org_id']}.json", json.dumps(contract).encode())

    def upload_on(self, day: date, key: str, body: bytes) -> None:
        self.cloud.set_day(day)
        self.cloud.upload(key, body)

    # -- reading --
    def ledger(self, org_id: str) -> list[LedgerItem]:
        items = LedgerItem.query(org_id, LedgerItem.sk.startswith("invoice#"))
        return sorted(items, key=lambda item: item.number)

    def invoices(self, org_id: str) -> list[dict]:
        return [json.loads(item.record) for item in self.ledger(org_id)]

    def org(self, org_id: str) -> OrgItem:
        return OrgItem.get(org_id, consistent_read=True)

    def ingestions(self, key: str) -> list[IngestionItem]:
        return list(IngestionItem.query(key))

    def ingestion(self, key: str) -> IngestionItem:
        (item,) = self.ingestions(key)
        return item

    def batches(self, org_id: str, kind: str) -> list[UsageBatch]:
        return list(UsageBatch.query(f"{org_id}#{kind}"))

    def documents(self, prefix: str) -> list[str]:
        listed = self.cloud.s3.list_objects_v2(Bucket=self.stack.documents_bucket, Prefix=prefix)
        return [o["Key"] for o in listed.get("Contents", [])]

    def rejection(self, key: str) -> dict:
        return json.loads(self.cloud.get_document(f"rejections/{key}.json"))

    def has_rejection(self, key: str) -> bool:
        try:
            self.cloud.get_document(f"rejections/{key}.json")
        except ClientError as e:
            if e.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return False
            raise
        return True

    def upload_version(self, key: str) -> str:
        return self.cloud.s3.head_object(Bucket=self.stack.upload_bucket, Key=key)["VersionId"]


@pytest.fixture
def cloud() -> Iterator[Books]:
    """A fresh local stack; the models are bound to its tables before the test reads them."""
    with local_cloud() as local:
        wiring.settings()
        yield Books(local)


@pytest.fixture(scope="session")
def make_contract() -> Callable[..., dict]:
    """`make_contract(org_id="acme", **overrides)`: the small contract above, changed."""
    return _contract


@pytest.fixture
def acme(cloud: Books) -> Books:
    """The stack with the acme contract uploaded on its activation date."""
    cloud.upload_contract(_contract(), ACTIVATION)
    assert cloud.ingestion("contracts/acme.json").status == "accepted"
    return cloud


@pytest.fixture
def lambda_context() -> Callable[[str], LambdaContext]:
    return LambdaContext


@pytest.fixture(scope="session")
def load_event() -> Callable[[str], dict]:
    """A hand-written event from tests/events/, as AWS would send it."""

    def load(name: str) -> dict:
        return json.loads((EVENTS / name).read_text(encoding="utf-8"))

    return load


@pytest.fixture
def capture(monkeypatch: pytest.MonkeyPatch) -> Callable[[Books, str], list[dict]]:
    """Record the events the local runtime hands to a function (to deliver them again)."""

    def start(books: Books, function: str) -> list[dict]:
        module = books.functions[function]
        original, seen = module.handler, []

        def recording(event: dict, context) -> dict:
            seen.append(copy.deepcopy(event))
            return original(event, context)

        monkeypatch.setattr(module, "handler", recording)
        return seen

    return start
