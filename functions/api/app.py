"""The admin API (section 8): JWT claims checked here, answers from the invoice and report desks.
Every answer is JSON in R-api-3's shape, whatever the request (R-api-4).

The routes declare typed parameters and Pydantic response models. Powertools validates requests
and responses with them and generates the OpenAPI 3.1 document served at GET /openapi.json
(R-api-5). The admin console (R-api-6) is a set of static files in console/, served at
GET /console/ with its config at GET /console/config.json. These public routes need no token.
"""

import json
import mimetypes
from datetime import UTC, datetime
from functools import cache
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, ConfigDict, Field, RootModel, model_serializer

from cxbill.jobs import wiring
from cxbill.jobs.invoices import MAX_RANGE_DAYS, BadRequest, NotFound, as_of_day, parse_range
from cxbill.jobs.reports import REPORTS

logger = Logger()
tracer = Tracer()
app = APIGatewayHttpResolver(enable_validation=True)

BILLING_PERMISSIONS = frozenset(
    {"billing:all", "billing:subscription:add", "billing:subscription:view"}
)
CONSOLE = FilePath(__file__).parent / "console"
BEARER = "bearer"
TOKEN: list[dict[str, list[str]]] = [{BEARER: []}]  # the data routes' security requirement

app.configure_openapi(
    title="cxbill admin API",
    version="1.0.0",
    summary="Invoices, invoice PDFs, bill to date, subscription and usage reports of an org.",
    description=(
        "Every data route is under /orgs/{org_id} and needs a JWT (API Gateway's JWT authorizer) "
        "whose claims carry `org_id` (equal to the path's) and `permissions` holding one of "
        f"{', '.join(sorted(BILLING_PERMISSIONS))}. Every error is JSON "
        '`{"error": "<code>", "message": "<text>"}`; an unexpected failure also names its '
        "`request_id`. /openapi.json and /console/ need no token."
    ),
    security_schemes={
        BEARER: HTTPBearer(
            bearerFormat="JWT",
            description="A token from the deployment's OpenID Connect issuer (JwtIssuer).",
        )
    },
)


# -- the shapes (R-api-5) ----------------------------------------------------------------------

DAY_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
Day = Annotated[str, Field(pattern=DAY_PATTERN, json_schema_extra={"format": "date"})]
Instant = Annotated[
    str,
    Field(
        pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$",
        json_schema_extra={"format": "date-time"},
        description="UTC instant",
    ),
]
DecimalText = Annotated[
    str,
    Field(
        pattern=r"^-?\d+(\.\d+)?$",
        description="a decimal as a string; amounts have the currency's minor units (JPY none)",
    ),
]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]


class Shape(BaseModel):
    """A response body: every key it may hold is declared, and one it does not know is an error.
    What a partner's statement leaves out (every cost field, R-partner-1) is a shape of its own,
    never a null."""

    model_config = ConfigDict(extra="forbid")


class ErrorBody(Shape):
    """R-api-3 / R-api-4: every error but the unexpected one."""

    error: str = Field(description="bad_request, unauthorized, forbidden, not_found, …")
    message: str


class InternalErrorBody(Shape):
    """R-api-4: an unexpected failure, without a stack trace."""

    error: Literal["internal"]
    message: str
    request_id: str = Field(description="quote it to support")


class InvoiceRow(Shape):
    number: str
    kind: Literal["opening", "one_time", "period"]
    issue_date: Day
    period_start: Instant
    period_end: Instant
    currency: Currency
    total: DecimalText


class StatementRow(Shape):
    """A partner's usage statement: no cost (R-partner-1)."""

    number: str
    kind: Literal["statement"]
    issue_date: Day
    period_start: Instant
    period_end: Instant
    currency: Currency


class InvoiceList(Shape):
    invoices: list[Annotated[InvoiceRow | StatementRow, Field(discriminator="kind")]] = Field(
        description="issued in the range, newest first"
    )


class Line(Shape):
    section: str
    product: str
    description: str
    service_start: Instant
    service_end: Instant
    quantity: DecimalText
    rate: DecimalText | None = Field(description="null for rated calls (their own rates)")
    amount: DecimalText


class StatementLine(Shape):
    section: str
    product: str
    description: str
    service_start: Instant
    service_end: Instant
    quantity: DecimalText


class Tax(Shape):
    name: str
    rate: DecimalText
    amount: DecimalText


