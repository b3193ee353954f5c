"""A local HTTP stub of the Kubernetes API serving recorded responses (no cluster here).

Responses have the API server's shapes: an object as JSON on 200, and on errors a `Status`
object (kind Status, reason, code) as `kubectl get -v8` shows them. Only GET is served; every
request is recorded so tests can assert what was read."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml


def status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code}


def secret(namespace: str, name: str, keys: list[str]) -> dict[str, Any]:
    return {
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": namespace, "resourceVersion": "1"},
        "type": "Opaque",
        "data": {key: "" for key in keys},
    }


@contextmanager
def kube_api(routes: dict[str, tuple[int, dict[str, Any]]], kubeconfig: Path, context: str) -> Iterator[list[str]]:
    """Serve `routes` (path -> (code, body)) on 127.0.0.1; write a kubeconfig for `context`."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's method name)
            path = self.path.split("?")[0]
            seen.append(path)
            code, body = routes.get(path, (404, status(404, "NotFound", f"the server could not find the requested resource {path}")))
            payload = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "stub", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
                "users": [{"name": "stub", "user": {"token": "stub-token"}}],
                "contexts": [{"name": context, "context": {"cluster": "stub", "user": "stub"}}],
                "current-context": context,
            }
        )
    )
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()
