"""``python -m heron.load``: run ``heron load`` without the full CLI."""

from heron.load.cli_args import main

raise SystemExit(main())
