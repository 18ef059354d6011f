"""The admin API (section 8): JWT claims checked here, answers from the invoice and report desks.
Every answer is JSON in R-api-3's shape, whatever the request (R-api-4)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError

from cxbill.jobs import wiring
from cxbill.jobs.invoices import BadRequest, NotFound, as_of_day, parse_range

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
    return claims if isinstance(claims, dict) else {}


def _permissions(claims: dict) -> set[str]:
    """A list claim, or API Gateway's flattened form of one: "[a b c]". Anything else holds none."""
    raw = claims.get("permissions") or []
    if isinstance(raw, str):
        raw = raw.strip("[]").replace(",", " ").split()
    if not isinstance(raw, list):
        return set()
    return {p for p in raw if isinstance(p, str)}


def authorize(org_id: str) -> None:
    """R-api-1: no claims 401; no billing permission 403; another org's path 404."""
    claims = _claims()
    if not claims:
        raise ApiError(401, "unauthorized", "a signed token is required")
    if not _permissions(claims) & BILLING_PERMISSIONS:
        raise ApiError(403, "forbidden", "a billing permission is required")
    if claims.get("org_id") != org_id:
        raise ApiError(404, "not_found", "not found")


def _query() -> dict:
    return app.current_event.query_string_parameters or {}


@app.get("/orgs/<org_id>/invoices")
def list_invoices(org_id: str) -> dict:
    authorize(org_id)
    first, last = parse_range(_query().get("from"), _query().get("to"), _now().date())
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
    return wiring.invoice_desk().bill_to_date(org_id, as_of_day(_query().get("as_of"), _now()))


@app.get("/orgs/<org_id>/subscription")
def subscription(org_id: str) -> dict:
    authorize(org_id)
    now = _now()
    return wiring.invoice_desk().subscription(org_id, as_of_day(_query().get("as_of"), now), now)


@app.get("/orgs/<org_id>/reports/<report>")
def usage_report(org_id: str, report: str) -> dict:
    authorize(org_id)
    first, last = parse_range(_query().get("from"), _query().get("to"), _now().date())
    return wiring.report_desk().generate(org_id, report, first, last)


def _now() -> datetime:
    return datetime.now(UTC)


# -- every answer JSON (R-api-3, R-api-4) ----------------------------------------------------


def _error(status: int, code: str, message: str, **extra: str) -> Response:
    body = json.dumps({"error": code, "message": message, **extra})
    return Response(status, "application/json", body=body)


@app.exception_handler(ApiError)
def _api_error(e: ApiError) -> Response:
    return _error(e.status_code, e.code, e.msg)


@app.exception_handler(BadRequest)
def _bad_request(e: BadRequest) -> Response:
    return _error(400, "bad_request", str(e))


@app.exception_handler(NotFound)
def _not_found(e: NotFound) -> Response:
    return _error(404, "not_found", "not found")


@app.not_found
def _no_route(e: Exception) -> Response:
    return _error(404, "not_found", "not found")


@app.exception_handler(Exception)
def _internal(e: Exception) -> Response:
    """An unexpected failure: logged with its trace, answered without one."""
    logger.exception("unexpected failure")
    request_id = app.current_event.request_context.request_id or ""
    return _error(
        500, "internal", "an unexpected error; quote the request id", request_id=request_id
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)  # answers hold signed URLs and addresses
def handler(event: dict, context) -> dict:
    return app.resolve(event, context)
