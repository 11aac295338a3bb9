"""Measure the gateway's memory per idle WebSocket connection (run by hand, not by pytest).

    .venv/bin/python tests/gateway/ws_memory_probe.py [connections] [ws-implementation]

A child process serves the gateway (with a ``$connect`` function, as in Heron); this process
opens the connections and reads the child's RSS before and after.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import psutil
from websockets.asyncio.client import connect

SERVER = textwrap.dedent(
    """
    import asyncio, sys
    from heron.gateway.app import create_app
    from heron.gateway.config import GatewayConfig
    from heron.gateway.server import serve
    from heron.runtime.invoker import InvokeResult
    from heron.types import FunctionSpec

    class Invoker:
        async def invoke(self, name, event):
            return InvokeResult("r", payload={"statusCode": 200})

    class Sink:
        def put_log_events(self, events): pass
        def put_metric_data(self, datums): pass
        def put_samples(self, samples): pass
        def flush(self): pass
        def close(self): pass

    async def main():
        spec = FunctionSpec("c", "x.y", ws_routes=("$connect", "$disconnect"), authorized=False)
        app = create_app([spec], Invoker(), Sink(), GatewayConfig(ws_new_connections_per_s=1e6))
        handle = await serve(app, "127.0.0.1", 0, ws=sys.argv[1])
        print(handle.port, flush=True)
        await handle.wait()

    asyncio.run(main())
    """
)


async def measure(count: int, ws_impl: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", SERVER, ws_impl], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        url = f"ws://127.0.0.1:{port}/ws"
        proc = psutil.Process(child.pid)
        warm = [await connect(url, compression=None) for _ in range(50)]
        for ws in warm:
            await ws.close()
        await asyncio.sleep(0.5)
        before = proc.memory_info().rss
        sockets = []
        for _ in range(count):
            sockets.append(await connect(url, compression=None, ping_interval=None))
        await asyncio.sleep(2.0)
        after = proc.memory_info().rss
        per = (after - before) / count / 1024
        print(
            f"{ws_impl}: {count} idle connections, RSS {before / 2**20:.1f} MiB -> "
            f"{after / 2**20:.1f} MiB, {per:.1f} KiB per connection"
        )
        for ws in sockets:
            await ws.close()
    finally:
        child.terminate()
        child.wait()


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    # Heron's trimmed protocol by default; "websockets-sansio" measures uvicorn's own.
    impl = sys.argv[2] if len(sys.argv) > 2 else "heron.gateway.ws_protocol:LeanWebSocketProtocol"
    asyncio.run(measure(n, impl))
