"""The services the monitor API speaks, described by botocore's own service models.

botocore ships the exact shapes boto3 serializes, so the protocol layer decodes requests and
encodes responses against them instead of a hand-kept copy that could drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from botocore.loaders import create_loader  # type: ignore[import-untyped]
from botocore.model import OperationNotFoundError, ServiceModel  # type: ignore[import-untyped]

#: The botocore service names this layer knows how to serve.
SUPPORTED_SERVICES = ("cloudwatch", "logs", "sns")


@dataclass(frozen=True)
class ServiceSpec:
    """One AWS service as the wire layer needs it (names, prefixes, protocols, model)."""

    name: str
    signing_name: str
    target_prefix: str
    json_version: str
    api_version: str
    protocols: tuple[str, ...]
    query_compatible: bool
    xml_namespace: str
    model: Any = field(repr=False, compare=False)

    def operation(self, name: str) -> Any | None:
        """botocore's OperationModel for ``name``, or None if the service has no such operation."""
        if name not in self.model.operation_names:
            return None
        try:
            return self.model.operation_model(name)
        except OperationNotFoundError:
            return None

    def query_code(self, code: str) -> str:
        """The Query-protocol code for a modelled exception name (itself when not modelled)."""
        return _query_codes(self.name).get(code, code)


@cache
def service_spec(name: str) -> ServiceSpec:
    """The spec for botocore service ``name`` (loaded once; models are large)."""
    if name not in SUPPORTED_SERVICES:
        raise ValueError(f"unsupported AWS service {name!r}; expected one of {SUPPORTED_SERVICES}")
    model = _service_model(name)
    meta = model.metadata
    protocols = tuple(meta.get("protocols") or [meta["protocol"]])
    return ServiceSpec(
        name=name,
        signing_name=meta.get("signingName", meta["endpointPrefix"]),
        target_prefix=meta.get("targetPrefix", ""),  # Query-only services (SNS) have none
        json_version=meta.get("jsonVersion", "1.0"),
        api_version=meta["apiVersion"],
        protocols=protocols,
        query_compatible="awsQueryCompatible" in meta,
        xml_namespace=meta.get("xmlNamespace", ""),
        model=model,
    )


@cache
def _service_model(name: str) -> Any:
    """botocore's ServiceModel for ``name``."""
    loader = create_loader()
    return ServiceModel(loader.load_service_model(name, "service-2"), service_name=name)


@cache
def _query_codes(name: str) -> dict[str, str]:
    """Modelled exception name -> its ``error.code`` (the awsQuery code), for one service."""
    model = _service_model(name)
    codes: dict[str, str] = {}
    for shape_name in model.shape_names:
        shape = model.shape_for(shape_name)
        error = shape.metadata.get("error")
        if shape.metadata.get("exception") and isinstance(error, dict) and error.get("code"):
            codes[shape_name] = str(error["code"])
    return codes
