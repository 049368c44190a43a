"""The MQTT ingest worker (``jiayuan ingest``).

paho-mqtt 2.x, MQTT 5, QoS 1, one shared subscription (``$share/<group>/jiayuan/+/devices/+/
readings``) so N workers split one stream. Acknowledgements are MANUAL: a message is acked
(PUBACK) only after the batch holding it has committed, so a worker killed at any moment
leaves its unacknowledged messages in its persistent session (fixed client id per slot,
``clean_start=False``, a session expiry), and the broker delivers them again when the worker
comes back. Writes are idempotent on the reading's key, so a redelivered message is stored
once.

The network loop runs in paho's thread and only appends to a queue; parsing, rules and the
database run in the calling thread, batch by batch (``BATCH_MAX`` messages or ``BATCH_MS``).
"""

from __future__ import annotations

import collections
import datetime as dt
import gc
import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from django.db import DatabaseError, close_old_connections
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from jiayuan.sensors.messages import TOPIC_PREFIX

log = logging.getLogger("jiayuan.sensors.ingest")

RECEIVE_MAXIMUM = 65535
MAX_ATTEMPTS = 5


def topic_filter(district: str = "+") -> str:
    return f"{TOPIC_PREFIX}/{district}/devices/+/readings"


def gateway_filter(district: str = "+") -> str:
    return f"{TOPIC_PREFIX}/{district}/gateways/+/readings"


def shared_filter(group: str = "ingest", district: str = "+") -> str:
    return f"$share/{group}/{topic_filter(district)}"


def shared_gateway_filter(group: str = "ingest", district: str = "+") -> str:
    return f"$share/{group}/{gateway_filter(district)}"


def thread_cpu() -> dict[str, float]:
    """CPU seconds (user + system) of each live thread of this process, by thread name
    (Linux /proc; empty elsewhere): where a worker's time goes (rules and writes in the main
    thread, the network in paho's, cases and checkpoints in their own)."""
    import os
    from pathlib import Path

    try:
        tick = os.sysconf("SC_CLK_TCK")
    except (ValueError, OSError):
        return {}
    out: dict[str, float] = {}
    for t in threading.enumerate():
        if t.native_id is None:
            continue
        try:
            fields = Path(f"/proc/self/task/{t.native_id}/stat").read_text().rsplit(")", 1)[1]
            f = fields.split()
            out[t.name] = out.get(t.name, 0.0) + (int(f[11]) + int(f[12])) / tick
        except (OSError, IndexError, ValueError):
            continue
    return out


def broker_of(url: str) -> tuple[str, int, str | None, str | None]:
    u = urlparse(url if "://" in url else f"mqtt://{url}")
    return u.hostname or "127.0.0.1", u.port or 1883, u.username, u.password


@dataclass
class Stats:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    batches: int = 0
    raised: int = 0
    started: float = field(default_factory=time.monotonic)


