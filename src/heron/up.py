"""The local composition root: wire tables, telemetry, runtime, gateway and monitor for ``heron up``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from heron.errors import ConfigError
from heron.monitor.alarms.seed import LoadReport
from heron.monitor.app import Readiness, create_monitor_app
from heron.monitor.service import Monitor
from heron.monitor.timescale import ScaledClock, TimeScaledSink, make_clock
from heron.settings import ResolvedSettings
from heron.tables.provisioned_metrics import publish_provisioned_capacity
from heron.telemetry.sink import MemorySink
from heron.types import Event, FunctionSpec
from heron.wakeups import delay_on_grid

log = logging.getLogger("heron")

#: How often expired TTL items are swept from the tables (DynamoDB's own lag is up to two days).
TTL_SWEEP_INTERVAL_S = 60.0


def function_environment(
    settings: ResolvedSettings, management_key: str, *, fault_injection: bool = False
) -> dict[str, str]:
    """The HERON_* variables every execution environment gets (the runtime adds Lambda's own)."""
    data_dir = settings.data_dir.resolve()
    pythonpath = os.pathsep.join(p for p in (os.getcwd(), os.environ.get("PYTHONPATH", "")) if p)
    tables: dict[str, str] = {}
    if settings["tables_backend"] == "dynamodb":
        from heron.tables.dynamodb_client import DynamoConfig, child_environment

        # Like Lambda, each function gets the endpoint and resolved keys in its environment.
        tables = child_environment(DynamoConfig.from_settings(settings.values))
    return tables | {
        "HERON_DATA_DIR": str(data_dir),
        "HERON_TABLES_BACKEND": str(settings["tables_backend"]),
        "HERON_CONNECTIONS_ENDPOINT": f"http://127.0.0.1:{settings['port']}",
        "HERON_MANAGEMENT_KEY": management_key,
        "AWS_REGION": str(settings["region"]),
        "AWS_DEFAULT_REGION": str(settings["region"]),
        "PYTHONPATH": pythonpath,
        "HERON_FAULT_INJECTION": "1" if fault_injection else "0",
        # Functions open the tables themselves and must throttle at the same capacity.
        "HERON_TABLE_CAPACITY": str(settings["table_capacity"]),
    }


def _find_function(settings: ResolvedSettings, name: str) -> FunctionSpec:
    for spec in settings.functions:
        if spec.name == name:
            return spec
    names = ", ".join(f.name for f in settings.functions)
    raise ConfigError(f"no function named {name!r}; declared functions: {names}")


def invoke_once(settings: ResolvedSettings, function: str, event: Event) -> int:
    """Run one invocation of ``function`` in a fresh environment; the exit code of ``heron invoke``."""
    from heron.runtime.invoke_cli import run_invoke

    spec = _find_function(settings, function)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _prepare_tables(settings).close()  # creates the tables file on first use
    env = function_environment(settings, management_key=secrets.token_urlsafe(24))
    # Like `sam local invoke`, the invocation's logs go to the terminal, not to the monitor.
    return run_invoke(spec, event, env, sink=MemorySink())


def table_schemas(settings: ResolvedSettings) -> Any:
    """The four table schemas: names from the environment, capacity from ``table_capacity``."""
    from heron.tables.schema import schemas_with_capacity

    return schemas_with_capacity(str(settings["table_capacity"]))


def _prepare_tables(settings: ResolvedSettings) -> Any:
    from heron.tables import open_database

    if settings["tables_backend"] == "dynamodb":
        from heron.tables.dynamodb_admin import open_for_service

        def progress(line: str) -> None:
            print(f"heron: {line}", file=sys.stderr, flush=True)

        return open_for_service(settings.values, table_schemas(settings), progress)
    return open_database(
        str(settings["tables_backend"]), settings.data_dir.resolve(), table_schemas(settings)
    )


async def _sweep_ttl(database: Any, stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), delay_on_grid(TTL_SWEEP_INTERVAL_S))
        if stop.is_set():
            return
        try:
            await asyncio.to_thread(database.sweep_expired, time.time())
        except Exception:  # a failed sweep must never take the server down; the next one retries
            log.exception("TTL sweep failed")


