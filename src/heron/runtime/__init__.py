"""Lambda runtime emulation: execution environments as child processes, concurrency, timeouts."""
