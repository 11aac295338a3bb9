"""CloudWatch alarms: validation, evaluation, reasons, composite rules, store, scheduler, actions.

The pure core (``validate``, ``evaluate``, ``missing_data``, ``reason``, ``rule_parser``,
``composite``) knows nothing of storage or time sources: callers pass alarms as botocore-shaped
dicts, datapoints per slot and ``now``.
"""
