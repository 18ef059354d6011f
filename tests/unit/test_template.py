"""template.yaml read as data: the one list of names (Settings follows it), and the operational
rules of SPEC 9 (R-ops-2, R-ops-3, R-pdf-5, R-api-4) that a reader of the template can check."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from cxbill.adapters.settings import LIBRARY_VARIABLES, Settings
from cxbill_local.stack import SERVERLESS_FUNCTION, function_environments, load_template


@cache
def template() -> dict[str, Any]:
    return load_template()


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template()["Resources"].items() if r["Type"] == kind}


def functions() -> dict[str, dict[str, Any]]:
    return resources(SERVERLESS_FUNCTION)


def prop(function: dict[str, Any], name: str) -> Any:
    """A function property, or its Globals default."""
    own = function.get("Properties", {})
    return own[name] if name in own else template()["Globals"]["Function"].get(name)


def statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for policy in prop(function, "Policies") or [] for s in policy["Statement"]]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def resource_texts(statement: dict[str, Any]) -> list[str]:
    """A statement's resources as text: `${DocumentsBucket.Arn}/invoices/*` and the like."""
    texts = []
    for r in as_list(statement["Resource"]):
        if "Fn::Sub" in r:
            texts.append(r["Fn::Sub"])
        elif "Fn::GetAtt" in r:
            texts.append("${" + ".".join(r["Fn::GetAtt"]) + "}")
        else:
            texts.append(str(r))
    return texts


# ------------------------------------------------------------------ one list of names


def test_every_variable_the_template_gives_is_a_settings_field_and_back() -> None:
    given = set().union(*(env.keys() for env in function_environments(template()).values()))
    assert given - LIBRARY_VARIABLES == set(Settings.variables())


def test_runtime_variables_are_not_the_templates() -> None:
    given = set().union(*(env.keys() for env in function_environments(template()).values()))
    assert not given & set(Settings.variables(runtime=True))


def test_each_function_is_keyed_by_its_code_folder() -> None:
    assert set(function_environments(template())) == {"ingest", "daily", "close", "api"}


def test_the_close_gets_the_invoice_retention() -> None:
    envs = function_environments(template())
    assert envs["close"]["INVOICE_RETENTION_YEARS"] == {"Ref": "InvoiceRetentionYears"}
    assert template()["Parameters"]["InvoiceRetentionYears"]["Default"] == 10
    assert Settings.variables()["INVOICE_RETENTION_YEARS"] == "invoice_retention_years"


def test_settings_read_every_declared_variable() -> None:
    env = {name: f"value-of-{name}" for name in Settings.variables()}
    env.update(URL_EXPIRY_SECONDS="600", INVOICE_RETENTION_YEARS="7", AWS_REGION="eu-west-1")
    settings = Settings.from_env(env)
    assert settings.orgs_table == "value-of-ORGS_TABLE"
    assert settings.close_queue_url == "value-of-CLOSE_QUEUE_URL"
    assert (settings.url_expiry_seconds, settings.invoice_retention_years) == (600, 7)
    assert (settings.region, settings.endpoint_url) == ("eu-west-1", None)


def test_settings_defaults_and_refusals() -> None:
    env = {name: "x" for name in Settings.variables()}
    del env["URL_EXPIRY_SECONDS"], env["INVOICE_RETENTION_YEARS"]
    settings = Settings.from_env({**env, "AWS_DEFAULT_REGION": "ap-south-1"})
    assert (settings.url_expiry_seconds, settings.invoice_retention_years) == (300, 10)
    assert settings.region == "ap-south-1"
    with pytest.raises(KeyError, match="LEDGER_TABLE"):
        Settings.from_env({k: v for k, v in env.items() if k != "LEDGER_TABLE"})
    with pytest.raises(ValueError, match="URL_EXPIRY_SECONDS"):
        Settings.from_env({**env, "URL_EXPIRY_SECONDS": "3601"})


