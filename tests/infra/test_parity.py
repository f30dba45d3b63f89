"""The stack's Lambda role grants exactly what ``flask iam-policy`` prints.

``flask iam-policy`` prints ``webapp.iam.policy_document(...)`` for a stage. These tests call
``webapp.iam.policy_document`` directly, not the command (whose options are its own concern),
with concrete values, and compare it with the role's policy from the synthesised template after
resolving its ``Ref``s and ``Fn::Join``s with the same values: a fixed account and region, a
bucket name standing for the one CloudFormation generates, and the table's name. Same statements
(by Sid), same effect, same actions, same resources, same conditions.
"""

from __future__ import annotations

from infra.app import zappa_stage
from webapp.iam import policy_document

ACCOUNT = "123456789012"
REGION = "us-east-1"


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def resolve(node, refs: dict[str, str]):
    """Concrete strings for ``Ref`` and ``Fn::Join``; any other intrinsic is a failure."""
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            assert node["Ref"] in refs, f"the role's policy refers to {node['Ref']}, which the test cannot resolve"
            return refs[node["Ref"]]
        if set(node) == {"Fn::GetAtt"}:
            attribute = ".".join(node["Fn::GetAtt"])
            assert attribute in refs, f"the role's policy refers to {attribute}, which the test cannot resolve"
            return refs[attribute]
        if set(node) == {"Fn::Join"}:
            separator, parts = node["Fn::Join"]
            return separator.join(resolve(part, refs) for part in parts)
        intrinsic = [key for key in node if key.startswith("Fn::")]
        assert not intrinsic, f"unexpected {intrinsic} in the role's policy: {node}"
        return {key: resolve(value, refs) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(value, refs) for value in node]
    return node


def by_sid(statements: list[dict]) -> dict[str, dict]:
    result = {}
    for statement in statements:
        assert "Sid" in statement, statement
        assert statement["Sid"] not in result, f"two statements named {statement['Sid']}"
        result[statement["Sid"]] = {
            "Effect": statement["Effect"],
            "Action": sorted(as_list(statement["Action"])),
            "Resource": sorted(as_list(statement["Resource"])),
            "Condition": statement.get("Condition"),
        }
    return result


def concrete(stage, more_refs: dict[str, str] | None = None) -> tuple[dict, dict]:
    """The role's policy document resolved, and the names used to resolve it (``more_refs``:
    the stage's other resources the policy names)."""
    name = stage.stack.config.name
    values = {
        "bucket": f"{name}-uploadsbucket-1a2b3c4d5e6f",
        "table": stage.data["Resources"][stage.output_ref("TableName")]["Properties"]["TableName"],
        "dead_letter_queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}-dead-letters",
    }
    refs = {
        "AWS::AccountId": ACCOUNT,
        "AWS::Region": REGION,
        "AWS::Partition": "aws",
        stage.output_ref("BucketName"): values["bucket"],
        stage.output_ref("TableName"): values["table"],
        f"{stage.one('AWS::SQS::Queue')[0]}.Arn": values["dead_letter_queue"],
        **(more_refs or {}),
    }
    [role] = [r for r in stage.resources("AWS::IAM::Role").values()
              if r["Properties"].get("RoleName") == f"{name}-lambda"]
    (policy,) = role["Properties"]["Policies"]
    return resolve(policy["PolicyDocument"], refs), values


def expected_document(stage, values: dict, **options) -> dict:
    """``policy_document`` as ``iam-policy`` calls it for the stage, with the test's values."""
    stage_name = stage.stack.config.name.removeprefix("mediahub-")
    return policy_document(
        bucket=values["bucket"], table=values["table"], region=REGION, account=ACCOUNT,
        function_name=",".join(stage.stack.config.function_names),
        mail_from=(zappa_stage(stage_name).get("environment_variables") or {}).get("MEDIAHUB_MAIL_FROM"),
        secret_names=(f"mediahub/{stage_name}/cloudfront-keys", f"mediahub/{stage_name}/secret-key"),
        dead_letter_queue=values["dead_letter_queue"], malware_scan=False, partition="aws", **options,
    )


def assert_same_statements(document: dict, expected: dict) -> None:
    assert document["Version"] == expected["Version"]
    actual, wanted = by_sid(document["Statement"]), by_sid(expected["Statement"])
    assert sorted(actual) == sorted(wanted)
    for sid in wanted:
        assert actual[sid] == wanted[sid], sid


def test_role_policy_is_the_iam_policy_command_document(stage):
    document, values = concrete(stage)
    assert_same_statements(document, expected_document(stage, values))


def test_with_mediaconvert_renditions_the_role_policy_is_the_iam_policy_command_document(rendered):
    """The stack's MediaConvert queue and role, resolved to the ARNs the stage's settings name
    (``MEDIAHUB_MEDIACONVERT_QUEUE_ARN``/``_ROLE_ARN``, copied from its outputs): the same statements."""
    name = rendered.stack.config.name
    queue_arn = f"arn:aws:mediaconvert:{REGION}:{ACCOUNT}:queues/{name}-renditions"
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/{name}-mediaconvert"
    [queue_id] = rendered.resources("AWS::MediaConvert::Queue")
    [role_id] = [key for key, role in rendered.resources("AWS::IAM::Role").items()
                 if role["Properties"].get("RoleName") == f"{name}-mediaconvert"]
    document, values = concrete(rendered, {f"{queue_id}.Arn": queue_arn, f"{role_id}.Arn": role_arn})
    assert_same_statements(document, expected_document(rendered, values, mediaconvert_queue=queue_arn,
                                                       mediaconvert_role=role_arn))
    assert {"SubmitRenditionJobs", "PassRoleToMediaConvert"} <= {s["Sid"] for s in document["Statement"]}


def test_role_policy_names_the_stacks_own_resources(stage):
    """The names in the policy are the ones the stack gives its log group, secret and table."""
    document, values = concrete(stage)
    statements = by_sid(document["Statement"])
    name = stage.stack.config.name
    groups = stage.resources("AWS::Logs::LogGroup").values()
    assert statements["Logs"]["Resource"] == sorted(
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group['Properties']['LogGroupName']}:*" for group in groups)
    _, secret = stage.one("AWS::SecretsManager::Secret")
    secret_resources = [r for s in statements.values() for r in s["Resource"] if ":secretsmanager:" in r]
    assert f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret['Properties']['Name']}-??????" in secret_resources
    keys_secret = stage.data["Outputs"]["CloudFrontKeysSecret"]["Value"]
    assert f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{keys_secret}-??????" in secret_resources
    assert f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{values['table']}" in statements["CatalogItems"]["Resource"]
    assert f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}" in statements["InvokeItself"]["Resource"]
    mail_from = (zappa_stage(name.removeprefix("mediahub-")).get("environment_variables") or {}).get(
        "MEDIAHUB_MAIL_FROM")
    assert ("SendMail" in statements) == bool(mail_from)
