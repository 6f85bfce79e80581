"""A served instance for the console and one headless Chromium driving it.

The instance is `crazy-gary serve` in a child process with its own SQLite data dir:
gpt-oss-120b is a Hugging Face endpoint (the emulator, paused, so it can be woken from
the Models page), gpt-oss-20b the scripted stand-in, plus the time and git MCP servers.
The browser is Debian's chromium through chromedriver (Selenium). Without them the browser
tests skip, unless CONSOLE_BROWSER_REQUIRED=1 (set by .ci/run), where they fail instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import httpx
import pytest

from tests.fakes.hf_emulator import HfEmulator
from tests.support import ProcessServer, subprocess_env, unique_email

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
ADMIN_PASSWORD = "Adm1n-console-pw"
PASSWORD = "Passw0rd-console"


def _browser_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).exists() or shutil.which(path)):
            return f"{path} not found (apt-get install chromium chromium-driver)"
    return None


@pytest.fixture(scope="session")
def console_instance(model_standin):
    """(url, hf emulator, endpoint name, data dir, admin email) of a served console."""
    from tests.toolhub.servers import write_session_mcp_config

    emu = HfEmulator().start()
    name = f"gpt-oss-120b-{uuid.uuid4().hex[:6]}"
    emu.add("gary", name, url=model_standin.base, pending_seconds=0.3, initializing_seconds=0.6)
    data_dir = Path(tempfile.mkdtemp(prefix="cg-console-"))
    env = {
        "CRAZY_GARY_DATA_DIR": str(data_dir), "RATE_LIMITS_ENABLED": "false",
        "HUGGINGFACE_API_KEY": "test-hf-key", "ENVIRONMENT": "test",
        "DATABASE_URL": "", "REDIS_URL": "", "QUEUE_POLLING_INTERVAL": "0.1",
        "CRAZY_GARY_EXECUTOR_ID": f"console-{uuid.uuid4().hex[:6]}",
        "MODEL_120B_HF_ENDPOINT": f"gary/{name}", "HF_ENDPOINTS_API_URL": emu.api_url,
        "MODEL_120B_BASE_URL": "", "MODEL_20B_BASE_URL": model_standin.url,
        "TASK_DEFAULT_MODEL": "gpt-oss-20b", "MODEL_RETRY_BACKOFF_SECONDS": "0.05",
        "ENDPOINT_POLL_SECONDS": "0.1", "ENDPOINT_WAKE_TIMEOUT_SECONDS": "30",
        "ENDPOINT_AUTO_SLEEP_SECONDS": "3600",
        # Short-lived access tokens: every test also proves the console renews them.
        "ACCESS_TOKEN_TTL_SECONDS": "20",
        "MCP_CONFIG": str(write_session_mcp_config(data_dir)),
    }
    srv = ProcessServer(env).start()
    admin = unique_email("console-admin")
    subprocess.run([sys.executable, "-m", "crazy_gary", "create-admin", "--email", admin,
                    "--name", "Ada Admin"], check=True, capture_output=True,
                   env=subprocess_env({**env, "CRAZY_GARY_ADMIN_PASSWORD": ADMIN_PASSWORD}))
    yield srv.url, emu, name, data_dir, admin
    srv.stop()
    emu.stop()


@pytest.fixture(scope="session")
def console_url(console_instance) -> str:
    return console_instance[0]


@pytest.fixture(scope="session")
def http(console_url):
    with httpx.Client(base_url=console_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    missing = _browser_missing()
    if missing:
        if os.environ.get("CONSOLE_BROWSER_REQUIRED") == "1":
            pytest.fail(f"browser tests are required here but cannot run: {missing}")
        pytest.skip(f"browser tests need headless Chromium: {missing}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which(CHROMIUM) or CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,800", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which(CHROMEDRIVER) or CHROMEDRIVER),
                              options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def screenshots() -> Path | None:
    """CONSOLE_SCREENSHOTS=docs/console writes the README's screenshots."""
    target = os.environ.get("CONSOLE_SCREENSHOTS")
    if not target:
        return None
    path = Path(target)
    path.mkdir(parents=True, exist_ok=True)
    return path


def auth(http: httpx.Client, who: dict) -> dict[str, str]:
    """Fresh bearer headers (the instance's access tokens live 20 s)."""
    resp = http.post("/api/auth/login", json={"email": who["email"], "password": who["password"]})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def register(http: httpx.Client, name: str = "Casey Console") -> dict:
    email = unique_email("console")
    resp = http.post("/api/auth/register", json={"email": email, "password": PASSWORD,
                                                  "fullName": name})
    assert resp.status_code == 201, resp.text
    return {"id": resp.json()["user"]["id"], "email": email, "password": PASSWORD}


@pytest.fixture(scope="session")
def person(http) -> dict:
    return register(http)


@pytest.fixture(scope="session")
def admin(console_instance) -> dict:
    return {"email": console_instance[4], "password": ADMIN_PASSWORD}
