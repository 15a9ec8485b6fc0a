"""Default `model/guardrails.yaml` and `model/detection.yaml`: the YAML files shipped in
`opsfin/model_defaults/`, written by `opsfin init` and `opsfin demo`."""

from __future__ import annotations

from ..model_defaults import default_text


def default_guardrails_yaml() -> str:
    return default_text("guardrails.yaml")


def default_detection_yaml() -> str:
    return default_text("detection.yaml")
