"""Notifications: SNS-style topics, subscriptions and the durable outbox of published messages."""
