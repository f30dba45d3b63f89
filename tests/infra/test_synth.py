"""``make synth``'s code path: every stage's template written offline, each clean under cfn-lint;
and the app as the CDK CLI runs it (``infra/cdk.json``)."""

from __future__ import annotations

import json
import os
import pathlib
import shlex
import subprocess

from infra.app import zappa_stages

INFRA = pathlib.Path(__file__).resolve().parents[2] / "infra"


def test_every_stage_is_synthesised(synthesised):
    assert [s.stage for s in synthesised] == zappa_stages()
    assert {"dev", "production"} <= {s.stage for s in synthesised}
    for result in synthesised:
        assert result.stack_name == f"MediahubInfra-{result.stage}"
        assert result.template.parent.name == result.stage
        assert result.template.name == f"MediahubInfra-{result.stage}.template.json"
        template = json.loads(result.template.read_text())
        assert "AWS::CloudFront::Distribution" in {r["Type"] for r in template["Resources"].values()}
        assert any("placeholder" in w for w in result.warnings), result.warnings
    production = next(s for s in synthesised if s.stage == "production")
    assert "CertificateArn" in json.loads(production.template.read_text())["Outputs"]


def test_templates_pass_cfn_lint(synthesised):
    from cfnlint.api import ManualArgs, lint_file

    problems = []
    for result in synthesised:
        for match in lint_file(result.template, ManualArgs(regions=["us-east-1"])):
            problems.append(f"{result.stage}: {match.rule.id} line {match.linenumber}: {match.message}")
    # Errors and warnings both fail; informational findings are listed with them if anything fails.
    failing = [p for p in problems if p.split(": ", 1)[1][:1] in ("E", "W")]
    assert not failing, "cfn-lint found:\n" + "\n".join(problems)


def test_app_as_the_cdk_cli_runs_it_fails_clearly_without_a_key(cdk, tmp_path):
    """cdk.json's own command, with the context the CLI would pass and no public key."""
    command = shlex.split(json.loads((INFRA / "cdk.json").read_text())["app"])
    environment = {**os.environ, "CDK_CONTEXT_JSON": json.dumps({"stage": "dev"}), "CDK_OUTDIR": str(tmp_path)}
    run = subprocess.run(command, cwd=INFRA, env=environment, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert "mediahub infra: no CloudFront public key: pass -c publicKeyFile=" in run.stderr
    assert "-c placeholderKey=true" in run.stderr
    assert "Traceback" not in run.stderr
    assert "end-of-life" not in run.stderr  # Node's support banner is kept out