async def run_up(
    settings: ResolvedSettings,
    *,
    demo: bool = False,
    stop: asyncio.Event | None = None,
    announce: bool = True,
) -> None:
    """Run the whole system until ``stop`` is set (or SIGINT/SIGTERM arrives)."""
    from heron.gateway.app import create_app
    from heron.gateway.server import serve
    from heron.runtime.runtime import LambdaRuntime

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    readiness = Readiness(("monitor", "tables", "runtime", "gateway"))
    host, port, monitor_port = (
        str(settings["host"]),
        int(settings["port"]),
        int(settings["monitor_port"]),
    )

    scale = float(settings["time_scale"])
    clock = make_clock(scale)
    monitor = await asyncio.to_thread(
        Monitor,
        data_dir,
        region=str(settings["region"]),
        account_id=str(settings["account_id"]),
        clock=clock,
        time_scale=scale,
        decode_workers=int(settings["decode_workers"]),
        signature_clock=time.time,  # signatures are checked against real time, whatever the scale
        # Links and SubscribeURLs point at the monitor port unless [notify] public_url says so.
        notify={"public_url": f"http://127.0.0.1:{monitor_port}", **settings.notify},
    )
    try:
        alarm_report = await asyncio.to_thread(load_alarms, settings, monitor)
    except BaseException:
        await asyncio.to_thread(monitor.close)
        raise
    dashboard = _dashboard(settings, monitor)
    monitor_app = create_monitor_app(
        readiness,
        info=lambda: {"dataDir": str(data_dir), "applicationPort": port, **monitor.info()},
        aws=monitor.aws,
        routes=[*dashboard.routes, *public_notify_routes(monitor)],
    )
    monitor_server = await serve(monitor_app, host, monitor_port)
    readiness.mark_ready("monitor")
    database = await asyncio.to_thread(_prepare_tables, settings)
    readiness.mark_ready("tables")
    # The application side keeps real time; its telemetry crosses into Heron time here.
    sink = (
        monitor.sink if not isinstance(clock, ScaledClock) else TimeScaledSink(monitor.sink, clock)
    )

    management_key = secrets.token_urlsafe(24)
    faults = demo or bool(settings["fault_injection"])
    runtime = LambdaRuntime(
        settings.functions,
        sink,
        env=function_environment(settings, management_key, fault_injection=faults),
        account_concurrency=int(settings["account_concurrency"]),
        idle_timeout_s=float(settings["environment_idle_s"]),
        max_environments=int(settings["max_environments"]),
    )
    await runtime.start()
    readiness.mark_ready("runtime")
    config = gateway_config(settings, management_key, fault_injection=faults)
    app = create_app(settings.functions, runtime, sink, config)
    gateway_server = await serve(app, host, port, ws_max_size=config.ws_message_limit_bytes)
    readiness.mark_ready("gateway")
    if announce:
        print(f"heron: alarms           {alarm_report.summary()}", file=sys.stderr, flush=True)
        _announce(settings, data_dir, monitor)

    tasks = [
        asyncio.create_task(_sweep_ttl(database, stop)),
        asyncio.create_task(monitor.run_housekeeping(stop)),
        asyncio.create_task(monitor.scheduler.run(stop)),
        asyncio.create_task(monitor.notifier.run(stop)),
        asyncio.create_task(
            publish_provisioned_capacity(table_schemas(settings), sink, time.time, stop)
        ),
    ]
    if demo:
        from heron.load.demo import announce_phase, demo_banner, run_demo

        if announce:
            print(demo_banner(float(settings["demo_incident_interval_s"]), scale), file=sys.stderr)

        tasks.append(
            asyncio.create_task(
                run_demo(
                    f"http://127.0.0.1:{port}",
                    stop,
                    rate=float(settings["demo_rate"]),
                    incident_interval_s=float(settings["demo_incident_interval_s"]),
                    time_scale=scale,
                    announce=announce_phase if announce else None,
                )
            )
        )
    try:
        await stop.wait()
    finally:
        if announce:
            print("heron: shutting down", file=sys.stderr)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await gateway_server.stop()
        await runtime.close()
        await dashboard.close()
        await monitor_server.stop()
        await asyncio.to_thread(monitor.close)
        database.close()


