"""Mediahub's AWS infrastructure as code: one CDK stack per Zappa stage.

``infra.app`` reads the CDK context and builds the stack for one stage, ``infra.stack``
holds the stack itself and ``infra.synth`` writes every stage's template offline
(``make synth``). Call ``quiet_node_support_notices`` before importing ``aws_cdk``: its
settings are read when aws-cdk-lib starts its Node process. Modules that never load the CDK
(``infra.keys``, ``infra.zappa_stage``, ``infra.deploy``) do not pay for the Node probe.
"""

from __future__ import annotations

import os
import shutil
import subprocess


def quiet_node_support_notices() -> None:
    """Keep jsii's banners about the Node release (support window, untested) out of the output.

    They say nothing about the templates; a Node too old to run aws-cdk-lib still fails loudly.
    """
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
    node = shutil.which("node")
    if not node:
        return
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return
    major = version.strip().lstrip("v").split(".")[0]
    name = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"
    silenced = [v for v in os.environ.get(name, "").split(",") if v.strip()]
    if major.isdigit() and major not in silenced:
        os.environ[name] = ",".join([*silenced, major])
