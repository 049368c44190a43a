"""The ingest pipeline: a batch of MQTT messages in, readings, alarms and cases out.

One ``Pipeline`` per worker process. ``process(messages)`` parses every message
(``messages.parse_message``), keeps the refused ones aside (``RejectedMessage``), evaluates
the rules of each device in memory (engine state cached in the process), and writes, in ONE
transaction: the readings (bulk, idempotent on their key), the alarm rows and maintenance
orders of the events, and the rejected messages. Only when that transaction has committed
does the caller acknowledge the messages to the broker. After the commit the follow-ups run:
a raised alarm opens its case (``open_case``, idempotent on the alarm), a cleared one adds a
note to it.

The engine state of the devices is checkpointed (``DeviceState``, plus ``Device.last_heard_at``
and the latest values) every ``checkpoint_s`` seconds and on shutdown, not with every batch:
writing 20,000 JSON states a second would cost more than the readings. A worker that
restarts loads the checkpoint and replays the readings stored after it (``engine.replay``),
so its state is the one it would have had (docs/sensors-ingest.md).

The same ``process`` serves the demo without a broker (``replay_in_process``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from jiayuan.sensors.messages import (
    MalformedMessage,
    Reading,
    is_gateway_topic,
    key_hash,
    parse_gateway_message,
    parse_message,
)
from jiayuan.sensors.models import Device, DeviceState, RejectedMessage
from jiayuan.sensors.models import Reading as ReadingRow
from jiayuan.sensors.rules import engine
from jiayuan.sensors.rules.model import RuleConfigError, RuleSet
from jiayuan.sensors.services.alarms import DeviceRef, FollowUp, follow_up, record_batch

log = logging.getLogger(__name__)

UTC = dt.UTC
REPLAY_LIMIT = 2000  # readings replayed per device after its checkpoint, at most
NEGATIVE_CACHE_S = 30.0


@dataclass(slots=True)
class _Cached:
    ref: DeviceRef
    district: str
    rules: RuleSet | None
    state: engine.DeviceState | None = None


@dataclass
class BatchResult:
    received: int = 0  # readings (a gateway message counts its readings)
    stored: int = 0  # readings newly stored (a redelivered one is not)
    duplicates: int = 0
    rejected: int = 0
    events: int = 0
    raised: list[int] = field(default_factory=list)  # alarm ids
    followups: list[FollowUp] = field(default_factory=list)


class Pipeline:
    def __init__(self, *, checkpoint_s: float = 2.0, clock: Any = None,
                 async_followups: bool = False) -> None:
        self.devices: dict[str, _Cached] = {}
        self.unknown: dict[str, float] = {}  # code → monotonic time of the miss
        self.dirty: set[str] = set()
        self.checkpoint_s = checkpoint_s
        self.last_checkpoint = time.monotonic()
        self.clock = clock or (lambda: dt.datetime.now(UTC))
        self.is_pg = connection.vendor == "postgresql"
        self._rule_sets: dict[str, RuleSet | None] = {}
        # Opening cases is slow next to storing readings, and a checkpoint of 10,000 states
        # takes a second or two: the worker does each in a thread of its own (own DB
        # connection), so neither holds up the stream, and a checkpoint never delays a case.
        self._fq: queue.Queue[list[FollowUp] | None] | None = None  # cases and notes
        self._cq: queue.Queue[Callable[[], Any] | None] | None = None  # checkpoints
        self._threads: list[threading.Thread] = []
        if async_followups:
            self._fq, self._cq = queue.Queue(), queue.Queue()
            for name, target, q in (
                    ("sensors-followups", self._followups, self._fq),
                    ("sensors-checkpoints", self._background, self._cq)):
                t = threading.Thread(target=target, args=(q,), daemon=True, name=name)
                t.start()
                self._threads.append(t)

    @staticmethod
    def _background(q: queue.Queue[Callable[[], Any] | None]) -> None:
        try:
            while True:
                job = q.get()
                if job is None:
                    return
                try:
                    job()
                except Exception:  # noqa: BLE001 - logged; reconcile and replay recover
                    log.exception("sensors background job failed")
        finally:
            connection.close()

    @staticmethod
    def _followups(q: queue.Queue[list[FollowUp] | None]) -> None:
        """The follow-up thread: everything queued meanwhile (the follow-ups of several
        batches) is done in one ``follow_up`` call, so their alarms are read together and
        their cases opened together."""
        try:
            done = False
            while not done:
                item = q.get()
                if item is None:
                    return
                work = list(item)
                while True:
                    try:
                        more = q.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        done = True
                        break
                    work.extend(more)
                try:
                    follow_up(work)
                except Exception:  # noqa: BLE001 - logged; reconcile recovers
                    log.exception("sensors follow-ups failed")
        finally:
            connection.close()

    def _dispatch(self, followups: list[FollowUp]) -> None:
        if not followups:
            return
        if self._fq is not None:
            self._fq.put(list(followups))
        else:
            follow_up(followups)

    def drain(self, timeout: float = 60.0) -> None:
        """Wait for the queued follow-ups (cases to open) and checkpoints before the process
        exits."""
        for q in (self._fq, self._cq):
            if q is not None:
                q.put(None)
        for t in self._threads:
            t.join(timeout)
        self._fq = self._cq = None
        self._threads = []

    def _rules_of(self, d: Device) -> RuleSet | None:
        from jiayuan.sensors.services.devices import rules_of

        key = orjson.dumps([d.kind, d.overrides, d.expected_interval_s,
                            d.maintenance_windows], option=orjson.OPT_SORT_KEYS).decode()
        if key not in self._rule_sets:
            self._rule_sets[key] = rules_of(d)
        return self._rule_sets[key]

    # --- devices and state ------------------------------------------------------------------

    def _load_devices(self, codes: Iterable[str]) -> None:
        now_m = time.monotonic()
        wanted = [c for c in codes if c not in self.devices
                  and now_m - self.unknown.get(c, -1e9) > NEGATIVE_CACHE_S]
        if not wanted:
            return
        found = Device.objects.filter(code__in=wanted, active=True).only(
            "id", "code", "kind", "path", "owner_unit", "district_code", "overrides",
            "expected_interval_s", "maintenance_windows")
        new: list[_Cached] = []
        for d in found:
            try:
                rules = self._rules_of(d)
            except (RuleConfigError, Exception):  # noqa: BLE001 - a bad row must not stop ingest
                log.exception("device %s has an unusable rule configuration", d.code)
                rules = None
            c = _Cached(DeviceRef(d.pk, d.code, d.kind, d.path, d.owner_unit),
                        d.district_code, rules)
            self.devices[d.code] = c
            new.append(c)
        for code in wanted:
            if code not in self.devices:
                self.unknown[code] = now_m
            else:
                self.unknown.pop(code, None)
        self._load_states(new)

    def _load_states(self, cached: list[_Cached]) -> None:
        """Checkpoint + replay of the readings stored after it."""
        if not cached:
            return
        by_id = {c.ref.id: c for c in cached}
        saved = dict(DeviceState.objects.filter(device_id__in=list(by_id)).values_list(
            "device_id", "data"))
        since: dict[int, dt.datetime | None] = {}
        for dev_id, c in by_id.items():
            data = saved.get(dev_id)
            if data:
                try:
                    c.state = engine.state_from_dict(data)
                except (KeyError, TypeError, ValueError):
                    c.state = None
            if c.state is None:
                c.state = engine.new_state(c.ref.code)
            last = c.state.last_ts
            since[dev_id] = dt.datetime.fromtimestamp(last, UTC) if last else None
        floor = self.clock() - dt.timedelta(days=1)
        ids = list(by_id)
        rows = ReadingRow.objects.filter(device_id__in=ids, at__gte=floor).order_by(
            "at", "id").values_list("device_id", "at", "key", "metrics")
        replayed: dict[int, int] = {}
        for dev_id, at, key, metrics in rows.iterator(chunk_size=5000):
            c = by_id[dev_id]
            s = since.get(dev_id)
            if (s is not None and at < s) or c.rules is None:
                continue
            if replayed.get(dev_id, 0) >= REPLAY_LIMIT:
                continue
            replayed[dev_id] = replayed.get(dev_id, 0) + 1
            r = Reading(district=c.district, device_code=c.ref.code, message_id=None, ts=at,
                        metrics=metrics, key=key)
            assert c.state is not None
            c.state, _ = engine.evaluate(c.state, r, c.rules, at)

    def warm(self) -> int:
        """Load every active device (and its state) before the first message: a worker
        starting under a full stream must not spend its first batch on 10,000 lookups."""
        codes = list(Device.objects.filter(active=True).values_list("code", flat=True))
        for i in range(0, len(codes), 5000):
            self._load_devices(codes[i:i + 5000])
        # The first alarm would otherwise import the case services, and with them the case
        # routing's classifier stack (scikit-learn, SciPy): seconds of CPU in the middle of
        # the stream, and the first case late.
        import jiayuan.cases.services.notes  # noqa: F401
        import jiayuan.cases.services.routing  # noqa: F401
        import jiayuan.sensors.services.categories  # noqa: F401
        return len(self.devices)

    # --- the batch ----------------------------------------------------------------------------

    def process(self, messages: Sequence[tuple[str, bytes]],
                now: dt.datetime | None = None) -> BatchResult:
        """Parse, evaluate and store one batch in one transaction; run the follow-ups after
        the commit. Never raises for a bad message."""
        now = now or self.clock()
        res = BatchResult(received=len(messages))
        parsed: list[Reading] = []
        rejects: dict[str, tuple[str, bytes, str, str, str, int]] = {}

        def reject(topic: str, payload: bytes, reason: str, message: str, code: str) -> None:
            digest = hashlib.sha256(topic.encode() + b"\0" + payload + b"\0" +
                                    reason.encode()).hexdigest()
            prev = rejects.get(digest)
            rejects[digest] = (topic, payload, reason, message, code,
                               (prev[5] if prev else 0) + 1)
            res.rejected += 1

        for topic, payload in messages:
            try:
                if is_gateway_topic(topic):
                    readings, refused = parse_gateway_message(topic, payload, now=now,
                                                              loads=orjson.loads)
                    parsed.extend(readings)
                    res.received += len(readings) + len(refused) - 1
                    for _, item, exc in refused:
                        code = item.get("device") if isinstance(item, dict) else ""
                        reject(topic, orjson.dumps(item)[:4096], exc.reason, exc.message,
                               code[:64] if isinstance(code, str) else "")
                else:
                    parsed.append(parse_message(topic, payload, now=now))
            except MalformedMessage as exc:
                code = topic.split("/")[3] if topic.count("/") == 4 else ""
                reject(topic, payload, exc.reason, exc.message, code[:64])
        self._load_devices({r.device_code for r in parsed})
        rows: list[tuple[int, float, int, str, bytes]] = []
        per_device_events: list[tuple[_Cached, list[Any]]] = []
        devices = self.devices
        dirty = self.dirty
        before: dict[str, engine.DeviceState | None] = {}  # to undo on a failed commit
        evaluate = engine.evaluate
        dumps = orjson.dumps
        for r in parsed:
            code = r.device_code
            c = devices.get(code)
            if c is None:
                reject(topic_of(r), _payload_of(r), "unknown_device",
                       f"未登记的设备 {code}", code)
                continue
            if c.district != r.district:
                reject(topic_of(r), _payload_of(r), "district_mismatch",
                       f"设备 {code} 不属于区划 {r.district}", code)
                continue
            metrics = r.metrics
            if r.battery is not None or r.rssi is not None:
                metrics = dict(metrics)
                if r.battery is not None:
                    metrics["battery"] = r.battery
                if r.rssi is not None:
                    metrics["rssi"] = r.rssi
            key = r.key
            rows.append((c.ref.id, r.epoch, key_hash(key), key, dumps(metrics)))
            if c.rules is None or c.state is None:
                continue
            if code not in before:
                before[code] = c.state
            c.state, events = evaluate(c.state, r, c.rules, now)
            dirty.add(code)
            if events:
                per_device_events.append((c, events))
                res.events += len(events)
        # Same lock order in every worker (by device id): two workers writing alarms of the
        # same devices (Mosquitto spreads a shared subscription round-robin) do not deadlock.
        per_device_events.sort(key=lambda item: item[0].ref.id)
        try:
            with transaction.atomic():
                res.stored = self._insert_readings(rows, now)
                res.duplicates = len(rows) - res.stored
                if per_device_events:
                    res.followups.extend(record_batch(_alarm_items(per_device_events)))
                if rejects:
                    self._store_rejects(rejects, now)
        except Exception:
            # Nothing was stored: put the engine back as it was, so the caller can run the
            # same batch again (it is not acknowledged) and get the same events.
            for code, state in before.items():
                devices[code].state = state
            raise
        res.raised = [f.alarm_id for f in res.followups if f.action == "open"]
        self._dispatch(res.followups)
        return res

    def after_ack(self) -> None:
        """Called by the worker after acknowledging a batch: checkpoint when due."""
        if time.monotonic() - self.last_checkpoint >= self.checkpoint_s:
            self.checkpoint()

    def tick(self, now: dt.datetime | None = None) -> list[FollowUp]:
        """Run ``engine.tick`` over the cached devices (absence, persistence reached between
        readings, held clears); store the resulting alarms and run their follow-ups."""
        now = now or self.clock()
        pending: list[tuple[_Cached, list[Any]]] = []
        for code, c in self.devices.items():
            if c.rules is None or c.state is None:
                continue
            c.state, events = engine.tick(c.state, c.rules, now)
            events = [e for e in events if e.rule_id != "health.silence"]
            if events:
                pending.append((c, events))
                self.dirty.add(code)
        followups: list[FollowUp] = []
        if pending:
            with transaction.atomic():
                followups.extend(record_batch(_alarm_items(pending)))
            self._dispatch(followups)
        return followups

    # Live rule edits (services.rule_config): the last rules version seen, and when it was read.
    _rules_seen: tuple[int, int] | None = None
    _rules_read_at: float = float("-inf")

    def refresh_rules(self, every_s: float = 5.0) -> bool:
        """Pick up staff edits of the rules without a restart. At most every ``every_s``
        seconds, read the rules version (one aggregate); when it changed (or on the first
        call), re-derive the rule set of every cached device and keep its engine state.
        Returns whether the rules were re-derived."""
        from jiayuan.sensors.services.rule_config import rule_sets_by_code, rules_version

        now_m = time.monotonic()
        if now_m - self._rules_read_at < every_s:
            return False
        self._rules_read_at = now_m
        version = rules_version()
        if version == self._rules_seen:
            return False
        self._rules_seen = version
        self._rule_sets.clear()
        for code, rules in rule_sets_by_code(list(self.devices)).items():
            self.devices[code].rules = rules
        return True

    # --- writes -------------------------------------------------------------------------------

    def _insert_readings(self, rows: list[tuple[int, float, int, str, bytes]],
                         now: dt.datetime) -> int:
        """Store the rows (device id, epoch seconds, key hash, key, metrics JSON); a row
        already stored (same device, time and key hash) is skipped. Returns how many were
        new. PostgreSQL: the batch as one text buffer COPY'd straight into the table, inside
        a savepoint; when a row is already there (a QoS 1 redelivery: rare), the savepoint is
        rolled back and the same buffer goes into a temporary table, then one INSERT …
        SELECT … ON CONFLICT DO NOTHING."""
        if not rows:
            return 0
        if self.is_pg:
            received = now.astimezone(UTC).isoformat(sep=" ")
            buf = "".join([
                f"{dev_id}\t{pg_time(epoch)}\t{h}\t{_copy_text(key)}\t"
                f"{_copy_text(metrics.decode())}\t{received}\n"
                for dev_id, epoch, h, key, metrics in rows])
            columns = "(device_id, at, h, key, metrics, received_at)"
            try:
                with transaction.atomic(), connection.cursor() as cur, \
                        connection.wrap_database_errors, \
                        cur.cursor.copy(f"COPY sensors_reading {columns} FROM STDIN") as cp:
                    cp.write(buf)
                return len(rows)
            except IntegrityError:
                pass  # some are stored already: keep the others only
            with connection.cursor() as cur:
                raw = cur.cursor  # the psycopg cursor under Django's wrapper
                _copy_to_temp(raw, "sensors_reading_again",
                              "device_id bigint, at timestamptz, h bigint, key text, "
                              "metrics jsonb, received_at timestamptz", columns, buf)
                raw.execute(
                    "INSERT INTO sensors_reading (device_id, at, h, key, metrics, received_at) "
                    "SELECT device_id, at, h, key, metrics, received_at "
                    "FROM sensors_reading_again ON CONFLICT (device_id, at, h) DO NOTHING")
                return int(raw.rowcount)
        with connection.cursor() as cur:
            cur.executemany(
                "INSERT INTO sensors_reading (device_id, at, h, key, metrics, received_at) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (device_id, at, h) DO NOTHING",
                [(dev_id, dt.datetime.fromtimestamp(epoch, UTC), h, key, metrics.decode(), now)
                 for dev_id, epoch, h, key, metrics in rows])
            return int(cur.rowcount)

    def _store_rejects(self, rejects: dict[str, tuple[str, bytes, str, str, str, int]],
                       now: dt.datetime) -> None:
        existing = {r.digest: r for r in RejectedMessage.objects.filter(digest__in=list(rejects))}
        new = []
        for digest, (topic, payload, reason, message, code, count) in rejects.items():
            row = existing.get(digest)
            if row is not None:
                RejectedMessage.objects.filter(pk=row.pk).update(
                    count=row.count + count, last_at=now)
                continue
            new.append(RejectedMessage(
                digest=digest, topic=_text(topic)[:255],
                payload=_text(payload[:4096].decode("utf-8", "replace")), reason=reason,
                message=_text(message)[:255], device_code=_text(code)[:64], first_at=now,
                last_at=now, count=count))
        RejectedMessage.objects.bulk_create(new, ignore_conflicts=True)

    def checkpoint(self) -> int:
        """Persist the engine state, last-heard time, faults and latest values of the devices
        touched since the last checkpoint. States are immutable values (the engine returns
        new ones), so the worker hands a snapshot to its background thread and goes on."""
        self.last_checkpoint = time.monotonic()
        codes, self.dirty = self.dirty, set()
        items = [(c.ref.id, c.state) for c in (self.devices.get(code) for code in codes)
                 if c is not None and c.state is not None]
        if not items:
            return 0
        if self._cq is not None:
            self._cq.put(lambda: self._write_checkpoint(items))
        else:
            self._write_checkpoint(items)
        return len(items)

    def _write_checkpoint(self, items: list[tuple[int, engine.DeviceState]]) -> None:
        # Two workers may checkpoint the same devices (Mosquitto spreads a shared
        # subscription round-robin): same lock order (by id), and retry a deadlock victim.
        items = sorted(items, key=lambda x: x[0])
        for attempt in range(3):
            try:
                self._write_checkpoint_once(items)
                return
            except OperationalError:
                if attempt == 2:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def _write_checkpoint_once(self, items: list[tuple[int, engine.DeviceState]]) -> None:
        now = timezone.now()
        dumps = orjson.dumps
        if self.is_pg:
            # One COPY (text format, one buffer) into a temporary table, then one upsert of
            # the states and one update of the devices: no per-value quoting in Python.
            null = "\\N"
            buf = "".join([
                f"{dev_id}\t{_copy_text(dumps(engine.state_to_dict(s)).decode())}\t"
                f"{pg_time(s.last_heard) if s.last_heard else null}\t"
                f"{_copy_text(dumps(list(s.faults)).decode())}\t"
                f"{_copy_text(dumps(s.values).decode())}\n"
                for dev_id, s in items])
            with transaction.atomic(), connection.cursor() as cur:
                raw = cur.cursor  # the psycopg cursor under Django's wrapper
                _copy_to_temp(raw, "sensors_checkpoint_batch",
                              "device_id bigint, data jsonb, heard timestamptz, faults jsonb, "
                              "metrics jsonb", "(device_id, data, heard, faults, metrics)", buf)
                raw.execute(
                    "INSERT INTO sensors_devicestate (device_id, data, updated_at) "
                    "SELECT device_id, data, %s FROM sensors_checkpoint_batch "
                    "ORDER BY device_id ON CONFLICT (device_id) DO UPDATE "
                    "SET data = EXCLUDED.data, updated_at = EXCLUDED.updated_at", [now])
                raw.execute(
                    "UPDATE sensors_device AS d SET last_heard_at = b.heard, faults = b.faults, "
                    "last_metrics = b.metrics FROM sensors_checkpoint_batch AS b "
                    "WHERE d.id = b.device_id "
                    "AND (d.last_heard_at IS NULL OR b.heard >= d.last_heard_at)")
            return
        states, heard = [], []
        for dev_id, s in items:
            states.append((dev_id, dumps(engine.state_to_dict(s)).decode()))
            at = dt.datetime.fromtimestamp(s.last_heard, UTC) if s.last_heard else None
            heard.append((dev_id, at, dumps(list(s.faults)).decode(), dumps(s.values).decode()))
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(
                "INSERT INTO sensors_devicestate (device_id, data, updated_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (device_id) DO UPDATE SET data = excluded.data, "
                "updated_at = excluded.updated_at",
                [(i, d, now) for i, d in states])
            cur.executemany(
                "UPDATE sensors_device SET last_heard_at = %s, faults = %s, last_metrics = %s "
                "WHERE id = %s", [(h[1], h[2], h[3], h[0]) for h in heard])


def _alarm_items(per_device: list[tuple[Any, list[Any]]]
                 ) -> list[tuple[DeviceRef, list[Any], tuple[str, ...]]]:
    """(device, its alarm events, its faults left) of each device, for ``record_batch``."""
    return [(c.ref, events, c.state.faults if c.state else ()) for c, events in per_device]


def _copy_to_temp(raw: Any, table: str, definition: str, columns: str, buf: str) -> None:
    """COPY the text rows ``buf`` into the temporary ``table`` (made if needed, emptied at
    each commit, and emptied now too, for a caller's enclosing transaction)."""
    raw.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({definition}) ON COMMIT DELETE ROWS")
    raw.execute(f"DELETE FROM {table}")  # noqa: S608 - our own table name
    with raw.copy(f"COPY {table} {columns} FROM STDIN") as cp:
        cp.write(buf)


_PG_EPOCH_S = 946_684_800  # 2000-01-01T00:00:00Z, PostgreSQL's epoch, in Unix seconds
_SECOND_TEXT: dict[int, str] = {}


def pg_time(epoch: float) -> str:
    """Epoch seconds as PostgreSQL timestamptz text, to the microsecond PostgreSQL's own
    ``to_timestamp(epoch)`` gives (it counts from its 2000 epoch and rounds half to even,
    as ``round`` does): a reading stored either way has the same time, so a redelivery is
    recognised. The seconds' text is cached: a batch's readings share few seconds."""
    us = round((epoch - _PG_EPOCH_S) * 1e6) + _PG_EPOCH_S * 1_000_000
    sec, frac = divmod(us, 1_000_000)
    text = _SECOND_TEXT.get(sec)
    if text is None:
        if len(_SECOND_TEXT) > 100_000:
            _SECOND_TEXT.clear()
        text = _SECOND_TEXT[sec] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(sec))
    return f"{text}.{frac:06d}+00"


