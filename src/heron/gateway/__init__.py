"""An API Gateway-faithful ASGI gateway: HTTP API v2.0, WebSocket API and @connections."""
