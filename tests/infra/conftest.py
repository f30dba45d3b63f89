"""The stacks, synthesised once per session and shared: every synth runs in aws-cdk-lib's Node
process, and the first one in a process takes seconds."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

import infra

infra.quiet_node_support_notices()  # before aws_cdk starts its Node process
from infra.zappa_stage import stack_name
from tests.conftest import missing_tool

PLACEHOLDER = {"placeholderKey": "true", "region": "us-east-1"}
DEV_CONTEXT = {"stage": "dev", **PLACEHOLDER}
PRODUCTION_CONTEXT = {
    "stage": "production", **PLACEHOLDER,
    "domain": "media.example.com", "hostedZone": "example.com", "hostedZoneId": "Z0123456789EXAMPLE",
    "alarmEmail": "ops@example.com",
}


@dataclasses.dataclass
class Synth:
    """One synthesised stack: the CDK objects and the template as plain data."""

    stack: object
    template: object  # aws_cdk.assertions.Template
    data: dict

    def resources(self, kind: str) -> dict[str, dict]:
        return {name: r for name, r in self.data["Resources"].items() if r["Type"] == kind}

    def one(self, kind: str) -> tuple[str, dict]:
        found = self.resources(kind)
        assert len(found) == 1, f"expected one {kind}, found {sorted(found)}"
        return next(iter(found.items()))

    def output_ref(self, key: str) -> str:
        """The logical id an output refers to (``{"Ref": id}``)."""
        return self.data["Outputs"][key]["Value"]["Ref"]

    def warnings(self) -> list[str]:
        from aws_cdk.assertions import Annotations, Match

        return [str(m.entry.data) for m in Annotations.from_stack(self.stack).find_warning("*", Match.any_value())]


@pytest.fixture(scope="session")
def cdk():
    """aws-cdk-lib, which runs on Node: both must be there (CI fails without them)."""
    if shutil.which("node") is None:
        missing_tool("node is not installed: aws-cdk-lib runs its constructs in Node")
    try:
        import aws_cdk
    except ImportError:
        missing_tool("aws-cdk-lib is not installed (make test installs requirements-infra.txt into .venv)")
    return aws_cdk


@pytest.fixture(scope="session")
def synth(cdk):
    """``synth(context)``: the app built as ``infra.app`` builds it, and its template."""
    from aws_cdk.assertions import Template

    from infra.app import create_app

    def build(context: dict) -> Synth:
        app = create_app(context)
        stack = app.node.find_child(stack_name(context["stage"]))
        template = Template.from_stack(stack)
        return Synth(stack, template, template.to_json())

    return build


@pytest.fixture(scope="session")
def dev(synth) -> Synth:
    """No domain, no alarm e-mail: the defaults."""
    return synth(DEV_CONTEXT)


@pytest.fixture(scope="session")
def production(synth) -> Synth:
    """Everything optional given: domain, hosted zone (by id, so no lookup), alarm e-mail."""
    return synth(PRODUCTION_CONTEXT)


@pytest.fixture(scope="session")
def rendered(synth) -> Synth:
    """The dev stage with video renditions by MediaConvert (``make deploy VIDEO_RENDITIONS=mediaconvert``)."""
    return synth({**DEV_CONTEXT, "videoRenditions": "mediaconvert"})


@pytest.fixture(scope="session", params=["dev", "production"])
def stage(request) -> Synth:
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="session")
def synthesised(cdk, tmp_path_factory):
    """``make synth``'s own code path, into a temporary directory."""
    from infra.synth import synth_all

    return synth_all(tmp_path_factory.mktemp("cdk.out"))