def _copy_text(value: str) -> str:
    """A value for COPY's text format: backslash, tab, newline and carriage return escaped
    (a message id may hold a backslash; the metrics JSON holds none of these)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                .replace("\r", "\\r"))
    return value


def _text(value: str) -> str:
    """Text PostgreSQL can store: no NUL characters (a hostile payload may carry them)."""
    return value.replace("\x00", "\\u0000")


def keep_aside(topic: str, payload: bytes, reason: str, message: str,
               now: dt.datetime | None = None) -> None:
    """Store one message that could not be processed (e.g. it keeps failing to store)."""
    now = now or timezone.now()
    digest = hashlib.sha256(topic.encode() + b"\0" + payload + b"\0" +
                            reason.encode()).hexdigest()
    with transaction.atomic():
        row = RejectedMessage.objects.select_for_update().filter(digest=digest).first()
        if row is not None:
            RejectedMessage.objects.filter(pk=row.pk).update(count=row.count + 1, last_at=now)
            return
        RejectedMessage.objects.create(
            digest=digest, topic=_text(topic)[:255],
            payload=_text(payload[:4096].decode("utf-8", "replace")), reason=reason,
            message=_text(message)[:255], first_at=now, last_at=now)


def topic_of(r: Reading) -> str:
    from jiayuan.sensors.messages import topic_for

    return topic_for(r.district, r.device_code)


def _payload_of(r: Reading) -> bytes:
    from jiayuan.sensors.messages import encode_payload

    return encode_payload(r)


def replay_in_process(messages: Iterable[tuple[str, bytes]], *, batch: int = 1000,
                      pipeline: Pipeline | None = None) -> BatchResult:
    """No broker: push messages through the same pipeline in process (demo, tests)."""
    p = pipeline or Pipeline()
    total = BatchResult()
    chunk: list[tuple[str, bytes]] = []

    def flush() -> None:
        r = p.process(chunk)
        total.received += r.received
        total.stored += r.stored
        total.duplicates += r.duplicates
        total.rejected += r.rejected
        total.events += r.events
        total.raised.extend(r.raised)
        total.followups.extend(r.followups)
        chunk.clear()

    for m in messages:
        chunk.append(m)
        if len(chunk) >= batch:
            flush()
    if chunk:
        flush()
    p.checkpoint()
    return total