class Seller(Shape):
    """The seller copied into an invoice when it was issued (R-pdf-3)."""

    legal_name: str
    address: list[str]
    tax_id: str
    email: str
    remittance: list[str]


class WithSeller(Shape):
    """A record that names its seller only when one was stored (R-pdf-3): no `issuer: null`."""

    issuer: Seller | None = None

    @model_serializer(mode="wrap")
    def _seller_only_when_stored(self, dump):
        record = dump(self)
        if record.get("issuer") is None:
            record.pop("issuer", None)
        return record


class Invoice(WithSeller):
    """An invoice record (R-invoice-5), with its seller when one was stored (R-pdf-3)."""

    number: str
    kind: Literal["opening", "one_time", "period"]
    org_id: str
    issue_date: Day
    due_date: Day
    currency: Currency
    period_start: Instant
    period_end: Instant
    lines: list[Line]
    subtotal: DecimalText
    taxes: list[Tax]
    total: DecimalText
    warnings: list[str]


class Statement(WithSeller):
    """A partner's usage statement record: no cost field at all (R-partner-1)."""

    number: str
    kind: Literal["statement"]
    org_id: str
    issue_date: Day
    due_date: Day
    currency: Currency
    period_start: Instant
    period_end: Instant
    lines: list[StatementLine]
    warnings: list[str]


class InvoiceRecord(RootModel):
    """An invoice, or a partner's statement."""

    root: Annotated[Invoice | Statement, Field(discriminator="kind")]


class SignedUrl(Shape):
    """R-api-2: a presigned GET of exactly one object."""

    url: str = Field(json_schema_extra={"format": "uri"})
    expires_at: Instant


class Estimate(Shape):
    """R-bill-1: the current period through the day before `as_of`; not stored. With nothing
    billed yet it keeps its shape: no lines, zero subtotal and total, no taxes."""

    estimate: Literal[True]
    as_of: Day
    org_id: str
    currency: Currency
    kind: Literal["estimate"]
    issue_date: Day
    due_date: Day
    period_start: Instant
    period_end: Instant
    lines: list[Line]
    subtotal: DecimalText
    taxes: list[Tax]
    total: DecimalText
    warnings: list[str]


class StatementEstimate(Shape):
    """A partner's statement to date: no cost (R-partner-1)."""

    estimate: Literal[True]
    as_of: Day
    org_id: str
    currency: Currency
    kind: Literal["statement"]
    issue_date: Day
    due_date: Day
    period_start: Instant
    period_end: Instant
    lines: list[StatementLine]
    warnings: list[str]


class BillToDate(RootModel):
    """The bill to date (R-bill-1), or a partner's statement to date."""

    root: Annotated[Estimate | StatementEstimate, Field(discriminator="kind")]


class ProductUse(Shape):
    product: str
    assigned: int = Field(description="users holding it now")
    committed: int
    used: DecimalText = Field(description="so far this period: users, or hours (hourly)")


class Ramp(Shape):
    periods: int = Field(description="ramp periods (R-period-5)")
    license_billing: Literal["none", "actual"]
    in_ramp: bool = Field(description="the current period is a ramp period")
    term_start: Day = Field(description="the subscription term starts after the ramp")


class Subscription(Shape):
    org_id: str
    license_model: str
    subscription: str
    period_start: Day
    period_end: Day = Field(description="the current period's end (exclusive)")
    ramp: Ramp
    products: list[ProductUse]


# -- parameters --

OrgId = Annotated[str, Path(description="the org; must equal the token's org_id claim")]
Number = Annotated[
    str, Path(description="an invoice number, e.g. ACME-000001 (over 64 characters: 404)")
]
Report = Annotated[
    str,
    Path(description="one of the five reports (SPEC 7)", json_schema_extra={"enum": list(REPORTS)}),
]
_RANGE = f"both ends included, at most {MAX_RANGE_DAYS} days, in 2000-01-01 … 2099-12-31"
From = Annotated[
    str | None,
    Query(
        alias="from",
        pattern=DAY_PATTERN,
        description=f"first day, YYYY-MM-DD ({_RANGE}); default {MAX_RANGE_DAYS - 1} days "
        "before `to`",
    ),
]
To = Annotated[str | None, Query(pattern=DAY_PATTERN, description="last day; default today")]
AsOf = Annotated[
    str | None, Query(pattern=DAY_PATTERN, description="the day asked about; default today (UTC)")
]


