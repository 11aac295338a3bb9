"""An API Gateway-faithful ASGI gateway: HTTP API v2.0, WebSocket API and @connections."""

from heron.gateway.app import create_app
from heron.gateway.config import GatewayConfig
from heron.gateway.server import ServerHandle, serve

__all__ = ["GatewayConfig", "ServerHandle", "create_app", "serve"]
