"""The executor registry: which processes make up the cluster, and failover between them.

Every process (`serve` and `worker`) registers its executor id on start and beats every few
seconds. Each beat also looks for executors that left (`gone`, unclaimed) or went silent for
`EXECUTOR_DEAD_AFTER_SECONDS`; one conditional UPDATE claims each of them, so exactly one
survivor wins and puts the dead executor's pending durable workflows back on their queues
(`DurableEngine.recover`): they resume from their last checkpoint on whichever live process
dequeues them. A silent executor raises an `executor_lost` alert with an incident.

A beat only succeeds while the row still holds this process's incarnation in state alive or
draining. When it fails the process was declared dead (it was paused or cut off): its call
gate closes (no model or tool call starts again here), it takes no new work, and it stops
itself (SIGTERM); the work was taken over. A process restarted under a fixed executor id
registers a new incarnation and resumes what is still assigned to its id.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dbos import DBOS
from sqlalchemy import or_, select, update

from crazy_gary.config import Settings
from crazy_gary.db import Database, session_scope
from crazy_gary.durable import DurableEngine
from crazy_gary.kit.clock import iso, utcnow
from crazy_gary.kit.dml import rows_changed
from crazy_gary.kit.ids import new_id
from crazy_gary.monitoring import presenters
from crazy_gary.monitoring.models import Alert, Executor, Incident
from crazy_gary.realtime import record

log = logging.getLogger(__name__)

ALIVE, DRAINING, GONE = "alive", "draining", "gone"
MEMBER_STATES = (ALIVE, DRAINING)
TASK_WORKFLOW = "crazy_gary.run_task"
MAX_BEAT_SECONDS = 5.0
SETTLE_SECONDS = 3.0  # after the calls in flight ended, for their workflows to write


@dataclass(frozen=True)
class Takeover:
    executor_id: str
    role: str
    host: str
    pid: int
    last_seen: datetime
    left: bool  # it said it left (drained): no alert
    workflows: int


class ExecutorRegistry:
    """This process's row in `executors`, its heartbeat, and the claim of dead ones."""

    def __init__(self, settings: Settings, database: Database, engine: DurableEngine) -> None:
        self.settings = settings
        self.database = database
        self.engine = engine
        self.executor_id = settings.executor_id
        self.incarnation = uuid.uuid4().hex
        self.role = "serve"
        self.dead_after = settings.executor_dead_after_seconds
        self.beat_seconds = min(MAX_BEAT_SECONDS, self.dead_after / 3)
        self.state = ALIVE
        self.fenced = False
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._beats: threading.Thread | None = None
        self._beats_stop = threading.Event()
        self._lock = threading.Lock()

    async def register(self, role: str) -> None:
        """Join (or rejoin, under a fixed executor id) as a new incarnation."""
        self.role = role
        now = utcnow()
        values: dict[str, Any] = {
            "incarnation": self.incarnation, "role": role, "host": socket.gethostname(),
            "pid": os.getpid(), "version": self.settings.app_version, "state": ALIVE,
            "started_at": now, "last_seen": now, "left_at": None, "claimed_by": None,
            "claimed_at": None}
        async with session_scope(self.database) as session:
            row = await session.get(Executor, self.executor_id)
            if row is None:
                session.add(Executor(executor_id=self.executor_id, **values))
            else:
                for key, value in values.items():
                    setattr(row, key, value)
        gate = self.engine.calls
        gate.lease_seconds = self.dead_after / 2
        gate.confirm = self.beat
        gate.confirmed()

    def start(self) -> None:
        """Beat from now on, on a thread of its own (an event loop busy for a while, e.g.
        while the engine launches, must not make the process look dead); once the engine
        runs, the loop task takes over the executors that left or died at the same pace."""
        if self._task is None:
            self._stopping = asyncio.Event()
            self._beats_stop = threading.Event()
            self._beats = threading.Thread(target=self._beat_forever, daemon=True,
                                           name="executor-heartbeat")
            self._beats.start()
            self._task = asyncio.create_task(self._watch(), name="executor-registry")

    async def stop(self) -> None:
        """Stop beating and watching (leave() does it before marking this executor gone)."""
        self._stopping.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._beats is not None:
            self._beats_stop.set()
            await asyncio.to_thread(self._beats.join)
            self._beats = None

    def _beat_forever(self) -> None:
        while not self._beats_stop.wait(self.beat_seconds):
            try:
                if not self._beat_once():
                    return
            except Exception as exc:
                log.warning("executor heartbeat failed: %s", exc)

    async def _watch(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), self.beat_seconds)
                return
            except TimeoutError:
                pass
            if self.fenced or self.state != ALIVE or not self.engine.launched:
                continue
            try:
                await self.take_over_lost()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("taking over lost executors failed: %s", exc)

    async def beat(self) -> bool:
        """Say this process is still here; False (and stop working) if it was declared dead."""
        return await asyncio.to_thread(self._beat_once)

    def _beat_once(self) -> bool:
        with self._lock:
            if self.fenced:
                return False
            asked_at = time.monotonic()
            with self.database.blocking_engine.begin() as conn:
                changed = conn.execute(update(Executor).where(
                    Executor.executor_id == self.executor_id,
                    Executor.incarnation == self.incarnation,
                    Executor.state.in_(MEMBER_STATES)).values(last_seen=utcnow())).rowcount
            if changed:
                calls = self.engine.calls
                calls.confirmed_at = max(calls.confirmed_at, asked_at)
                return True
            self._fence()
            return False

    def _fence(self) -> None:
        if self.fenced:
            return
        self.fenced = True
        log.error("executor %s was declared dead and its work taken over: stopping",
                  self.executor_id)
        self.engine.calls.fence()
        self.engine.stop_dequeuing()
        os.kill(os.getpid(), signal.SIGTERM)

    async def take_over_lost(self) -> list[Takeover]:
        """Claim every executor that left or went silent, and resume its work here or on
        any live process (one winner per executor: the UPDATE's condition)."""
        cutoff = utcnow() - timedelta(seconds=self.dead_after)
        lost = or_(Executor.state == GONE, Executor.last_seen < cutoff)
        async with session_scope(self.database) as session:
            candidates = list(await session.scalars(select(Executor).where(
                Executor.executor_id != self.executor_id, Executor.claimed_by.is_(None), lost)))
        taken = []
        for row in candidates:
            left = row.state == GONE
            async with session_scope(self.database) as session:
                won = await rows_changed(session, update(Executor).where(
                    Executor.executor_id == row.executor_id,
                    Executor.incarnation == row.incarnation,
                    Executor.claimed_by.is_(None), lost).values(
                        state=GONE, claimed_by=self.executor_id, claimed_at=utcnow(),
                        left_at=row.left_at or utcnow()))
            if not won:
                continue
            workflows = await self.engine.recover([row.executor_id])
            takeover = Takeover(row.executor_id, row.role, row.host, row.pid, row.last_seen,
                                left, workflows)
            log.warning("executor %s %s; %d pending workflows put back on the queues by %s",
                        row.executor_id, "left" if left else "lost", workflows,
                        self.executor_id)
            if not left:
                await self._raise_lost(takeover)
            taken.append(takeover)
        return taken

    async def _raise_lost(self, lost: Takeover) -> None:
        """An `executor_lost` alert and an incident whose timeline says what happened."""
        now = utcnow()
        message = (f"Executor {lost.executor_id} ({lost.role} on {lost.host}, pid {lost.pid}) "
                   f"stopped beating at {iso(lost.last_seen)}; {lost.workflows} unfinished "
                   f"workflows were taken over by {self.executor_id}.")
        async with session_scope(self.database) as session:
            alert = Alert(id=new_id("alert"), rule=f"executor_lost:{lost.executor_id}",
                          type="executor_lost", severity="high", message=message,
                          component="workers", status="active", value=float(lost.workflows),
                          acknowledged=False, created_at=now)
            session.add(alert)
            timeline = [
                _entry(iso(lost.last_seen), "open",
                       f"Executor {lost.executor_id} last beat"),
                _entry(iso(now), "open",
                       f"Declared dead after {self.dead_after:g}s of silence; "
                       f"{lost.workflows} workflows taken over by {self.executor_id}"),
            ]
            incident = Incident(id=new_id("inc"), title=f"Executor {lost.executor_id} lost",
                                description=message, severity="high", status="open",
                                timeline=timeline, created_at=now, updated_at=now)
            session.add(incident)
            await session.flush()
            record(session, "system_alert", {
                "id": alert.id, "type": alert.type, "severity": alert.severity,
                "message": message, "timestamp": iso(now), "component": alert.component,
                "acknowledged": False, "status": "active"})
            record(session, "incident_created", presenters.incident(
                incident, full=False).model_dump(exclude={"timeline"}))

    async def drain(self) -> None:
        """Stop taking work at once: no dequeue, no new model or tool call; say so."""
        if self.state != ALIVE:
            return
        self.state = DRAINING
        self.engine.calls.close()
        self.engine.stop_dequeuing()
        if not self.fenced:
            await self._set_state(DRAINING)

    async def leave(self, grace: float) -> None:
        """Drain, let the calls in flight finish (and be checkpointed) for up to `grace`
        seconds, then mark this executor gone: a survivor resumes the rest at its next beat."""
        await self.drain()
        started = time.monotonic()
        calls = self.engine.calls
        if self.fenced:  # its calls are not its own any more: nothing to wait for
            await self.stop()
            self.state = GONE
            return
        if not await calls.settled(grace):
            log.warning("%d calls still in flight after %gs: they will be sent again by the "
                        "process that resumes their task", calls.in_flight, grace)
        # After its last call a workflow records the outcome (a few writes): let each one
        # reach its next (closed) gate or its end, so the survivor does not do it again.
        left = max(0.0, grace - (time.monotonic() - started))
        tail = time.monotonic() + min(SETTLE_SECONDS, left)
        # polled: the engine's count of running workflows has no event to wait on
        while self.engine.active_workflows() > calls.blocked and time.monotonic() < tail:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        await self.stop()
        if not self.fenced:
            await self._set_state(GONE)
        self.state = GONE

    async def _set_state(self, state: str) -> None:
        async with session_scope(self.database) as session:
            await session.execute(update(Executor).where(
                Executor.executor_id == self.executor_id,
                Executor.incarnation == self.incarnation,
                Executor.state.in_(MEMBER_STATES)).values(
                    state=state, last_seen=utcnow(),
                    left_at=utcnow() if state == GONE else None))


