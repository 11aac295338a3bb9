"""What the application side emits: log events and metric datums, and where they go."""
