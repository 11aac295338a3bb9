"""DynamoDB-shaped tables: the Table protocol, the SQLite backend and the in-memory backend."""