# ------------------------------------------------------------------ R-ops-2


def consumers() -> dict[str, tuple[str, dict[str, Any]]]:
    """Queue logical id -> (function logical id, its SQS event's properties)."""
    found = {}
    for lid, function in functions().items():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                queue = event["Properties"]["Queue"]["Fn::GetAtt"][0]
                found[queue] = (lid, event["Properties"])
    return found


def test_r_ops_2_queue_visibility_is_six_times_its_consumers_timeout() -> None:
    queues = resources("AWS::SQS::Queue")
    assert set(consumers()) == {"IngestQueue", "CloseQueue"}
    for queue, (function, _) in consumers().items():
        timeout = prop(functions()[function], "Timeout")
        assert queues[queue]["Properties"]["VisibilityTimeout"] >= 6 * timeout, queue


def test_r_ops_2_close_consumer_is_fifo_and_reports_item_failures() -> None:
    _, event = consumers()["CloseQueue"]
    assert resources("AWS::SQS::Queue")["CloseQueue"]["Properties"]["FifoQueue"] is True
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # the largest org's close takes up to 5 minutes (SPEC 11): the batch must fit the timeout
    assert event["BatchSize"] * 300 < prop(functions()["CloseFunction"], "Timeout")


def test_r_ops_2_the_schedule_retries_and_dead_letters() -> None:
    (schedule,) = [
        e["Properties"]
        for e in functions()["DailyFunction"]["Properties"]["Events"].values()
        if e["Type"] == "Schedule"
    ]
    assert schedule["RetryPolicy"]["MaximumRetryAttempts"] > 0
    dlq = schedule["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    assert resources("AWS::SQS::Queue")[dlq]
    (policy,) = [
        p
        for p in resources("AWS::SQS::QueuePolicy").values()
        if {"Ref": dlq} in p["Properties"]["Queues"]
    ]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}


def alarms() -> list[dict[str, Any]]:
    return [a["Properties"] for a in resources("AWS::CloudWatch::Alarm").values()]


