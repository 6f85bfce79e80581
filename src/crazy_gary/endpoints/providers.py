"""How an endpoint is woken, put to sleep and observed: HF Inference Endpoints,
a local server process, or a bare URL with no lifecycle."""

# ruff: noqa: ASYNC109 - a per-call `timeout=` in seconds is part of the interface

from __future__ import annotations

import asyncio
import logging
import os
import signal
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from huggingface_hub import InferenceEndpoint

log = logging.getLogger(__name__)

STATUSES = ("running", "sleeping", "waking", "stopping", "failed", "unreachable")
HF_STATES = {
    "pending": "waking", "initializing": "waking", "updating": "waking",
    "running": "running", "paused": "sleeping", "scaledToZero": "sleeping",
    "failed": "failed", "updateFailed": "failed",
}


class ProviderError(Exception):
    """A lifecycle operation failed (the message is shown as the endpoint's last error)."""


@dataclass
class Observed:
    status: str
    url: str | None = None
    error: str | None = None


async def probe_models(base_url: str, *, api_key: str | None = None,
                       timeout: float = 3.0) -> bool:
    """True when `GET {base}/models` answers 200."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            resp = await client.get(base_url.rstrip("/") + "/models", headers=headers)
        return resp.status_code == 200
    except httpx.HTTPError:
        return False


class Provider(ABC):
    kind = "none"
    manageable = True

    def __init__(self, base_url: str | None, api_key: str | None) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        self.api_key = api_key

    def call_url(self, observed_url: str | None) -> str | None:
        """The OpenAI base URL model calls go to."""
        return self.base_url

    @abstractmethod
    async def observe(self) -> Observed:
        """See the concrete providers."""

    @abstractmethod
    async def wake(self, timeout: float) -> Observed:
        """See the concrete providers."""

    @abstractmethod
    async def sleep(self, pid: int | None = None) -> None:
        """See the concrete providers."""


class UrlProvider(Provider):
    """A bare OpenAI-compatible URL: always on as far as we are concerned."""

    kind = "url"
    manageable = False

    async def observe(self) -> Observed:
        ok = await probe_models(self.base_url or "", api_key=self.api_key)
        return Observed("running" if ok else "unreachable", url=self.base_url,
                        error=None if ok else "GET /models did not answer")

    # Not manageable: the endpoint manager answers 409 before it would get here.
    async def wake(self, timeout: float) -> Observed:
        raise ProviderError("a plain URL has no lifecycle to wake")

    async def sleep(self, pid: int | None = None) -> None:
        raise ProviderError("a plain URL has no lifecycle to put to sleep")


class HfProvider(Provider):
    """A Hugging Face Inference Endpoint driven through huggingface_hub."""

    kind = "hf"

    def __init__(self, ref: str, *, token: str | None, api_url: str, base_url: str | None,
                 api_key: str | None, poll_seconds: float = 2.0) -> None:
        super().__init__(base_url, api_key)
        # deferred: huggingface_hub is slow to import and only Hugging Face endpoints need it
        from huggingface_hub import HfApi, constants

        self.namespace, _, self.name = ref.partition("/")
        if not self.name:
            raise ValueError(f"HF endpoint must be namespace/name, got {ref!r}")
        # The API base is read at call time from this constant (HF_ENDPOINT does not move it).
        constants.INFERENCE_ENDPOINTS_ENDPOINT = api_url.rstrip("/")
        self.api = HfApi(token=token)
        self.token = token
        self.poll_seconds = poll_seconds
        self._health_route = "/health"

    def call_url(self, observed_url: str | None) -> str | None:
        if self.base_url:
            return self.base_url
        return observed_url.rstrip("/") + "/v1" if observed_url else None

    async def _endpoint(self) -> InferenceEndpoint:
        return await asyncio.to_thread(self.api.get_inference_endpoint, self.name,
                                       namespace=self.namespace)

    async def observe(self) -> Observed:
        try:
            ep = await self._endpoint()
        except Exception as exc:  # noqa: BLE001 - HF errors come in many types
            return Observed("unreachable", error=f"HF API: {exc}")
        self._health_route = ep.health_route or "/health"
        status = HF_STATES.get(str(ep.status), "unreachable")
        error = f"HF endpoint state {ep.status}" if status == "failed" else None
        return Observed(status, url=ep.url, error=error)

    async def _healthy(self, url: str) -> bool:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                resp = await client.get(url.rstrip("/") + "/" + self._health_route.lstrip("/"),
                                        headers=headers)
            return resp.status_code == 200
        except httpx.HTTPError:
            return False

    async def wake(self, timeout: float) -> Observed:
        """Resume, then wait until the endpoint is running and its health route answers."""
        try:
            await asyncio.to_thread(self.api.resume_inference_endpoint, self.name,
                                    namespace=self.namespace, running_ok=True)
        except Exception as exc:  # noqa: BLE001
            raise ProviderError(f"HF resume failed: {exc}") from exc
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            observed = await self.observe()
            if observed.status == "failed":
                raise ProviderError(observed.error or "HF endpoint failed")
            if observed.status == "running" and observed.url and await self._healthy(
                    observed.url):
                return observed
            if loop.time() > deadline:
                raise ProviderError(f"HF endpoint not running after {timeout:.0f}s "
                                    f"(state {observed.status})")
            await asyncio.sleep(self.poll_seconds)

    async def sleep(self, pid: int | None = None) -> None:
        """Pause (not scale-to-zero: a paused endpoint never wakes by surprise)."""
        try:
            await asyncio.to_thread(self.api.pause_inference_endpoint, self.name,
                                    namespace=self.namespace)
        except Exception as exc:  # noqa: BLE001
            raise ProviderError(f"HF pause failed: {exc}") from exc


class ProcessProvider(Provider):
    """A local model server started as a child process group (wake) and stopped (sleep)."""

    kind = "process"

    def __init__(self, command: str, *, base_url: str, api_key: str | None, log_dir: Path,
                 grace_seconds: float = 10.0, name: str = "model",
                 on_exit: Callable[[int], Awaitable[None]] | None = None) -> None:
        super().__init__(base_url, api_key)
        self.command, self.grace, self.name = command, grace_seconds, name
        self.log_path = log_dir / f"endpoint-{name}.log"
        self.on_exit = on_exit
        self.proc: asyncio.subprocess.Process | None = None
        self._stopping = False
        self._monitor: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc and self.proc.returncode is None else None

    def _crashed(self) -> Observed | None:
        if self.proc is not None and self.proc.returncode is not None and not self._stopping:
            return Observed("failed", url=self.base_url,
                            error=f"process exited with code {self.proc.returncode}")
        return None

    async def observe(self) -> Observed:
        if crashed := self._crashed():
            return crashed
        ok = await probe_models(self.base_url or "", api_key=self.api_key)
        if ok:
            return Observed("running", url=self.base_url)
        if crashed := self._crashed():  # it may have been reaped while we probed
            return crashed
        if self.pid is not None:
            return Observed("waking", url=self.base_url)
        return Observed("sleeping", url=self.base_url)

    async def wake(self, timeout: float) -> Observed:
        if await probe_models(self.base_url or "", api_key=self.api_key):
            return Observed("running", url=self.base_url)
        if self.pid is None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            logfile = open(self.log_path, "ab")  # noqa: SIM115, ASYNC230 - handed to the child
            self._stopping = False
            # MODEL_*_COMMAND is the operator's own configuration (environment), never user
            # input, and may use shell syntax; no request can change it. Programs run on a
            # user's files go through heavy/tools/processes.py instead.
            self.proc = await asyncio.create_subprocess_shell(
                self.command, stdout=logfile, stderr=asyncio.subprocess.STDOUT,
                stdin=asyncio.subprocess.DEVNULL, start_new_session=True)
            logfile.close()
            self._monitor = asyncio.get_running_loop().create_task(self._watch(self.proc))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self.proc is not None and self.proc.returncode is not None:
                raise ProviderError(f"process exited with code {self.proc.returncode} "
                                    f"while starting (log: {self.log_path})")
            if await probe_models(self.base_url or "", api_key=self.api_key, timeout=2):
                return Observed("running", url=self.base_url)
            if loop.time() > deadline:
                await self.sleep()
                raise ProviderError(f"process did not answer within {timeout:.0f}s")
            await asyncio.sleep(0.2)

    async def _watch(self, proc: asyncio.subprocess.Process) -> None:
        code = await proc.wait()
        if not self._stopping and self.on_exit is not None and proc is self.proc:
            log.error("model server %s exited unexpectedly with code %s", self.name, code)
            await self.on_exit(code)

    async def sleep(self, pid: int | None = None) -> None:
        """TERM the process group, then KILL after the grace period."""
        self._stopping = True
        proc = self.proc
        target = proc.pid if proc is not None and proc.returncode is None else pid
        if target is None:
            return
        try:
            os.killpg(target, signal.SIGTERM)
        except ProcessLookupError:
            return
        if proc is not None and proc.pid == target:
            try:
                await asyncio.wait_for(proc.wait(), self.grace)
                return
            except TimeoutError:
                pass
        else:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.grace
            while loop.time() < deadline and _alive(target):  # noqa: ASYNC110 - not our child
                await asyncio.sleep(0.1)
            if not _alive(target):
                return
        try:
            os.killpg(target, signal.SIGKILL)
        except ProcessLookupError:
            return
        if proc is not None and proc.pid == target:
            await proc.wait()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
