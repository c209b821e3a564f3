"""Starts one recommendations node: its database schema, the broker on the mesh (mesh.py), and
an HTTP port with /metrics (Prometheus) and /health/live, /health/ready (Kubernetes probes).

Configuration, all from the environment (the same names as the Node services where they meet):
  TRANSPORTER        nats:// URL of the mesh (required)
  NAMESPACE          the mesh's namespace (default: none)
  NODE_ID            this node's id (default: <hostname>-<pid>)
  RECOMMENDATIONS_DATABASE_URL  postgresql:// URL of this service's own database (required)
  METRICS_PORT       the HTTP port (default 3031)
  LOGLEVEL           debug, info, warn, error (default info)
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket

from moleculerpy import ServiceBroker, Settings
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .mesh import join_mesh
from .service import RecommendationsService
from .store import PairStore

LOG_LEVELS = {"debug": "DEBUG", "info": "INFO", "warn": "WARNING", "error": "ERROR"}


def required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise SystemExit(f"recommendations: {name} is required")
    return value


async def serve_http(port: int, ready: asyncio.Event, store: PairStore) -> asyncio.Server:
    """A tiny HTTP/1.0 server: three GET paths, anything else 404."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = (await asyncio.wait_for(reader.readline(), 5)).decode("latin-1").split()
            path = request[1] if len(request) >= 2 else ""
            status, ctype, body = "404 Not Found", "text/plain", b"not found\n"
            if path == "/metrics":
                status, ctype, body = "200 OK", CONTENT_TYPE_LATEST, generate_latest()
            elif path == "/health/live":
                status, ctype, body = "200 OK", "application/json", b'{"status":"ok"}'
            elif path == "/health/ready":
                ok = ready.is_set()
                if ok:
                    try:
                        await store.ping()
                    except Exception:
                        ok = False
                status = "200 OK" if ok else "503 Service Unavailable"
                body = b'{"status":"ok"}' if ok else b'{"status":"unavailable"}'
                ctype = "application/json"
            head = f"HTTP/1.0 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            writer.write(head.encode() + b"\r\n" + body)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, "0.0.0.0", port)


async def run() -> None:
    url = required("TRANSPORTER")
    store = PairStore(required("RECOMMENDATIONS_DATABASE_URL"))
    namespace = os.environ.get("NAMESPACE") or None
    node_id = os.environ.get("NODE_ID") or f"{socket.gethostname()}-{os.getpid()}"
    level = LOG_LEVELS.get(os.environ.get("LOGLEVEL", "info").lower(), "INFO")

    ready = asyncio.Event()
    http = await serve_http(int(os.environ.get("METRICS_PORT", "3031")), ready, store)
    await store.migrate()
    broker = ServiceBroker(
        node_id,
        settings=Settings(
            transporter=url, log_level=level, heartbeat_interval=3, heartbeat_timeout=9
        ),
    )
    join_mesh(broker, url, namespace)
    await broker.register(RecommendationsService(store))
    await broker.start()
    ready.set()
    broker.logger.info(f"recommendations node {node_id} ready, namespace {namespace or '-'}")

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    ready.clear()
    await broker.stop()
    http.close()


if __name__ == "__main__":
    asyncio.run(run())
