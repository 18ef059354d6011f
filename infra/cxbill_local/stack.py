"""The local stand-in for the deployed stack, built from ``template.yaml`` itself.

The tables' key schemas, the buckets' names and settings and the queues' attributes are read
from the SAM template, so the schema lives in one place: change the template and the local
stack follows. Only the resources the code talks to are created (tables, buckets, queues, the
event bus and the upload bucket's notification; locally each bus also gets a rule that copies
every event to a queue, its "tap", which the replay and the tests read); functions, the API,
IAM, bucket/queue policies, log groups and alarms are left to the real deployment. What the
functions are given is the template's too: ``LocalStack.environment()`` resolves
``Globals.Function.Environment`` and each function's own ``Environment`` against the local
resources.

The caller decides where "AWS" is: inside ``moto.mock_aws()`` (in-process), or a
``ThreadedMotoServer`` reached through ``endpoint_url``. Two moto facts worth knowing:

* S3 -> SQS notifications are delivered synchronously, during ``put_object``.
* Configuring a notification sends an ``s3:TestEvent`` message to the queue first (as S3 does);
  consumers of the ingest queue must skip it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml

ACCOUNT_ID = "123456789012"  # moto's default account
DEFAULT_TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"

# ---------------------------------------------------------------------------------------------
# Reading the template


class CfnLoader(yaml.SafeLoader):
    """A SafeLoader that understands CloudFormation's short-form intrinsic tags."""