def public_notify_routes(monitor: Monitor) -> list[Any]:
    """The notify routes that must answer without credentials: SNS's unsigned SubscribeURL and
    the signed incident links (GET shows a confirmation page, POST acts).

    The incident and inbox routes stay unmounted until they sit behind the dashboard's login;
    the CLI reaches the same data through ``heron notify``.
    """
    from heron.monitor.notify.api import notify_routes

    notifier = getattr(monitor, "notifier", None)
    if notifier is None:
        return []
    # SNS's Subscribe/UnsubscribeURL (unguessable tokens/ARNs) and signed links: no login needed.
    public = ("/notify/confirm", "/notify/unsubscribe", "/notify/link/{id}/{action}")
    return [r for r in notify_routes(notifier.ctx, monitor.clock) if r.path in public]


def _dashboard(settings: ResolvedSettings, monitor: Monitor) -> Any:
    """The dashboard on the monitor port, reading the monitor's stores."""
    from heron.dashboard.app import Dashboard
    from heron.dashboard.layout import DashboardConfig

    config = DashboardConfig.from_specs(
        settings.functions,
        account_concurrency=int(settings["account_concurrency"]),
        provisioned=[t.name for t in table_schemas(settings) if t.provisioned],
    )
    # The alarm list shows the monitor's alarm store (read through its ``snapshot()``).
    alarms = getattr(monitor, "alarms", None)
    if not callable(getattr(alarms, "snapshot", None)):
        alarms = None
    dashboard = Dashboard(
        metrics=monitor.metrics,
        logs=monitor.logs,
        credentials=monitor.credentials,
        config=config,
        alarms=alarms,
        notify=getattr(getattr(monitor, "notifier", None), "ctx", None),
        clock=monitor.clock,
    )
    # The History page prices usage and forecasts against the configured limits.
    dashboard.history.configure_from_settings(settings, catalogue_target(settings).tables)
    return dashboard


def catalogue_target(settings: ResolvedSettings) -> Any:
    """The alarm catalogue's target: the declared functions, the tables, API ids and limits."""
    from heron.monitor.alarms.catalogue import TableTarget, Target

    gateway = gateway_config(settings, "unused")  # only its API ids and stage are read
    return Target(
        functions=tuple(settings.functions),
        tables=tuple(TableTarget(t.name, t.provisioned) for t in table_schemas(settings)),
        http_api_id=gateway.http_api_id,
        ws_api_id=gateway.ws_api_id,
        ws_stage=gateway.ws_stage,
        account_concurrency=int(settings["account_concurrency"]),
    )


def alarm_sources(settings: ResolvedSettings) -> list[Any]:
    """What ``heron up`` loads, in order: the seed's alarms, the catalogue, the user's files.

    The user's directory is optional while it is the default one; named explicitly, it must exist.
    """
    from heron.monitor.alarms.catalogue import build_catalogue
    from heron.monitor.alarms.seed import (
        catalogue_source,
        directory_paths,
        read_alarm_file,
        seed_paths,
    )

    sources = [read_alarm_file(path) for path in seed_paths()]
    if settings["alarm_catalogue"]:
        sources.append(catalogue_source(build_catalogue(catalogue_target(settings))))
    directory = Path(str(settings["alarms_dir"]))
    if str(settings["alarms_dir"]) and (
        directory.is_dir() or settings.sources["alarms_dir"] != "default"
    ):
        sources.extend(read_alarm_file(path) for path in directory_paths(directory))
    return sources


