"""R-api-5: the API describes itself. GET /openapi.json (no token) is an OpenAPI 3.1 document
generated from the routes' typed models; it validates, lists every route the resolver has (and
every route the template gives the function), and real answers match their schemas. R-api-6's
static routes (the console) are served without a token; R-api-3/4 hold for what the typed
parameters and models refuse."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from cxbill.jobs import wiring
from cxbill_local.runtime import LambdaContext, LocalCloud, local_cloud
from cxbill_local.stack import load_template

pytestmark = pytest.mark.integration

ACME = {"org_id": "acme", "permissions": ["billing:all"]}
PARTNER = {"org_id": "lisboa", "permissions": ["billing:subscription:view"]}
STAGE = {
    "jwtIssuer": "https://login.example.com/",
    "consoleClientId": "cxbill-console",
    "consoleRedirectUri": "/console/",
    "consoleScopes": "openid,email",
}
LICENSES = (
    b"user_id,email,product,assigned_at,unassigned_at\n"
    b"u1,ana@acme.example,CX2,2026-01-15T00:00:00Z,\n"
    b"u2,ben@acme.example,CX1,2026-01-15T00:00:00Z,\n"
)
LOGINS = (
    b"session_id,user_id,email,client,login_at,logout_at\n"
    b"s1,u1,ana@acme.example,desktop,2026-02-01T08:00:00Z,2026-02-01T16:00:00Z\n"
    b"s2,u2,ben@acme.example,web,2026-02-02T09:00:00Z,2026-02-02T10:00:00Z\n"
)


@pytest.fixture(scope="module")
def api(make_contract) -> Iterator[LocalCloud]:
    """acme (USD invoices) and lisboa (a partner's statements), billed through 04-20."""
    with local_cloud() as cloud:
        wiring.settings()
        cloud.set_day(date(2026, 1, 15))
        acme = make_contract(
            "acme",
            commitments={"CX2": 2},
            one_time=[{"description": "Enablement", "amount": "500.00", "date": "2026-01-15"}],
        )
        lisboa = make_contract("lisboa", partner="Atlantic Partners SA")
        for contract in (acme, lisboa):
            cloud.upload(f"contracts/{contract['org_id']}.json", json.dumps(contract).encode())
        cloud.set_day(date(2026, 2, 5))
        for org in ("acme", "lisboa"):
            cloud.upload(f"usage/{org}/licenses/all.csv", LICENSES)
            cloud.upload(f"usage/{org}/logins/feb.csv", LOGINS)
        cloud.run_daily(date(2026, 4, 20))
        yield cloud


def raw(cloud: LocalCloud, path: str, query: str = "", claims: dict | None = None) -> dict:
    """The function's own answer (headers, body text) to an HTTP API event."""
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "queryStringParameters": dict(p.split("=", 1) for p in query.split("&")) if query else None,
        "headers": {"host": "abc.execute-api.us-east-1.amazonaws.com"},
        "stageVariables": STAGE,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc",
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4"},
            "requestId": "req-1",
            "routeKey": "$default",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return cloud.functions["api"].handler(event, LambdaContext("api"))


@pytest.fixture(scope="module")
def document(api) -> dict:
    response = raw(api, "/openapi.json")
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "application/json"
    return json.loads(response["body"])


def conforms(document: dict, path: str, status: int, body: Any) -> None:
    """`body` matches the schema the document gives `path`'s GET for `status`."""
    operation = document["paths"][path]["get"]
    assert str(status) in operation["responses"], f"{path} does not declare {status}"
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    OAS31Validator({**schema, "components": document["components"]}).validate(body)


# ------------------------------------------------------------------ the document


def test_r_api_5_the_document_is_valid_openapi_3_1(document):
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "cxbill admin API"


def test_r_api_5_it_lists_every_route_the_resolver_has(api, document):
    app = api.functions["api"].app
    routes = {(r.method.lower(), r.openapi_path) for r in app._static_routes + app._dynamic_routes}
    listed = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert routes == listed
    assert {
        "/orgs/{org_id}/invoices",
        "/orgs/{org_id}/invoices/{number}",
        "/orgs/{org_id}/invoices/{number}/pdf",
        "/orgs/{org_id}/bill-to-date",
        "/orgs/{org_id}/subscription",
        "/orgs/{org_id}/reports/{report}",
        "/openapi.json",
        "/console/",
    } <= set(document["paths"])


def test_every_route_the_template_gives_the_function_is_described_and_public_ones_have_no_jwt(
    document,
):
    events = load_template()["Resources"]["ApiFunction"]["Properties"]["Events"]
    public = {}
    for event in events.values():
        assert event["Type"] == "HttpApi" and event["Properties"]["Method"] == "GET"
        path = event["Properties"]["Path"]
        public[path] = event["Properties"].get("Auth", {}).get("Authorizer") == "NONE"
        if path.endswith("{proxy+}"):  # the console's files: its own routes under the prefix
            prefix = path.removesuffix("{proxy+}")
            assert any(p.startswith(prefix) and p != prefix for p in document["paths"]), path
        else:
            assert path in document["paths"], path
    assert {p for p, is_public in public.items() if is_public} == {
        "/openapi.json",
        "/console",
        "/console/{proxy+}",
    }


def test_r_api_5_data_routes_need_the_bearer_token_and_declare_their_errors(document):
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    for path, operations in document["paths"].items():
        operation = operations["get"]
        responses = operation["responses"]
        assert "422" not in responses  # a bad request is a 400 here (R-api-3)
        if not path.startswith("/orgs/"):
            assert "security" not in operation, path  # no token needed
            continue
        assert operation["security"] == [{"bearer": []}], path
        assert {"200", "401", "403", "404", "500"} <= set(responses), path
        error = responses["404"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/ErrorBody"}
        internal = responses["500"]["content"]["application/json"]["schema"]
        assert internal == {"$ref": "#/components/schemas/InternalErrorBody"}
        names = {p["name"] for p in operation.get("parameters", [])}
        assert "org_id" in names
        if path.endswith(("/invoices", "/reports/{report}")):
            assert {"from", "to"} <= names and "400" in responses, path


def test_r_api_5_error_shapes_are_r_api_3s(document):
    schemas = document["components"]["schemas"]
    assert set(schemas["ErrorBody"]["required"]) == {"error", "message"}
    assert set(schemas["InternalErrorBody"]["required"]) == {"error", "message", "request_id"}


def test_r_api_5_report_names_and_date_parameters_are_typed(document):
    operation = document["paths"]["/orgs/{org_id}/reports/{report}"]["get"]
    by_name = {p["name"]: p for p in operation["parameters"]}
    assert by_name["report"]["schema"]["enum"] == [
        "billable_usage",
        "concurrent_usage",
        "resources_usage",
        "voice_usage",
        "user_hours",
    ]
    assert by_name["from"]["in"] == "query" and not by_name["from"]["required"]
    day = by_name["from"]["schema"]["anyOf"][0]
    assert day["pattern"] == r"^\d{4}-\d{2}-\d{2}$"


# ------------------------------------------------------------------ real answers, checked


def test_r_api_5_every_data_answer_matches_its_schema(api, document):
    calls = [
        ("/orgs/{org_id}/invoices", "/orgs/acme/invoices", ACME, {"from": "2026-01-01"}),
        ("/orgs/{org_id}/invoices", "/orgs/lisboa/invoices", PARTNER, {"from": "2026-01-01"}),
        ("/orgs/{org_id}/invoices/{number}", "/orgs/acme/invoices/ACME-000002", ACME, None),
        ("/orgs/{org_id}/invoices/{number}", "/orgs/lisboa/invoices/LISBOA-000001", PARTNER, None),
        ("/orgs/{org_id}/invoices/{number}/pdf", "/orgs/acme/invoices/ACME-000002/pdf", ACME, None),
        ("/orgs/{org_id}/bill-to-date", "/orgs/acme/bill-to-date", ACME, {"as_of": "2026-04-20"}),
        (
            "/orgs/{org_id}/bill-to-date",
            "/orgs/lisboa/bill-to-date",
            PARTNER,
            {"as_of": "2026-04-20"},
        ),
        ("/orgs/{org_id}/subscription", "/orgs/acme/subscription", ACME, {"as_of": "2026-04-20"}),
        (
            "/orgs/{org_id}/reports/{report}",
            "/orgs/acme/reports/user_hours",
            ACME,
            {"from": "2026-02-01", "to": "2026-02-28"},
        ),
    ]
    kinds = set()
    for template, path, claims, query in calls:
        response = api.api(path, claims, query)
        assert response["status"] == 200, (path, response)
        conforms(document, template, 200, response["body"])
        kinds.add(response["body"].get("kind"))
    assert {"period", "statement", "estimate"} <= kinds  # both shapes of a record were checked
    statement = api.api("/orgs/lisboa/invoices/LISBOA-000001", PARTNER)["body"]
    assert not {"subtotal", "taxes", "total"} & set(statement)  # R-partner-1: left out, not null


def test_r_api_5_the_subscription_names_the_period_and_the_ramp(api):
    body = api.api("/orgs/acme/subscription", ACME, {"as_of": "2026-04-20"})["body"]
    assert (body["period_start"], body["period_end"]) == ("2026-04-15", "2026-05-15")
    assert body["ramp"] == {
        "periods": 0,
        "license_billing": "none",
        "in_ramp": False,
        "term_start": "2026-01-15",
    }


@pytest.mark.parametrize(
    ("path", "claims", "query", "status"),
    [
        ("/orgs/acme/invoices", None, None, 401),
        ("/orgs/acme/invoices", {"org_id": "acme", "permissions": ["x:y"]}, None, 403),
        ("/orgs/acme/invoices/ACME-999999", ACME, None, 404),
        ("/orgs/acme/invoices", ACME, {"from": "2026-01-01", "to": "2027-02-01"}, 400),
        ("/orgs/acme/reports/nope", ACME, None, 404),
    ],
)
def test_r_api_5_error_answers_match_their_schemas(api, document, path, claims, query, status):
    response = api.api(path, claims, query)
    assert response["status"] == status
    template = {
        "invoices": "/orgs/{org_id}/invoices",
        "ACME-999999": "/orgs/{org_id}/invoices/{number}",
        "nope": "/orgs/{org_id}/reports/{report}",
    }[path.rsplit("/", 1)[1]]
    conforms(document, template, status, response["body"])


def test_r_api_3_a_date_the_parameter_types_refuse_is_a_400_in_shape(api, document):
    response = api.api("/orgs/acme/invoices", ACME, {"from": "2026-1-1"})
    assert response["status"] == 400
    assert response["body"]["error"] == "bad_request"
    assert response["body"]["message"].startswith("from:")
    conforms(document, "/orgs/{org_id}/invoices", 400, response["body"])


@pytest.mark.parametrize(
    ("claims", "status"),
    [(None, 401), ({"org_id": "acme", "permissions": []}, 403), (PARTNER, 404)],
)
def test_r_api_1_who_asks_is_answered_before_a_bad_parameter(api, claims, status):
    response = api.api("/orgs/acme/invoices", claims, {"from": "yesterday"})
    assert response["status"] == status


def test_r_api_4_an_answer_that_breaks_its_model_is_a_500_with_the_request_id(
    api, document, monkeypatch
):
    desk = wiring.invoice_desk()
    monkeypatch.setattr(desk, "record", lambda org, number: {"number": number, "surprise": 1})
    response = raw(api, "/orgs/acme/invoices/ACME-000001", claims=ACME)
    body = json.loads(response["body"])
    assert response["statusCode"] == 500
    assert body == {
        "error": "internal",
        "message": "an unexpected error; quote the request id",
        "request_id": "req-1",
    }
    assert "surprise" not in response["body"] and "Traceback" not in response["body"]
    conforms(document, "/orgs/{org_id}/invoices/{number}", 500, body)


# ------------------------------------------------------------------ the console's files (R-api-6)


def test_r_api_6_the_console_is_served_without_a_token(api):
    page = raw(api, "/console/")
    assert page["statusCode"] == 200
    assert page["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>cxbill admin console</title>" in page["body"]
    assert "default-src 'self'" in page["headers"]["Content-Security-Policy"]
    for name, kind in (("app.js", "javascript"), ("style.css", "text/css")):
        asset = raw(api, f"/console/{name}")
        assert asset["statusCode"] == 200 and kind in asset["headers"]["Content-Type"], name
    moved = raw(api, "/console")
    assert (moved["statusCode"], moved["headers"]["Location"]) == (308, "console/")


def test_r_api_6_no_file_outside_the_console_is_served(api):
    for path in ("/console/nope.js", "/console/..%2Fapp.py", "/console/../app.py"):
        response = raw(api, path)
        assert response["statusCode"] == 404, path
        assert json.loads(response["body"]) == {"error": "not_found", "message": "not found"}


def test_r_api_6_the_console_config_comes_from_the_stage_variables(api):
    config = json.loads(raw(api, "/console/config.json")["body"])
    assert config == {
        "mode": "oidc",
        "issuer": "https://login.example.com/",
        "client_id": "cxbill-console",
        "redirect_uri": "/console/",
        "scopes": "openid email",
    }
    assert "secret" not in json.dumps(config).lower()  # a public client: PKCE, no secret
