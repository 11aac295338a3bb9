"""Service specs: the routing metadata kept in Heron equals botocore's, and models load on demand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from heron.awsapi.models import SUPPORTED_SERVICES, model_metadata, service_spec


@pytest.mark.parametrize("name", SUPPORTED_SERVICES)
def test_kept_metadata_equals_botocores_model(name: str) -> None:
    assert service_spec(name) == model_metadata(name)


def test_unsupported_service_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unsupported AWS service 'ec2'"):
        service_spec("ec2")


def test_operations_come_from_the_model() -> None:
    spec = service_spec("logs")
    assert spec.operation("PutLogEvents").input_shape.name == "PutLogEventsRequest"
    assert spec.operation("NoSuchOperation") is None


_BUILD_MONITOR = """
import sys
from pathlib import Path
from heron.monitor.service import Monitor

monitor = Monitor(Path(sys.argv[1]), decode_workers=0)
print(" ".join(sorted(name for name in ("botocore", "httpx", "trio") if name in sys.modules)))
monitor.aws.specs["cloudwatch"].operation("PutMetricData")
print("botocore" in sys.modules)
monitor.close()
"""


def test_a_monitor_loads_botocore_and_httpx_only_when_first_needed(tmp_path: Path) -> None:
    # Each costs an idle `heron up` several MiB; a fresh interpreter shows what construction loads.
    done = subprocess.run(
        [sys.executable, "-c", _BUILD_MONITOR, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.splitlines() == ["", "True"]
