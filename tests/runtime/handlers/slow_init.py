"""A handler module whose INIT takes a while (module-level sleep); the handler sleeps too."""

import time
from typing import Any

time.sleep(1.0)


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Sleep ``seconds``."""
    time.sleep(float(event.get("seconds", 0)))
    return {"slept": event.get("seconds", 0)}
