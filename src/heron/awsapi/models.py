"""The services the monitor API speaks, described by botocore's own service models.

botocore ships the exact shapes boto3 serializes, so the protocol layer decodes requests and
encodes responses against them instead of a hand-kept copy that could drift. Only the few
metadata fields that route a request are kept here (a test holds them equal to botocore's), so
that ``heron up`` imports botocore and parses a model when the first request for that service
arrives: the import and the three models cost an idle instance about 18 MiB.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

log = logging.getLogger(__name__)

#: The botocore service names this layer knows how to serve.
SUPPORTED_SERVICES = ("cloudwatch", "logs", "sns")


@dataclass(frozen=True)
class ServiceSpec:
    """One AWS service as the wire layer needs it (names, prefixes, protocols; model on demand)."""

    name: str
    signing_name: str
    target_prefix: str
    json_version: str
    api_version: str
    protocols: tuple[str, ...]
    query_compatible: bool
    xml_namespace: str

    @property
    def model(self) -> Any:
        """botocore's ServiceModel (imported and loaded on first use, then kept)."""
        return _service_model(self.name)

    @property
    def model_loaded(self) -> bool:
        """True once the model is in memory (reading ``model`` will not import or parse)."""
        return self.name in _models

    def operation(self, name: str) -> Any | None:
        """botocore's OperationModel for ``name``, or None if the service has no such operation."""
        if name not in self.model.operation_names:
            return None
        return self.model.operation_model(name)

    def query_code(self, code: str) -> str:
        """The Query-protocol code for a modelled exception name (itself when not modelled)."""
        if not self.model_loaded:
            # Only protocol errors (signature, size, method, protocol) come before a service's
            # model is loaded, and none of them is modelled: no import and parse to find that out.
            return code
        return _query_codes(self.name).get(code, code)


#: Each service's routing metadata as its botocore model states it (see ``spec_from_model``).
_SPECS = {
    "cloudwatch": ServiceSpec(
        name="cloudwatch",
        signing_name="monitoring",
        target_prefix="GraniteServiceVersion20100801",
        json_version="1.0",
        api_version="2010-08-01",
        protocols=("smithy-rpc-v2-cbor", "json", "query"),
        query_compatible=True,
        xml_namespace="http://monitoring.amazonaws.com/doc/2010-08-01/",
    ),
    "logs": ServiceSpec(
        name="logs",
        signing_name="logs",
        target_prefix="Logs_20140328",
        json_version="1.1",
        api_version="2014-03-28",
        protocols=("json",),
        query_compatible=False,
        xml_namespace="",
    ),
    "sns": ServiceSpec(
        name="sns",
        signing_name="sns",
        target_prefix="",  # Query-only services (SNS) have none
        json_version="1.0",
        api_version="2010-03-31",
        protocols=("query",),
        query_compatible=False,
        xml_namespace="http://sns.amazonaws.com/doc/2010-03-31/",
    ),
}


def service_spec(name: str) -> ServiceSpec:
    """The spec for botocore service ``name`` (its model loads on first use; models are large)."""
    if name not in SUPPORTED_SERVICES:
        raise ValueError(f"unsupported AWS service {name!r}; expected one of {SUPPORTED_SERVICES}")
    return _SPECS[name]


def spec_from_model(name: str) -> ServiceSpec:
    """The spec as botocore's model for ``name`` states it: ``service_spec`` must equal this."""
    return _spec_of(name, _service_model(name))


def _spec_of(name: str, model: Any) -> ServiceSpec:
    meta = model.metadata
    return ServiceSpec(
        name=name,
        signing_name=meta.get("signingName", meta["endpointPrefix"]),
        target_prefix=meta.get("targetPrefix", ""),
        json_version=meta.get("jsonVersion", "1.0"),
        api_version=meta["apiVersion"],
        protocols=tuple(meta.get("protocols") or [meta["protocol"]]),
        query_compatible="awsQueryCompatible" in meta,
        xml_namespace=meta.get("xmlNamespace", ""),
    )


#: Loaded models by service name; the lock makes concurrent first requests parse a model once.
_models: dict[str, Any] = {}
_loading = threading.Lock()


def _service_model(name: str) -> Any:
    """botocore's ServiceModel for ``name``."""
    model = _models.get(name)
    if model is not None:
        return model
    with _loading:
        if name not in _models:
            import botocore  # type: ignore[import-untyped]
            from botocore.loaders import create_loader  # type: ignore[import-untyped]
            from botocore.model import ServiceModel  # type: ignore[import-untyped]

            loader = create_loader()
            model = ServiceModel(loader.load_service_model(name, "service-2"), service_name=name)
            stated = _spec_of(name, model)
            if stated != _SPECS[name]:
                # Another botocore in the pinned range may move a prefix or protocol: say so,
                # since requests are routed by the kept copy.
                log.warning(
                    "botocore %s's %s model differs from Heron's routing metadata: %s",
                    botocore.__version__,
                    name,
                    stated,
                )
            _models[name] = model
        return _models[name]


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