def _long_form(name: str) -> Callable[[yaml.Loader, yaml.Node], dict[str, Any]]:
    def construct(loader: yaml.Loader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        if name == "Fn::GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {name: value}

    return construct


for _tag in (
    "And", "Base64", "Cidr", "Equals", "FindInMap", "GetAtt", "GetAZs", "If", "ImportValue",
    "Join", "Length", "Not", "Or", "Select", "Split", "Sub", "ToJsonString", "Transform",
):  # fmt: skip
    CfnLoader.add_constructor(f"!{_tag}", _long_form(f"Fn::{_tag}"))
CfnLoader.add_constructor("!Ref", _long_form("Ref"))
CfnLoader.add_constructor("!Condition", _long_form("Condition"))


def load_template(path: Path | None = None) -> dict[str, Any]:
    """Parse the SAM template, turning short tags (``!Ref``, ``!Sub``...) into long-form dicts."""
    with (path or DEFAULT_TEMPLATE).open(encoding="utf-8") as f:
        return yaml.load(f, Loader=CfnLoader)  # noqa: S506 - a SafeLoader subclass


# ---------------------------------------------------------------------------------------------
# The stack


@dataclass
class LocalStack:
    """The local resources, by the template's logical ids, and what the functions are given."""

    region: str
    refs: dict[str, str]  # logical id -> what Ref gives (table and bucket names, queue URLs)
    variables: dict[str, dict[str, str]]  # function (its functions/ folder) -> its environment
    stack_name: str = "cxbill-local"
    url_expiry_seconds: int = 300
    endpoint_url: str | None = None
    queue_arns: dict[str, str] = field(default_factory=dict)  # logical id -> ARN
    tables: dict[str, str] = field(default_factory=dict)  # logical id -> table name
    # R-ops-1: each event bus's local tap, a queue that receives every event put on the bus
    event_taps: dict[str, str] = field(default_factory=dict)  # bus logical id -> queue URL

    # The resources the local runtime and the tests reach by name.
    orgs_table = property(lambda self: self.refs["OrgsTable"])
    ledger_table = property(lambda self: self.refs["LedgerTable"])
    usage_table = property(lambda self: self.refs["UsageTable"])
    ingestions_table = property(lambda self: self.refs["IngestionsTable"])
    idempotency_table = property(lambda self: self.refs["IdempotencyTable"])
    upload_bucket = property(lambda self: self.refs["UploadBucket"])
    documents_bucket = property(lambda self: self.refs["DocumentsBucket"])
    ingest_queue_url = property(lambda self: self.refs["IngestQueue"])
    ingest_dlq_url = property(lambda self: self.refs["IngestDeadLetterQueue"])
    close_queue_url = property(lambda self: self.refs["CloseQueue"])
    close_dlq_url = property(lambda self: self.refs["CloseDeadLetterQueue"])
    event_bus_name = property(lambda self: self.refs["EventBus"])
    events_queue_url = property(lambda self: self.event_taps["EventBus"])

    def environment(self, function: str | None = None) -> dict[str, str]:
        """What the template gives `function` (``Globals.Function.Environment`` and its own
        ``Environment``), resolved against this stack, plus what the Lambda runtime sets. With
        no function: every function's variables at once (locally they share one process)."""
        names = [function] if function else sorted(self.variables)
        env: dict[str, str] = {}
        for name in names:
            for key, value in self.variables[name].items():
                if env.setdefault(key, value) != value:
                    raise ValueError(f"functions disagree on {key}: {env[key]!r} != {value!r}")
        env.update({"AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region})
        return env


class _NotYet(Exception):
    """An intrinsic names a resource that has not been created yet."""


@dataclass
class _Resolver:
    """Resolves the few intrinsics the stateful resources use: Ref, Fn::GetAtt, Fn::Sub."""

    pseudo: dict[str, str]
    parameters: dict[str, str]
    refs: dict[str, str] = field(default_factory=dict)  # logical id -> Ref value
    attrs: dict[tuple[str, str], str] = field(default_factory=dict)  # (id, attr) -> value

    def ref(self, name: str) -> str:
        for source in (self.pseudo, self.parameters, self.refs):
            if name in source:
                return source[name]
        raise _NotYet(name)

    def get_att(self, logical_id: str, attr: str) -> str:
        try:
            return self.attrs[(logical_id, attr)]
        except KeyError:
            raise _NotYet(f"{logical_id}.{attr}") from None

    def sub(self, arg: str | list[Any]) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} stays as ${Literal}
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                return self.get_att(*name.split(".", 1))
            return self.ref(name)

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical_id, attr)
            if key == "Fn::Sub":
                return self.sub(arg)
            if key.startswith("Fn::"):
                raise NotImplementedError(f"{key} is not resolved by the local stack")
        return {k: self(v) for k, v in value.items()}


def build_stack(
    session: boto3.session.Session | None = None,
    *,
    endpoint_url: str | None = None,
    stack_name: str = "cxbill-local",
    region: str = "us-east-1",
    template_path: Path | None = None,
) -> LocalStack:
    """Create the template's tables, buckets and queues, then wire the upload notification.

    Call inside ``moto.mock_aws()`` or with ``endpoint_url`` pointing at a moto server.
    Physical names: tables and queues ``{stack_name}-{LogicalId}`` (``.fifo`` appended for FIFO
    queues), buckets from the template's own ``BucketName`` ``Fn::Sub``.
    """
    session = session or boto3.session.Session()
    template = load_template(template_path)
    resources: dict[str, dict[str, Any]] = template["Resources"]
    parameters = {
        name: str(spec["Default"])
        for name, spec in template.get("Parameters", {}).items()
        if "Default" in spec
    }
    resolve = _Resolver(
        pseudo={
            "AWS::StackName": stack_name,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Region": region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        },
        parameters=parameters,
    )

    def client(service: str) -> Any:
        return session.client(service, region_name=region, endpoint_url=endpoint_url)

    creators: dict[str, Callable[[str, dict[str, Any]], None]] = {
        "AWS::DynamoDB::Table": _TableCreator(client("dynamodb"), stack_name, resolve),
        "AWS::SQS::Queue": _QueueCreator(client("sqs"), stack_name, resolve),
        "AWS::S3::Bucket": _BucketCreator(client("s3"), region, resolve),
        "AWS::Events::EventBus": _EventBusCreator(client("events"), stack_name, resolve),
    }
    # Create in dependency order without a graph: whatever names a resource not yet created
    # (a queue's RedrivePolicy naming its DLQ) waits for the next pass.
    pending = {lid: r for lid, r in resources.items() if r["Type"] in creators}
    while pending:
        progressed = False
        for logical_id, resource in list(pending.items()):
            try:
                creators[resource["Type"]](logical_id, resource.get("Properties", {}))
            except _NotYet:
                continue
            del pending[logical_id]
            progressed = True
        if not progressed:
            raise ValueError(f"unresolvable references among {sorted(pending)}")

    # Notifications last: they name queues, and S3 checks the destination exists.
    s3 = client("s3")
    for logical_id, resource in resources.items():
        config = resource.get("Properties", {}).get("NotificationConfiguration")
        if resource["Type"] == "AWS::S3::Bucket" and config:
            s3.put_bucket_notification_configuration(
                Bucket=resolve.ref(logical_id),
                NotificationConfiguration=_notification_api_shape(resolve(config)),
            )

    # R-ops-1: every bus routed to a queue of its own that the replay and the tests read.
    event_taps = {
        logical_id: _tap_event_bus(client("events"), client("sqs"), resolve, logical_id)
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Events::EventBus"
    }

    return LocalStack(
        region=region,
        refs=dict(resolve.refs),
        variables=function_environments(template, resolve),
        stack_name=stack_name,
        url_expiry_seconds=int(parameters.get("UrlExpirySeconds", "300")),
        endpoint_url=endpoint_url,
        queue_arns={
            lid: resolve.get_att(lid, "Arn")
            for lid, r in resources.items()
            if r["Type"] == "AWS::SQS::Queue"
        },
        tables={
            lid: resolve.ref(lid)
            for lid, r in resources.items()
            if r["Type"] == "AWS::DynamoDB::Table"
        },
        event_taps=event_taps,
    )


SERVERLESS_FUNCTION = "AWS::Serverless::Function"


def function_environments(template: dict[str, Any], resolve: Any = None) -> dict[str, Any]:
    """Each function's environment as the template declares it: Globals, then its own
    Environment on top; keyed by its code's folder (``CodeUri: functions/<name>/``).
    With `resolve`, values are resolved (Refs to what the local stack created, parameters'
    defaults); without, they are the template's own (``{"Ref": "OrgsTable"}``)."""
    globals_ = template.get("Globals", {}).get("Function", {})
    common = globals_.get("Environment", {}).get("Variables", {})
    result: dict[str, Any] = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != SERVERLESS_FUNCTION:
            continue
        props = resource.get("Properties", {})
        own = props.get("Environment", {}).get("Variables", {})
        name = Path(str(props.get("CodeUri", logical_id))).name or logical_id
        merged = {**common, **own}
        result[name] = (
            {key: _variable(resolve(value)) for key, value in merged.items()} if resolve else merged
        )
    return result


def _variable(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------------------------------------
# Per-type creators: CloudFormation properties -> API calls


@dataclass
class _TableCreator:
    dynamodb: Any
    stack_name: str
    resolve: _Resolver

    def __call__(self, logical_id: str, props: dict[str, Any]) -> None:
        props = self.resolve(props)
        name = props.get("TableName") or f"{self.stack_name}-{logical_id}"
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if kwargs["BillingMode"] == "PROVISIONED":
            kwargs["ProvisionedThroughput"] = props["ProvisionedThroughput"]
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if props.get(key):
                kwargs[key] = [_index_api_shape(index) for index in props[key]]
        if props.get("SSESpecification", {}).get("SSEEnabled"):
            kwargs["SSESpecification"] = {"Enabled": True}
        if props.get("DeletionProtectionEnabled"):
            kwargs["DeletionProtectionEnabled"] = True
        description = self.dynamodb.create_table(**kwargs)["TableDescription"]

        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            self.dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        pitr = props.get("PointInTimeRecoverySpecification", {})
        if pitr.get("PointInTimeRecoveryEnabled"):
            self.dynamodb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        self.resolve.refs[logical_id] = name
        self.resolve.attrs[(logical_id, "Arn")] = description["TableArn"]


def _index_api_shape(index: dict[str, Any]) -> dict[str, Any]:
    # CloudFormation and the API agree on index shape, except that the API wants no
    # ProvisionedThroughput under PAY_PER_REQUEST; keep only what CreateTable accepts.
    allowed = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
    return {k: v for k, v in index.items() if k in allowed}


@dataclass
class _QueueCreator:
    sqs: Any
    stack_name: str
    resolve: _Resolver

    def __call__(self, logical_id: str, props: dict[str, Any]) -> None:
        props = self.resolve(props)  # raises _NotYet while the DLQ does not exist
        fifo = bool(props.get("FifoQueue"))
        name = props.get("QueueName") or f"{self.stack_name}-{logical_id}"
        if fifo and not name.endswith(".fifo"):
            name += ".fifo"
        attributes = {
            key: _attribute_value(value)
            for key, value in props.items()
            if key not in ("QueueName", "Tags")
        }
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.resolve.refs[logical_id] = url
        self.resolve.attrs[(logical_id, "Arn")] = arn
        self.resolve.attrs[(logical_id, "QueueName")] = name
        self.resolve.attrs[(logical_id, "QueueUrl")] = url


def _attribute_value(value: Any) -> str:
    # SQS attributes are strings; RedrivePolicy and friends are JSON documents.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


@dataclass
class _EventBusCreator:
    events: Any
    stack_name: str
    resolve: _Resolver

    def __call__(self, logical_id: str, props: dict[str, Any]) -> None:
        props = self.resolve(props)
        name = props.get("Name") or f"{self.stack_name}-{logical_id}"
        arn = self.events.create_event_bus(Name=name)["EventBusArn"]
        self.resolve.refs[logical_id] = name  # Ref of an event bus is its name
        self.resolve.attrs[(logical_id, "Arn")] = arn
        self.resolve.attrs[(logical_id, "Name")] = name


def _tap_event_bus(events: Any, sqs: Any, resolve: _Resolver, logical_id: str) -> str:
    """A local-only rule on the bus that sends every event to a queue (the queue's URL): what
    the system published, for `cxbill replay` (OUT_DIR/events.jsonl) and the tests to read."""
    bus = resolve.ref(logical_id)
    url = sqs.create_queue(QueueName=f"{bus}-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    rule = f"{bus}-tap"
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"account": [ACCOUNT_ID]}))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
    return url


_SSE_RENAMES = {"ServerSideEncryptionByDefault": "ApplyServerSideEncryptionByDefault"}


@dataclass
class _BucketCreator:
    s3: Any
    region: str
    resolve: _Resolver

    def __call__(self, logical_id: str, props: dict[str, Any]) -> None:
        # The notification configuration names queues; it is applied after everything exists.
        props = self.resolve({k: v for k, v in props.items() if k != "NotificationConfiguration"})
        name = props["BucketName"]
        kwargs: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        if props.get("ObjectLockEnabled"):  # R-pdf-5: only at creation (it turns versioning on)
            kwargs["ObjectLockEnabledForBucket"] = True
        self.s3.create_bucket(**kwargs)

        for call in self._settings(name, props):
            call()
        self.resolve.refs[logical_id] = name
        self.resolve.attrs[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"
        self.resolve.attrs[(logical_id, "DomainName")] = f"{name}.s3.amazonaws.com"

    def _settings(self, name: str, props: dict[str, Any]) -> Iterator[Callable[[], Any]]:
        s3 = self.s3
        if "PublicAccessBlockConfiguration" in props:
            yield lambda: s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        if "BucketEncryption" in props:
            # CloudFormation says ServerSideEncryptionByDefault where the API says Apply...
            rules = [
                {_SSE_RENAMES.get(k, k): v for k, v in rule.items()}
                for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
            yield lambda: s3.put_bucket_encryption(
                Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules}
            )
        if "VersioningConfiguration" in props:
            # Ingestions are keyed by object version, so versioning matters locally too.
            yield lambda: s3.put_bucket_versioning(
                Bucket=name, VersioningConfiguration=props["VersioningConfiguration"]
            )
        if "OwnershipControls" in props:
            yield lambda: s3.put_bucket_ownership_controls(
                Bucket=name, OwnershipControls=props["OwnershipControls"]
            )
        if "ObjectLockConfiguration" in props:  # a default retention (CloudFormation = API shape)
            yield lambda: s3.put_object_lock_configuration(
                Bucket=name, ObjectLockConfiguration=props["ObjectLockConfiguration"]
            )


def _notification_api_shape(config: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's NotificationConfiguration -> PutBucketNotificationConfiguration's."""
    shapes = {
        "QueueConfigurations": ("Queue", "QueueArn"),
        "TopicConfigurations": ("Topic", "TopicArn"),
        "LambdaConfigurations": ("Function", "LambdaFunctionArn"),
    }
    result: dict[str, Any] = {}
    for key, (cfn_target, api_target) in shapes.items():
        entries = []
        for entry in config.get(key, []):
            api_entry: dict[str, Any] = {
                api_target: entry[cfn_target],
                "Events": [entry["Event"]],
            }
            rules = entry.get("Filter", {}).get("S3Key", {}).get("Rules")
            if rules:
                api_entry["Filter"] = {"Key": {"FilterRules": rules}}
            entries.append(api_entry)
        if entries:
            result[key] = entries
    return result
