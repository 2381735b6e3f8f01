"""Look at a page the way a person does: headless Chromium driven over the DevTools protocol.

Chromium (Debian's ``chromium`` package; ``.ci/run`` installs it) is started with
``--remote-debugging-pipe``: it reads protocol commands from file descriptor 3 and writes
answers and events to descriptor 4, as JSON messages ended by a NUL byte. No websocket, no
port, no extra package. :func:`inspect_page` opens a file, waits for it to load, and returns
what a reader would notice: console errors, images that did not load, requests that left the
machine, and a screenshot.

Also a script, to refresh the screenshot kept in ``docs/``::

    python tests/browser.py REPORT.html docs/report.png [--height 2200]
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: flags that work in a container without a display, GPU, sandbox or network
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio")


def _high(fds: tuple[int, int]) -> tuple[int, int]:
    """The pipe's ends moved above 9, so that putting them on 3 and 4 in the child never
    overwrites one with the other (dup2 onto the same number would also keep close-on-exec)."""
    out = tuple(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in fds)
    for fd in fds:
        os.close(fd)
    return out[0], out[1]


def find_chromium() -> str | None:
    """The Chromium executable, or None when it is not installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageReport:
    """What a reader of the page would notice."""

    title: str
    errors: list[str] = field(default_factory=list)  # console errors, exceptions, failed loads
    images: list[dict[str, Any]] = field(default_factory=list)  # alt, complete, naturalWidth
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    screenshot: bytes = b""
    height: int = 0

    @property
    def broken_images(self) -> list[dict[str, Any]]:
        return [i for i in self.images if not i["complete"] or i["naturalWidth"] <= 0]

    @property
    def network_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(("file:", "data:", "about:"))]


class Chromium:
    """A headless Chromium process and its DevTools pipe."""

    def __init__(self, executable: str, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="allocator-chromium-")
        commands_r, self._commands = _high(os.pipe())  # we write, Chromium reads on fd 3
        self._answers, answers_w = _high(os.pipe())  # Chromium writes on fd 4, we read

        def on_fds_3_and_4() -> None:  # runs in the child, before exec
            os.dup2(commands_r, 3)
            os.dup2(answers_w, 4)

        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-pipe",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
            preexec_fn=on_fds_3_and_4, close_fds=False)
        os.close(commands_r)
        os.close(answers_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None) -> dict[str, Any]:
        """Send a command and wait for its answer (events that arrive meanwhile are kept)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method,
                                   "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._receive()
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for(self, method: str, session: str | None = None) -> dict[str, Any]:
        """Wait for an event (one already received counts)."""
        while True:
            for event in self.events:
                if event.get("method") == method and event.get("sessionId") == session:
                    return event
            self.events.append(self._receive())

    def _receive(self) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._answers], [], [], max(left, 0))
            if not ready:
                raise TimeoutError(f"Chromium did not answer within {self.timeout:.0f} s; its "
                                   f"log: {self.log()[-2000:]}")
            chunk = os.read(self._answers, 1 << 16)
            if not chunk:
                raise RuntimeError(f"Chromium closed the pipe; its log: {self.log()[-2000:]}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def log(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already gone: nothing to close
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._commands, self._answers):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def inspect_page(path: Path, *, width: int = 1280, clip_height: int | None = None,
                 executable: str | None = None) -> PageReport:
    """Open ``path`` in headless Chromium and report what a reader would see.

    The screenshot covers the whole page, or its top ``clip_height`` pixels."""
    exe = executable or find_chromium()
    if exe is None:
        raise FileNotFoundError("Chromium is not installed")
    with Chromium(exe) as browser:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget",
                               {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session=session)
        browser.send("Emulation.setDeviceMetricsOverride",
                     {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False},
                     session=session)
        browser.send("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
        browser.wait_for("Page.loadEventFired", session)
        probe = browser.send("Runtime.evaluate", {
            "expression": "JSON.stringify({title: document.title, images: Array.from("
                          "document.images).map(i => ({alt: i.alt, complete: i.complete, "
                          "naturalWidth: i.naturalWidth}))})",
            "returnByValue": True}, session=session)
        page = json.loads(probe["result"]["value"])
        metrics = browser.send("Page.getLayoutMetrics", session=session)
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        height = int(size["height"])
        clip = {"x": 0, "y": 0, "width": width, "height": min(height, clip_height or height),
                "scale": 1}
        shot = browser.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True, "clip": clip}, session=session)
        report = PageReport(page["title"], images=page["images"],
                            screenshot=base64.b64decode(shot["data"]), height=height)
        for event in browser.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error",
                                                                                 "assert"):
                report.errors.append("console: " + " ".join(
                    str(a.get("value", a.get("description", ""))) for a in params["args"]))
            elif method == "Runtime.exceptionThrown":
                report.errors.append("exception: " + str(
                    params["exceptionDetails"].get("text", params["exceptionDetails"])))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                report.errors.append("log: " + params["entry"]["text"])
            elif method == "Network.requestWillBeSent":
                report.requests.append(params["request"]["url"])
        return report


def main(argv: list[str]) -> int:
    """``python tests/browser.py REPORT.html OUT.png [--height N]``: a screenshot of the top
    of a page (the one kept in docs/)."""
    height = 2200
    if "--height" in argv:
        i = argv.index("--height")
        height = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    page, out = Path(argv[0]), Path(argv[1])
    report = inspect_page(page, clip_height=height)
    out.write_bytes(report.screenshot)
    print(f"{out}: {len(report.screenshot):,} bytes; errors {report.errors}; broken images "
          f"{report.broken_images}")
    return 1 if report.errors or report.broken_images else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
