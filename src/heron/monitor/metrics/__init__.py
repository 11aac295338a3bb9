"""The metric store, its statistics, and GetMetricData planning."""
