"""Real servers for the symbol-store tests: elfutils' debuginfod serving a
directory, and a small HTTP server of ours that misbehaves on purpose (slow,
wrong file, truncated, 500) for the faults debuginfod will not produce.

Both run on 127.0.0.1 with a free port and are stopped at the end of their
`with` block, also when the test fails."""
from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from typing import Callable, Dict, Iterator, List

import pytest

DEBUGINFOD = "/usr/bin/debuginfod"


def free_port() -> int:
    """free_port returns a TCP port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need_debuginfod() -> str:
    """need_debuginfod returns the debuginfod executable or skips the test."""
    exe = shutil.which("debuginfod") or (DEBUGINFOD if os.path.exists(DEBUGINFOD) else None)
    if exe is None:
        pytest.skip("debuginfod (Debian package debuginfod, elfutils) is not installed")
    return exe


@contextlib.contextmanager
def debuginfod(directory: str, ids: List[str], workdir: str, wait: float = 90.0) -> Iterator[str]:
    """debuginfod runs `debuginfod -F DIRECTORY` on a free port and yields its
    URL once it serves every build ID in `ids` (its scan is done)."""
    exe = need_debuginfod()
    port = free_port()
    log = open(os.path.join(workdir, f"debuginfod-{port}.log"), "wb")
    proc = subprocess.Popen([exe, "-F", directory, "-p", str(port), "-d",
                             os.path.join(workdir, f"debuginfod-{port}.sqlite")],
                            stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait
        pending = list(ids)
        while pending:
            if proc.poll() is not None:
                raise RuntimeError(f"debuginfod exited with {proc.returncode}; see {log.name}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"debuginfod did not serve {pending} within {wait}s; see {log.name}")
            try:
                with urllib.request.urlopen(f"{url}/buildid/{pending[0]}/executable", timeout=30) as r:
                    r.read()                   # debuginfod answers GET only
                    pending.pop(0)
                    continue
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


class Misbehaving:
    """Misbehaving is an HTTP server whose answer to
    /buildid/HEX/KIND is chosen by `behave(hex, kind) -> (status, body,
    declared length or None, delay seconds)`; `requests` lists the paths asked."""

    def __init__(self, behave: Callable[[str, str], tuple]):
        self.behave = behave
        self.requests: List[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                outer.requests.append(self.path)
                parts = self.path.strip("/").split("/")
                if len(parts) != 3 or parts[0] != "buildid":
                    self.send_error(404)
                    return
                status, body, length, delay = outer.behave(parts[1], parts[2])
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body) if length is None else length))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Misbehaving":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def files_by_id(paths: Dict[str, str]) -> Callable[[str, str], tuple]:
    """files_by_id is a `behave` that serves each file under its ID (404 otherwise)."""
    def behave(hexid: str, kind: str) -> tuple:
        p = paths.get(hexid)
        if p is None or kind != "executable":
            return 404, b"", None, 0
        with open(p, "rb") as f:
            return 200, f.read(), None, 0
    return behave


def down_url() -> str:
    """down_url is the URL of a port nothing listens on."""
    return f"http://127.0.0.1:{free_port()}"


__all__ = ["Misbehaving", "debuginfod", "down_url", "files_by_id", "free_port", "need_debuginfod"]

