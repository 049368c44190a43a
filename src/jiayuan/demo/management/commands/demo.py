"""``jiayuan demo [--port N] [--scale street|pudong] [--seed N] [--no-cases]``: a fresh demo.

Settings are already loaded when a management command runs, so every step runs in a child
process with the demo's environment: ``DATABASE_URL`` pointing at a fresh ``var/demo.sqlite3``
and ``JIAYUAN_DEMO=1``. Steps: delete the previous demo database, migrate, generate the district
(and a year of cases unless ``--no-cases``), create the demo log-ins (printed), then start the
worker and serve in the foreground. Ctrl-C (or SIGTERM) stops both children and waits for them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jiayuan.demo.generator.plan import SCALES


def demo_environment(db_path: Path) -> dict[str, str]:
    """The environment of the demo's child processes."""
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": f"sqlite:///{db_path}",
        "JIAYUAN_DEMO": "1",
        "JIAYUAN_VAR_DIR": str(settings.VAR_DIR),
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("JIAYUAN_ENV", None)  # the demo never runs with production settings
    return env


def _stop(proc: subprocess.Popen[bytes] | None, timeout: float = 15.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Command(BaseCommand):
    help = "Start a fresh demo: new SQLite database, generated district, demo log-ins, served."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--scale", choices=SCALES, default="street")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--no-worker", action="store_true", help="do not start the worker")
        parser.add_argument("--no-cases", action="store_true",
                            help="do not generate the year of demo cases")

    def handle(self, *args: Any, host: str, port: int, scale: str, seed: int,
               no_worker: bool, no_cases: bool = False, **options: Any) -> None:
        var = Path(settings.VAR_DIR)
        var.mkdir(parents=True, exist_ok=True)
        db_path = var / "demo.sqlite3"
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        env = demo_environment(db_path)
        base = [sys.executable, "-m", "jiayuan.cli"]
        url = f"http://{host}:{port}/"

        def step(title: str, argv: list[str]) -> None:
            self.stdout.write(self.style.MIGRATE_HEADING(title))
            self.stdout.flush()
            # Our own interpreter and fixed sub-commands: no untrusted input reaches argv.
            if subprocess.run([*base, *argv], env=env, check=False).returncode != 0:  # noqa: S603
                raise CommandError(f"演示启动失败：{title}")

        step("» 建库 / migrating a fresh demo database", ["migrate", "--noinput", "-v0"])
        step(f"» 生成演示区 / generating ({scale}, seed {seed})",
             ["generate", "--scale", scale, "--seed", str(seed),
              *(["--no-cases"] if no_cases else [])])
        step("» 演示账号 / demo log-ins", ["demo_accounts", "--url", url])
        step("» 各模块演示数据 / module demo data", ["demo_modules", "--seed", str(seed)])

        def terminate(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGTERM, terminate)
        worker: subprocess.Popen[bytes] | None = None
        server: subprocess.Popen[bytes] | None = None
        try:
            if not no_worker:
                worker = subprocess.Popen([*base, "worker"], env=env)  # noqa: S603
            server = subprocess.Popen(  # noqa: S603
                [*base, "serve", "--host", host, "--port", str(port)], env=env)
            self.stdout.write(self.style.SUCCESS(
                f"打开 / open {url}  ·  按 Ctrl-C 停止 / Ctrl-C to stop"))
            self.stdout.flush()
            server.wait()
        except KeyboardInterrupt:
            self.stdout.write("\n正在停止 / stopping …")
        finally:
            _stop(server)
            _stop(worker)
            signal.signal(signal.SIGTERM, previous)