def _entry(timestamp: str, status: str, note: str) -> dict[str, Any]:
    return {"timestamp": timestamp, "status": status, "by": "system", "note": note}


async def cluster_view(database: Database, *, dead_after: float,
                       engine_running: bool = True) -> list[dict[str, Any]]:
    """Every registered process with its state, last beat and running task count (a
    silent member past the dead-after horizon shows as `gone` before it is claimed)."""
    async with session_scope(database) as session:
        rows = list(await session.scalars(
            select(Executor).order_by(Executor.started_at.desc())))
    tasks: Counter[str | None] = Counter()
    if engine_running:
        tasks.update(w.executor_id for w in await DBOS.list_workflows_async(
            status="PENDING", name=TASK_WORKFLOW, load_input=False, load_output=False))
    cutoff = utcnow() - timedelta(seconds=dead_after)
    return [{
        "executor_id": row.executor_id, "role": row.role, "host": row.host, "pid": row.pid,
        "version": row.version,
        "state": GONE if row.state != GONE and row.last_seen < cutoff else row.state,
        "started_at": iso(row.started_at), "last_seen": iso(row.last_seen),
        "left_at": iso(row.left_at) if row.left_at else None,
        "claimed_by": row.claimed_by, "running_tasks": tasks.get(row.executor_id, 0),
    } for row in rows]
