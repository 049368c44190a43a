"""Smoke test of ``jiayuan demo``: it builds a fresh demo, serves /login/, and stops on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
            return int(response.status)
    except OSError:
        return None


@pytest.mark.skipif(sys.platform == "win32", reason="process groups")
def test_demo_serves_the_login_page_then_stops_cleanly_on_ctrl_c(tmp_path: Path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "JIAYUAN_ENV"}}
    env.update({"JIAYUAN_VAR_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"})
    log = (tmp_path / "demo.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jiayuan.cli", "demo", "--port", str(port), "--scale", "street"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/login/"
    try:
        status = None
        for _ in range(480):  # bounded wait: up to about four minutes on a loaded machine
            status = _status(url)
            if status == 200 or proc.poll() is not None:
                break
            time.sleep(0.5)
        output = (tmp_path / "demo.log").read_text(errors="replace")
        assert status == 200, output
        assert "staff" in output and "jiayuan-demo-2026" in output
        assert (tmp_path / "demo.sqlite3").exists()

        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
        assert proc.wait(timeout=60) is not None
        for _ in range(20):
            if _status(url) is None:
                break
            time.sleep(0.5)
        assert _status(url) is None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