def _errors(*statuses: int) -> dict[int, Any]:
    described = {
        400: "a bad date, or a range longer than 366 days",
        401: "no token",
        403: "the token holds no billing permission",
        404: "no such route, org or invoice, or another org's",
        500: "an unexpected failure; the body names the request_id",
    }

    def content(status: int) -> dict:
        return {"application/json": {"model": InternalErrorBody if status == 500 else ErrorBody}}

    return {s: {"description": described[s], "content": content(s)} for s in statuses}


def data_route(path: str, summary: str, *, ranged: bool = False):
    """A GET under /orgs/{org_id}: bearer token, the R-api-1 errors, and 400 when it takes
    dates."""
    statuses = (400, 401, 403, 404, 500) if ranged else (401, 403, 404, 500)
    return app.get(
        path,
        summary=summary,
        tags=["billing"],
        security=TOKEN,
        responses={200: {"description": summary}, **_errors(*statuses)},
    )


# -- who may ask (R-api-1) ---------------------------------------------------------------------


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


# -- the data routes (section 8) ---------------------------------------------------------------


@data_route("/orgs/<org_id>/invoices", "Invoices issued in a date range, newest first", ranged=True)
def list_invoices(org_id: OrgId, from_: From = None, to: To = None) -> InvoiceList:
    authorize(org_id)
    first, last = parse_range(from_, to, _now().date())
    return InvoiceList.model_validate({"invoices": wiring.invoice_desk().list(org_id, first, last)})


@data_route("/orgs/<org_id>/invoices/<number>", "An invoice record (R-invoice-5)")
def get_invoice(org_id: OrgId, number: Number) -> InvoiceRecord:
    authorize(org_id)
    return InvoiceRecord.model_validate(wiring.invoice_desk().record(org_id, number))


@data_route("/orgs/<org_id>/invoices/<number>/pdf", "A fresh presigned URL of the invoice's PDF")
def invoice_pdf(org_id: OrgId, number: Number) -> SignedUrl:
    authorize(org_id)
    return SignedUrl.model_validate(wiring.invoice_desk().pdf_url(org_id, number))


@data_route("/orgs/<org_id>/bill-to-date", "The bill to date, an estimate (R-bill-1)", ranged=True)
def bill_to_date(org_id: OrgId, as_of: AsOf = None) -> BillToDate:
    authorize(org_id)
    day = as_of_day(as_of, _now())
    return BillToDate.model_validate(wiring.invoice_desk().bill_to_date(org_id, day))


@data_route(
    "/orgs/<org_id>/subscription",
    "Per product: licenses assigned now, committed, used so far this period",
    ranged=True,
)
def subscription(org_id: OrgId, as_of: AsOf = None) -> Subscription:
    authorize(org_id)
    now = _now()
    view = wiring.invoice_desk().subscription(org_id, as_of_day(as_of, now), now)
    return Subscription.model_validate(view)


@data_route(
    "/orgs/<org_id>/reports/<report>",
    "A usage report over a date range as CSV, by presigned URL (SPEC 7)",
    ranged=True,
)
def usage_report(org_id: OrgId, report: Report, from_: From = None, to: To = None) -> SignedUrl:
    authorize(org_id)
    first, last = parse_range(from_, to, _now().date())
    return SignedUrl.model_validate(wiring.report_desk().generate(org_id, report, first, last))


def _now() -> datetime:
    return datetime.now(UTC)


# -- the API's own description (R-api-5) ------------------------------------------------------


@cache
def openapi_document() -> dict:
    """The OpenAPI 3.1 document Powertools generates from the routes, less what this API never
    answers: Powertools' own 422 validation error (a bad request is a 400 here, R-api-3)."""
    document = json.loads(app.get_openapi_json_schema())
    for operations in document["paths"].values():
        for operation in operations.values():
            operation["responses"].pop("422", None)
    schemas = document.get("components", {}).get("schemas", {})
    while unused := [name for name in schemas if _refs(document).count(name) == 0]:
        for name in unused:
            del schemas[name]
    return document


def _refs(document: dict) -> list[str]:
    """The component schemas `document` refers to, once per reference."""
    text = json.dumps(document)
    prefix = '"$ref": "#/components/schemas/'
    return [part.split('"', 1)[0] for part in text.split(prefix)[1:]]


