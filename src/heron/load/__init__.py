"""Load and demo traffic for a running Heron service: ``heron load`` and ``heron up --demo``.

The package imports nothing itself: the CLI builds its parser from ``cli_args`` on every run,
and the generator's HTTP and WebSocket clients should load only when traffic is sent.
"""
