"""Lambda runtime emulation: execution environments as child processes, concurrency, timeouts.

Import from the modules (``heron.runtime.runtime.LambdaRuntime``, ``heron.runtime.invoke_cli``);
this package file stays empty because every cold start of the worker child imports it.
"""
