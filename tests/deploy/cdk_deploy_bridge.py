"""The rehearsal's one bridge for ``cdk deploy``, put first on PATH as ``npx``.

Against moto's server every other command of the deploy plan runs as it is; ``npx --no-install
cdk deploy STACK ... --outputs-file F -c ...`` cannot: the CDK CLI publishes the template to the
bootstrap bucket and makes a change set from its ``TemplateURL``, and moto reads that URL as a
bucket that does not exist. So, and only for that command:

1. the real CDK CLI synthesises the same stack with the same context (``cdk synth STACK``);
2. bridge A: CreateStack (or UpdateStack) under the plan's stack name with the synthesised
   template as its body, its ``Outputs`` left out, because moto answers 500 to DescribeStacks
   when an output refers to a resource type it does not create (CloudFront, CloudWatch alarms);
3. bridge B: the outputs file ``cdk deploy --outputs-file`` writes, resolved from the template:
   ``Ref``/``Fn::GetAtt``/``Fn::Join`` against the resources moto made; a resource moto did not
   make resolves to a stand-in value that says so (``moto-did-not-create-<LogicalId>``).

Every other ``npx`` call goes to the real ``npx`` (the rest of PATH).
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


def real_npx() -> tuple[str, dict]:
    """The npx after this bridge's directory on PATH, and the environment without the bridge."""
    shim = pathlib.Path(os.environ["MEDIAHUB_REHEARSAL_SHIM"]).resolve()
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p and pathlib.Path(p).resolve() != shim)
    found = shutil.which("npx", path=path)
    if not found:
        sys.exit("cdk_deploy_bridge: no npx on PATH")
    return found, {**os.environ, "PATH": path}


def stand_in(logical_id: str) -> str:
    return f"moto-did-not-create-{logical_id}"


class Resolver:
    """CloudFormation's intrinsic functions, as far as an outputs section uses them."""

    def __init__(self, session, stack: str, template: dict):
        self.session = session
        self.template = template
        cloudformation = session.client("cloudformation")
        summaries = cloudformation.list_stack_resources(StackName=stack)["StackResourceSummaries"]
        self.physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in summaries
                         if r.get("PhysicalResourceId") and r["LogicalResourceId"] in template["Resources"]}
        identity = session.client("sts").get_caller_identity()
        self.pseudo = {"AWS::AccountId": identity["Account"], "AWS::Region": session.region_name,
                       "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": stack}

    def resolve(self, value):
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        [(function, argument)] = value.items()
        if function == "Ref":
            if argument in self.pseudo:
                return self.pseudo[argument]
            return self.physical.get(argument) or stand_in(argument)
        if function == "Fn::GetAtt":
            logical, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return self.attribute(logical, attribute)
        if function == "Fn::Join":
            separator, parts = argument
            return separator.join(str(self.resolve(part)) for part in parts)
        raise ValueError(f"cdk_deploy_bridge cannot resolve {function} in an output")

    def attribute(self, logical: str, attribute: str) -> str:
        physical = self.physical.get(logical)
        if physical is None:
            return stand_in(logical)
        kind = self.template["Resources"][logical]["Type"]
        if kind == "AWS::IAM::Role" and attribute == "Arn":
            return self.session.client("iam").get_role(RoleName=physical)["Role"]["Arn"]
        if kind == "AWS::SQS::Queue" and attribute == "Arn":
            sqs = self.session.client("sqs")
            return sqs.get_queue_attributes(QueueUrl=physical, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        if kind == "AWS::SQS::Queue" and attribute == "QueueName":
            return physical.rsplit("/", 1)[-1]
        if attribute == "Arn" and physical.startswith("arn:"):
            return physical
        raise ValueError(f"cdk_deploy_bridge cannot resolve Fn::GetAtt {logical}.{attribute} ({kind})")


def deploy(npx: str, env: dict, stack: str, options: list[str]) -> None:
    import boto3

    outputs_file = pathlib.Path(options[options.index("--outputs-file") + 1])
    context = [arg for i, arg in enumerate(options) if arg == "-c" or (i and options[i - 1] == "-c")]
    subprocess.run([npx, "--no-install", "cdk", "synth", stack, "--quiet", *context], env=env, check=True)
    template = json.loads((pathlib.Path("cdk.out") / f"{stack}.template.json").read_text())
    body = json.dumps({key: value for key, value in template.items() if key != "Outputs"})
    session = boto3.session.Session()
    cloudformation = session.client("cloudformation")
    try:
        cloudformation.describe_stacks(StackName=stack)
    except cloudformation.exceptions.ClientError as error:
        if "does not exist" not in str(error):
            raise
        print(f"cdk_deploy_bridge: CreateStack {stack} (template body, outputs resolved by the bridge)")
        cloudformation.create_stack(StackName=stack, TemplateBody=body, Capabilities=CAPABILITIES)
    else:
        print(f"cdk_deploy_bridge: UpdateStack {stack} (template body, outputs resolved by the bridge)")
        cloudformation.update_stack(StackName=stack, TemplateBody=body, Capabilities=CAPABILITIES)
    status = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        sys.exit(f"cdk_deploy_bridge: {stack} is {status}")
    resolver = Resolver(session, stack, template)
    outputs = {key: resolver.resolve(output["Value"]) for key, output in template.get("Outputs", {}).items()}
    outputs_file.parent.mkdir(parents=True, exist_ok=True)
    outputs_file.write_text(json.dumps({stack: outputs}, indent=2))
    print(f"cdk_deploy_bridge: {stack}: {status}; outputs in {outputs_file}")


def main(argv: list[str]) -> None:
    npx, env = real_npx()
    if argv[:3] == ["--no-install", "cdk", "deploy"]:
        deploy(npx, env, argv[3], argv[4:])
        return
    os.execve(npx, [npx, *argv], env)


if __name__ == "__main__":
    main(sys.argv[1:])
