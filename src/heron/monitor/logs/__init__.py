"""CloudWatch Logs: the log store, filter patterns, metric filters, EMF and Insights."""
