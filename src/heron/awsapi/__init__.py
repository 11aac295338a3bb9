"""The AWS-compatible API on the monitor port: wire protocols, SigV4, and operation handlers."""