@app.get(
    "/openapi.json",
    summary="This API's OpenAPI 3.1 document",
    tags=["about"],
    responses={
        200: {
            "description": "the OpenAPI 3.1 document",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **_errors(500),
    },
)
def openapi_json():
    return Response(200, "application/json", body=json.dumps(openapi_document()))


# -- the admin console (R-api-6) --------------------------------------------------------------


@cache
def console_files() -> dict[str, FilePath]:
    """The console's files by name: only these are ever served (no path from the request)."""
    return {p.name: p for p in CONSOLE.iterdir() if p.is_file()}


# Only the console's own files run; it talks to this API and, to sign in, to the identity
# provider's discovery and token endpoints (any https origin: they need not be the issuer's).
SECURITY_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the sign-in code and signed URLs stay on this page
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self' https:; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
}


_PAGE = {
    200: {"description": "the file", "content": {"text/html": {"schema": {"type": "string"}}}},
    **_errors(404),
}


@app.get(
    "/console",
    summary="The admin console: redirects to /console/",
    tags=["console"],
    responses={
        308: {"description": "to console/", "content": {"application/json": {"model": ErrorBody}}}
    },
)
def console_redirect():
    body = json.dumps({"error": "moved", "message": "the console is at /console/"})
    return Response(308, "application/json", body=body, headers={"Location": "console/"})


@app.get("/console/", summary="The admin console", tags=["console"], responses=_PAGE)
def console_index():
    return console_asset("index.html")


@app.get(
    "/console/config.json",
    summary="The console's sign-in settings (OpenID Connect)",
    tags=["console"],
    responses={
        200: {
            "description": "issuer, client id, redirect and scopes, from the stage variables",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def console_config():
    """Sign-in with OpenID Connect, authorization code with PKCE: the stage variables the
    template sets from its parameters (JwtIssuer, ConsoleClientId, ConsoleRedirectUri)."""
    stage = app.current_event.stage_variables
    config = {
        "mode": "oidc",
        "issuer": stage.get("jwtIssuer", ""),
        "client_id": stage.get("consoleClientId", ""),
        "redirect_uri": stage.get("consoleRedirectUri", "/console/"),
        "scopes": stage.get("consoleScopes", "openid").replace(",", " "),  # no spaces there
    }
    return Response(200, "application/json", body=json.dumps(config), headers=SECURITY_HEADERS)


@app.get(
    "/console/<name>",
    summary="The admin console's scripts and styles",
    tags=["console"],
    responses=_PAGE,
)
def console_asset(name: Annotated[str, Path(description="a file of the console")]):
    path = console_files().get(name)
    if path is None:
        raise NotFound(name)
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
        kind += "; charset=utf-8"
    body = path.read_text(encoding="utf-8")
    return Response(200, kind, body=body, headers=SECURITY_HEADERS)


# -- every answer JSON (R-api-3, R-api-4) ----------------------------------------------------


def _error(status: int, code: str, message: str, **extra: str) -> Response:
    body = json.dumps({"error": code, "message": message, **extra})
    return Response(status, "application/json", body=body)


@app.exception_handler(ApiError)
def _api_error(e: ApiError) -> Response:
    return _error(e.status_code, e.code, str(e.msg))


@app.exception_handler(BadRequest)
def _bad_request(e: BadRequest) -> Response:
    return _error(400, "bad_request", str(e))


@app.exception_handler(RequestValidationError)
def _invalid(e: RequestValidationError) -> Response:
    """A parameter the route's types refuse is a bad request (R-api-3); a response that does not
    match its model is this code's failure, answered as one."""
    errors = e.errors()
    if any(err.get("loc", ("",))[0] == "response" for err in errors):
        return _internal(e)
    org_id = app.context.get("_route_args", {}).get("org_id")
    if org_id is not None:  # R-api-1 first: who asks decides before what was asked
        try:
            authorize(org_id)
        except ApiError as denied:
            return _api_error(denied)
    first = errors[0] if errors else {}
    where = ".".join(str(part) for part in first.get("loc", ())[1:]) or "request"
    return _error(400, "bad_request", f"{where}: {first.get('msg', 'invalid')}"[:200])


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
    request_id = str(app.current_event.request_context.request_id or "")
    return _error(
        500, "internal", "an unexpected error; quote the request id", request_id=request_id
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)  # answers hold signed URLs and addresses
def handler(event: dict, context) -> dict:
    return app.resolve(event, context)