def test_r_ops_2_every_dead_letter_queue_has_a_depth_alarm() -> None:
    dlqs = {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for q in resources("AWS::SQS::Queue").values()
        if "RedrivePolicy" in q["Properties"]
    } | {"DailyDeadLetterQueue"}
    watched = {
        a["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in alarms()
        if a["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    assert watched == dlqs
    assert {q for q in resources("AWS::SQS::Queue") if "DeadLetter" in q} == dlqs


def test_r_ops_2_every_function_has_error_and_throttle_alarms() -> None:
    for metric in ("Errors", "Throttles"):
        watched = {
            a["Dimensions"][0]["Value"]["Ref"]
            for a in alarms()
            if a["Namespace"] == "AWS/Lambda" and a["MetricName"] == metric
        }
        assert watched == set(functions()), metric


def test_r_ops_2_an_old_due_close_raises_an_alarm() -> None:
    (alarm,) = [a for a in alarms() if a["MetricName"] == "OldestDueCloseAgeHours"]
    assert alarm["Namespace"] == "cxbill"
    assert alarm["Threshold"] == 24
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    # Powertools Metrics adds the service dimension (POWERTOOLS_SERVICE_NAME) to what it emits
    service = template()["Globals"]["Function"]["Environment"]["Variables"]
    assert alarm["Dimensions"] == [{"Name": "service", "Value": service["POWERTOOLS_SERVICE_NAME"]}]


def test_r_ops_2_every_function_has_a_log_group_with_retention() -> None:
    groups = {
        g["Properties"]["LogGroupName"]["Fn::Sub"]: g["Properties"]
        for g in resources("AWS::Logs::LogGroup").values()
    }
    for lid, function in functions().items():
        name = function["Properties"]["FunctionName"]["Fn::Sub"]
        group = groups[f"/aws/lambda/{name}"]
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}, lid
        assert function["DependsOn"].endswith("LogGroup"), lid


def test_r_ops_2_money_tables_are_retained_and_protected() -> None:
    tables = resources("AWS::DynamoDB::Table")
    for lid in ("OrgsTable", "LedgerTable"):
        assert tables[lid]["DeletionPolicy"] == "Retain"
        assert tables[lid]["UpdateReplacePolicy"] == "Retain"
        assert tables[lid]["Properties"]["DeletionProtectionEnabled"] is True


# ------------------------------------------------------------------ R-ops-3, R-pdf-5


def test_r_ops_3_functions_use_inline_statements_only() -> None:
    for lid, function in functions().items():
        for policy in function["Properties"]["Policies"]:
            assert set(policy) == {"Statement"}, f"{lid}: a SAM policy template {set(policy)}"
            for statement in policy["Statement"]:
                actions = as_list(statement["Action"])
                assert all("*" not in a for a in actions), (lid, actions)


def writers_of(prefix: str) -> set[str]:
    return {
        lid
        for lid, function in functions().items()
        for s in statements(function)
        if any(a.startswith("s3:Put") for a in as_list(s["Action"]))
        and any(r.endswith(f"/{prefix}*") for r in resource_texts(s))
    }


def test_r_ops_3_only_the_close_writes_invoices_and_the_api_writes_reports() -> None:
    assert writers_of("invoices/") == {"CloseFunction"}
    assert writers_of("reports/") == {"ApiFunction"}


def test_r_ops_3_the_api_reads_invoices() -> None:
    reads = [
        r
        for s in statements(functions()["ApiFunction"])
        if "s3:GetObject" in as_list(s["Action"])
        for r in resource_texts(s)
    ]
    assert "${DocumentsBucket.Arn}/invoices/*" in reads
    assert "${DocumentsBucket.Arn}/reports/*" in reads


def test_r_ops_3_nothing_may_delete_an_invoice() -> None:
    for lid, function in functions().items():
        for s in statements(function):
            assert not any(a.startswith("s3:Delete") for a in as_list(s["Action"])), lid
    policy = resources("AWS::S3::BucketPolicy")["DocumentsBucketPolicy"]["Properties"]
    (deny,) = [
        s for s in policy["PolicyDocument"]["Statement"] if s["Sid"] == "DenyInvoiceDeletion"
    ]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert set(deny["Action"]) == {"s3:DeleteObject", "s3:DeleteObjectVersion"}
    assert resource_texts(deny) == ["${DocumentsBucket.Arn}/invoices/*"]


def test_r_pdf_5_documents_bucket_locks_objects_without_a_default_retention() -> None:
    bucket = resources("AWS::S3::Bucket")["DocumentsBucket"]["Properties"]
    assert bucket["ObjectLockEnabled"] is True
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "ObjectLockConfiguration" not in bucket  # only invoices/ are locked, by the close


def test_r_ops_3_queries_name_the_indexes_they_use() -> None:
    for lid, function in functions().items():
        for s in statements(function):
            if "dynamodb:Query" not in as_list(s["Action"]):
                continue
            texts = resource_texts(s)
            if "${OrgsTable.Arn}" in texts:
                assert "${OrgsTable.Arn}/index/due-index" in texts, lid
            if "${LedgerTable.Arn}" in texts:
                assert "${LedgerTable.Arn}/index/issue-date-index" in texts, lid


# ------------------------------------------------------------------ R-api-4


def test_r_api_4_the_api_stage_throttles_and_logs_access() -> None:
    api = resources("AWS::Serverless::HttpApi")["AdminApi"]["Properties"]
    assert api["DefaultRouteSettings"] == {
        "ThrottlingBurstLimit": {"Ref": "ApiThrottleBurst"},
        "ThrottlingRateLimit": {"Ref": "ApiThrottleRate"},
    }
    log_group = api["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
    group = resources("AWS::Logs::LogGroup")[log_group]["Properties"]
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert api["Auth"]["DefaultAuthorizer"] == "JwtAuthorizer"
