"""The monitoring dashboard served on the monitor port at ``/dashboard``."""
