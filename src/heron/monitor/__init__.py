"""The monitor side: what Heron does with the telemetry the application side emits."""