def load_alarms(settings: ResolvedSettings, monitor: Monitor) -> LoadReport:
    """Load every alarm source into ``monitor``; a bad file is a ConfigError naming it."""
    from heron.monitor.alarms.seed import AlarmFileError

    try:
        return monitor.load_alarms(
            alarm_sources(settings), ok_notifications=bool(settings["alarm_ok_notifications"])
        )
    except AlarmFileError as exc:
        raise ConfigError(f"cannot load alarms: {exc}") from None


def gateway_config(
    settings: ResolvedSettings, management_key: str, *, fault_injection: bool = False
) -> Any:
    """The gateway's configuration from the resolved settings."""
    from heron.gateway.config import GatewayConfig

    values: Mapping[str, Any] = settings.values
    return GatewayConfig(
        management_key=management_key,
        region=str(values["region"]),
        account_id=str(values["account_id"]),
        throttle_rate=float(values["throttle_rate"]),
        throttle_burst=int(values["throttle_burst"]),
        http_integration_timeout_s=float(values["http_timeout_s"]),
        ws_integration_timeout_s=float(values["ws_timeout_s"]),
        ws_idle_timeout_s=float(values["ws_idle_timeout_s"]),
        ws_max_connection_s=float(values["ws_max_duration_s"]),
        ws_new_connections_per_s=float(values["ws_new_connections_per_s"]),
        authorizer_cache_ttl_s=float(values["authorizer_cache_s"]),
        fault_injection=fault_injection or bool(values["fault_injection"]),
    )


def _announce(settings: ResolvedSettings, data_dir: Path, monitor: Monitor) -> None:
    host, port, mport = settings["host"], settings["port"], settings["monitor_port"]
    credentials = data_dir / "credentials"
    print(
        f"heron: application API  http://{host}:{port}  (WebSocket ws://{host}:{port}/ws)\n"
        f"heron: monitor          http://{host}:{mport}/health\n"
        f"heron: dashboard        http://{host}:{mport}/dashboard  (sign in with the key pair)\n"
        f"heron: AWS API          http://{host}:{mport}  (CloudWatch, CloudWatch Logs, SNS)\n"
        f"heron:   access key {monitor.credentials.access_key_id}; the secret is in {credentials}\n"
        f"heron:   AWS_SHARED_CREDENTIALS_FILE={credentials} AWS_PROFILE=heron \\\n"
        f"heron:     aws --endpoint-url http://{host}:{mport} cloudwatch list-metrics\n"
        f"heron: data directory   {data_dir}\n"
        f"{notify_banner(settings, monitor)}\n"
        f"heron: {len(settings.functions)} functions; press Ctrl-C to stop",
        file=sys.stderr,
        flush=True,
    )


def notify_banner(settings: ResolvedSettings, monitor: Monitor) -> str:
    """Where alarm notifications go and the commands that show them, for the start-up banner."""
    config = monitor.notifier.config
    routes = []
    for topic in ("alerts", "warnings"):
        route = config.route(topic)
        hours = config.hours.get(route.window) if route.window else None
        when = f" ({route.window} hours: {hours})" if hours else ""
        routes.append(f"{topic} -> {', '.join(route.channels)}{when}")
    # The CLI finds the data directory the same way `heron up` did unless it was given here.
    where = "" if settings.sources["data_dir"] == "default" else f" --data-dir {settings.data_dir}"
    return (
        f"heron: notifications    {'; '.join(routes)}\n"
        f"heron:   heron notify inbox{where}   (what landed in the local inbox, what waits)\n"
        f"heron:   heron notify explain ALARM{where}   (the route one alert took, and why)"
    )