class IngestWorker:
    """One ingest process. ``run()`` blocks until ``stop()`` (or SIGTERM via ``serve``)."""

    def __init__(self, url: str, *, slot: int = 0, group: str = "ingest",
                 district: str = "+", batch_max: int = 5000, batch_ms: int = 100,
                 session_expiry_s: int = 3600, tick_every_s: float = 60.0,
                 pipeline: Any = None, client_prefix: str = "jiayuan-ingest") -> None:
        from jiayuan.sensors.pipeline import Pipeline

        self.url = url
        self.filter = shared_filter(group, district)
        self.gateway_filter = shared_gateway_filter(group, district)
        self.client_id = f"{client_prefix}-{group}-{slot}"
        self.batch_max = batch_max
        self.batch_wait = batch_ms / 1000.0
        self.session_expiry_s = session_expiry_s
        self.tick_every_s = tick_every_s
        self.pipeline = pipeline or Pipeline(async_followups=True, checkpoint_s=30.0)
        self.queue: collections.deque[tuple[str, bytes, int, int, int]] = collections.deque()
        self.arrived = threading.Event()
        self.subscribed = threading.Event()
        self.generation = 0  # bumped on each (re)connect: mids of an old session are void
        self._stop = threading.Event()
        self.stats = Stats()
        self.client = self._client()

    # --- MQTT ---------------------------------------------------------------------------------

    def _client(self) -> mqtt.Client:
        c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                        client_id=self.client_id, protocol=MQTTProtocolVersion.MQTTv5,
                        manual_ack=True)
        host, port, user, password = broker_of(self.url)
        if user:
            c.username_pw_set(user, password)
        c.on_connect = self._on_connect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        c.on_disconnect = self._on_disconnect
        c.reconnect_delay_set(0.2, 5)
        self._host, self._port = host, port
        return c

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        if reason.is_failure:
            log.error("ingest %s: broker refused connection: %s", self.client_id, reason)
            return
        self.generation += 1
        log.info("ingest %s connected (session present: %s)", self.client_id,
                 getattr(flags, "session_present", None))
        client.subscribe([(self.filter, SubscribeOptions(qos=1)),
                          (self.gateway_filter, SubscribeOptions(qos=1))])

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any,
                      properties: Any) -> None:
        self.subscribed.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                       properties: Any) -> None:
        if not self._stop.is_set():
            log.warning("ingest %s disconnected: %s", self.client_id, reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.queue.append((msg.topic, msg.payload, msg.mid, msg.qos, self.generation))
        self.arrived.set()

    def connect(self) -> None:
        self.pipeline.warm()
        # The devices, their rule sets and states loaded by warm() live as long as the
        # process: move them out of the collector's sight, and collect the young generation
        # less often (a batch allocates a few hundred thousand short-lived objects; with the
        # default threshold of 700 the collector ran hundreds of times a batch).
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.session_expiry_s
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        self.client.connect(self._host, self._port, keepalive=30, clean_start=False,
                            properties=props)
        self.client.loop_start()

    # --- the loop -----------------------------------------------------------------------------

    def _take_batch(self) -> list[tuple[str, bytes, int, int, int]]:
        if not self.queue:
            self.arrived.wait(0.5)
            self.arrived.clear()
        if not self.queue:
            return []
        deadline = time.monotonic() + self.batch_wait
        while len(self.queue) < self.batch_max and time.monotonic() < deadline:
            time.sleep(0.005)
        batch = []
        q = self.queue
        while q and len(batch) < self.batch_max:
            batch.append(q.popleft())
        return batch

    def run_once(self) -> int:
        """Process one batch (if any); returns its size."""
        batch = self._take_batch()
        if not batch:
            return 0
        messages = [(t, p) for t, p, _, _, _ in batch]
        for attempt in range(MAX_ATTEMPTS):
            try:
                res = self.pipeline.process(messages)
                break
            except DatabaseError:
                # e.g. a deadlock victim, or the database restarting: nothing was stored
                # and nothing acknowledged; the same batch is tried again.
                log.exception("ingest %s: batch of %d failed (attempt %d)", self.client_id,
                              len(batch), attempt + 1)
                close_old_connections()
                time.sleep(min(5.0, 0.2 * 2 ** attempt))
        else:
            res = self._one_by_one(messages)
            if res is None:
                # The database itself is failing: drop the batch WITHOUT acknowledging it;
                # the broker redelivers it when this worker reconnects.
                log.error("ingest %s: database unavailable; reconnecting for redelivery",
                          self.client_id)
                self.client.reconnect()
                return len(batch)
        gen = self.generation
        for _, _, mid, qos, g in batch:
            if qos > 0 and g == gen:  # mids of a previous connection will be redelivered
                self.client.ack(mid, qos)
        s = self.stats
        s.batches += 1
        s.received += res.received
        s.stored += res.stored
        s.duplicates += res.duplicates
        s.rejected += res.rejected
        s.raised += len(res.raised)
        self.pipeline.after_ack()
        return len(batch)

    def _one_by_one(self, messages: list[tuple[str, bytes]]) -> Any:
        """A batch that keeps failing: find the poison message(s) by processing one at a
        time; each one that still fails is kept aside (``storage_failed``) so the stream
        goes on. Returns a combined result, or None if even keeping aside fails."""
        from jiayuan.sensors.pipeline import BatchResult, keep_aside

        total = BatchResult()
        for topic, payload in messages:
            try:
                r = self.pipeline.process([(topic, payload)])
                total.received += r.received
                total.stored += r.stored
                total.duplicates += r.duplicates
                total.rejected += r.rejected
                total.raised.extend(r.raised)
            except DatabaseError as exc:
                close_old_connections()
                try:
                    keep_aside(topic, payload, "storage_failed", str(exc)[:200])
                except DatabaseError:
                    close_old_connections()
                    return None
                total.received += 1
                total.rejected += 1
        return total

    def run(self, *, until: Any = None, timeout_s: float | None = None) -> Stats:
        """Loop until ``stop()``, ``until()`` is true, or ``timeout_s`` passes."""
        end = None if timeout_s is None else time.monotonic() + timeout_s
        next_tick = time.monotonic() + self.tick_every_s
        try:
            while not self._stop.is_set():
                self.run_once()
                self.pipeline.refresh_rules()  # staff rule edits, within seconds
                now_m = time.monotonic()
                if now_m >= next_tick:
                    self.pipeline.tick(dt.datetime.now(dt.UTC))
                    next_tick = now_m + self.tick_every_s
                    self._log_cpu()
                if until is not None and until():
                    break
                if end is not None and now_m >= end:
                    break
        finally:
            self.close()
        return self.stats

    def _log_cpu(self) -> None:
        cpu = thread_cpu()
        if cpu:
            log.info("ingest %s: %d readings stored; CPU by thread: %s", self.client_id,
                     self.stats.stored, ", ".join(f"{name}={sec:.1f}s" for name, sec in
                                                  sorted(cpu.items(), key=lambda x: -x[1])))

    def stop(self) -> None:
        self._stop.set()
        self.arrived.set()

    def close(self) -> None:
        self._log_cpu()  # before the background threads end
        try:
            self.pipeline.checkpoint()
        except Exception:  # noqa: BLE001 - closing must not hide the reason we stop
            log.exception("final checkpoint failed")
        self.pipeline.drain()
        self.client.disconnect()
        self.client.loop_stop()

    def serve(self) -> Stats:
        """Connect, handle SIGTERM/SIGINT gracefully (finish the batch, ack, checkpoint)."""
        def _graceful(signum: int, frame: Any) -> None:
            log.info("ingest %s: signal %s, finishing the batch", self.client_id, signum)
            self.stop()

        signal.signal(signal.SIGTERM, _graceful)
        signal.signal(signal.SIGINT, _graceful)
        self.connect()
        return self.run()
