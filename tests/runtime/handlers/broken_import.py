"""A handler module whose import fails."""

import heron_module_that_does_not_exist  # type: ignore[import-not-found]  # noqa: F401


def handler(event, context):  # type: ignore[no-untyped-def]
    """Never reached."""
    return None
