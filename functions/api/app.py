"""The admin API (section 8): JWT claims checked here, answers from the invoice desk."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError

from cxbill.domain.instants import date_ms
from cxbill.domain.reports import REPORTS
from cxbill.jobs import wiring
from cxbill.jobs.invoices import BadRequest, NotFound, parse_day, parse_range

logger = Logger()
tracer = Tracer()
app = APIGatewayHttpResolver()

BILLING_PERMISSIONS = frozenset(
    {"billing:all", "billing:subscription:add", "billing:subscription:view"}
)


class ApiError(ServiceError):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(status, message)
        self.code = code


def _claims() -> dict:
    authorizer = app.current_event.request_context.authorizer
    claims = (authorizer.jwt_claim if authorizer else None) or {}
    return claims


def _permissions(claims: dict) -> set[str]:
    """A list claim, or API Gateway's flattened form of one: "[a b c]"."""
    raw = claims.get("permissions") or []
    if isinstance(raw, str):
        raw = raw.strip("[]").replace(",", " ").split()
    return set(raw)


def authorize(org_id: str) -> None:
    """R-api-1: no claims 401; no billing permission 403; another org's path 404."""
    claims = _claims()
    if not claims:
        raise ApiError(401, "unauthorized", "a signed token is required")
    if not _permissions(claims) & BILLING_PERMISSIONS:
        raise ApiError(403, "forbidden", "a billing permission is required")
    if claims.get("org_id") != org_id:
        raise ApiError(404, "not_found", "not found")


@app.exception_handler(ApiError)
def _api_error(e: ApiError) -> Response:
    return Response(e.status_code, "application/json", body=_error_body(e.code, e.msg))


@app.exception_handler(BadRequest)
def _bad_request(e: BadRequest) -> Response:
    return Response(400, "application/json", body=_error_body("bad_request", str(e)))


@app.exception_handler(NotFound)
def _not_found(e: NotFound) -> Response:
    return Response(404, "application/json", body=_error_body("not_found", "not found"))


def _error_body(code: str, message: str) -> str:
    return json.dumps({"error": code, "message": message})


@app.get("/orgs/<org_id>/invoices")
def list_invoices(org_id: str) -> dict:
    authorize(org_id)
    query = app.current_event.query_string_parameters or {}
    first, last = parse_range(query.get("from"), query.get("to"), datetime.now(UTC).date())
    return {"invoices": wiring.invoice_desk().list(org_id, first, last)}


@app.get("/orgs/<org_id>/invoices/<number>")
def get_invoice(org_id: str, number: str) -> dict:
    authorize(org_id)
    return wiring.invoice_desk().record(org_id, number)


@app.get("/orgs/<org_id>/invoices/<number>/pdf")
def invoice_pdf(org_id: str, number: str) -> dict:
    authorize(org_id)
    return wiring.invoice_desk().pdf_url(org_id, number)


@app.get("/orgs/<org_id>/bill-to-date")
def bill_to_date(org_id: str) -> dict:
    authorize(org_id)
    return wiring.invoice_desk().bill_to_date(org_id, _as_of())


@app.get("/orgs/<org_id>/subscription")
def subscription(org_id: str) -> dict:
    authorize(org_id)
    now = datetime.now(UTC)
    as_of = _as_of()
    now_ms = int(now.timestamp() * 1000) if as_of == now.date() else date_ms(as_of)
    return wiring.invoice_desk().subscription(org_id, as_of, now_ms)


@app.get("/orgs/<org_id>/reports/<report>")
def usage_report(org_id: str, report: str) -> dict:
    authorize(org_id)
    if report not in REPORTS:
        raise NotFound(report)
    query = app.current_event.query_string_parameters or {}
    first, last = parse_range(query.get("from"), query.get("to"), datetime.now(UTC).date())
    return wiring.report_desk().generate(org_id, report, first, last)


def _as_of() -> date:
    """Today (UTC), or the `as_of` date finance asks about."""
    text = (app.current_event.query_string_parameters or {}).get("as_of")
    return parse_day(text) if text else datetime.now(UTC).date()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    return app.resolve(event, context)
