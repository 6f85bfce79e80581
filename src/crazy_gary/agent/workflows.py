"""The durable workflow that runs one task (the workflow id is the task id)."""

from __future__ import annotations

import logging

from dbos import DBOS

from crazy_gary.agent import loop
from crazy_gary.agent.ports import Failure
from crazy_gary.agent.steps import Started, begin_step, finish_step, task_store
from crazy_gary.tasks.status import TaskStatus

log = logging.getLogger(__name__)


@DBOS.workflow(name="crazy_gary.run_task")
async def run_task(task_id: str) -> loop.Outcome:
    """Run a task to its end: completed, failed (with a code), or cancelled by a stop.

    A retry (`tasks.forks`) runs its original's workflow forked under its own id, with the
    original's input: the task is the workflow's id, and the replayed first step returns
    the original's spec, so the retry's own row is read (and marked running) directly. That
    read is not a step (a step would shift the replayed ones); it is idempotent and the row
    it reads does not change once the retry is created."""
    task_id = DBOS.workflow_id or task_id
    try:  # a failing first read (e.g. a database error) ends the task too
        started = await begin_step(task_id)
        # (a bare spec: recorded by a workflow started before the first step chose the tools)
        spec, toolset = ((started.spec, started.toolset) if isinstance(started, Started)
                         else (started, None))
        if spec is not None and spec.task_id != task_id:
            spec = await task_store().begin(task_id)
        if spec is None:  # stopped before it was dequeued, or unknown
            return loop.Outcome(task_id, "skipped")
        return await loop.run(spec, toolset)
    except Exception as exc:  # a bug must end the task, not leave it running forever
        log.exception("task %s crashed", task_id)
        failure = Failure("INTERNAL_ERROR", f"Agent error: {type(exc).__name__}")
        status = await finish_step(task_id, TaskStatus.FAILED, None, None, failure)
        return loop.Outcome(task_id, status, error=failure)
