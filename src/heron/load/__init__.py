"""Load and demo traffic for a running Heron service: ``heron load`` and ``heron up --demo``."""

from heron.load.cli_args import add_load_arguments, main_load
from heron.load.demo import run_demo
from heron.load.generator import LoadError, run_load
from heron.load.progress import Progress, ProgressPrinter, format_progress
from heron.load.summary import LoadSummary, format_summary

__all__ = [
    "LoadError",
    "LoadSummary",
    "Progress",
    "ProgressPrinter",
    "add_load_arguments",
    "format_progress",
    "format_summary",
    "main_load",
    "run_demo",
    "run_load",
]
