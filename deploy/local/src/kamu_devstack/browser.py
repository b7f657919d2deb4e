"""A real headless Chromium for tests and screenshots: Debian's ``chromium`` and
``chromium-driver`` packages, driven by selenium.

``ensure_chromium`` installs the two packages with apt-get when they are missing (``./kamu
test`` calls it before pytest: a missing browser fails the run, it never skips tests).
``chromium`` starts a browser at a laptop or phone viewport; ``full_page_screenshot``,
``boxes`` and ``colour_pixels`` tell whether something was drawn where it should be, and
``console_errors`` what the page complained about. selenium and Pillow are development
dependencies, imported only when a browser is used.
"""

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamu_devstack.errors import InfraError

if TYPE_CHECKING:
    from PIL.Image import Image
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.webdriver import WebDriver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PACKAGES = ("chromium", "chromium-driver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--hide-scrollbars",
    "--force-color-profile=srgb",  # colours in screenshots as the page wrote them
    "--lang=en-GB",
)
INSTALL_HINT = "as root: apt-get update && apt-get install -y --no-install-recommends " + " ".join(
    PACKAGES
)


@dataclass(frozen=True)
class Viewport:
    """CSS pixels at a device scale of 1; ``mobile`` makes the page's meta viewport count."""

    name: str
    width: int
    height: int
    mobile: bool = False


LAPTOP = Viewport("laptop", 1366, 900)
PHONE = Viewport("phone", 390, 844, mobile=True)


@dataclass(frozen=True)
class Box:
    """An element's rectangle in CSS pixels from the top left of the document."""

    left: float
    top: float
    width: float
    height: float


# ---- installing ----------------------------------------------------------------------------


def missing() -> list[Path]:
    """The browser files not on this machine."""
    return [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]


def _as_root() -> list[str] | None:
    """How to run apt-get as root: directly, through password-less sudo, or not at all."""
    if os.geteuid() == 0:
        return []
    sudo = shutil.which("sudo")
    if sudo and subprocess.run([sudo, "-n", "true"], capture_output=True, check=False).returncode:
        return None
    return [sudo, "-n"] if sudo else None


def _known(env: dict[str, str]) -> bool:
    """Whether apt's package lists offer both packages (else they need ``apt-get update``)."""
    out = subprocess.run(
        ["apt-cache", "policy", *PACKAGES], capture_output=True, text=True, check=False, env=env
    ).stdout
    candidates = [ln.split(":", 1)[1].strip() for ln in out.splitlines() if "Candidate:" in ln]
    return len(candidates) == len(PACKAGES) and "(none)" not in candidates


def ensure_chromium(say: Callable[[str], None]) -> None:
    """Install Debian's chromium and chromium-driver if missing; InfraError when impossible."""
    if not missing():
        return
    names = ", ".join(str(p) for p in missing())
    if shutil.which("apt-get") is None:
        raise InfraError(
            f"the browser tests need Chromium and its driver ({names} missing) and this "
            f"machine has no apt-get; install Chromium and chromedriver at {CHROMIUM} and "
            f"{CHROMEDRIVER}"
        )
    root = _as_root()
    if root is None:
        raise InfraError(
            f"the browser tests need Chromium and its driver ({names} missing) and installing "
            f"them needs root; run once {INSTALL_HINT}"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    started = time.monotonic()
    packages = " and ".join(PACKAGES)
    say(f"kamu: installing {packages} for the browser tests (apt-get, about a minute)")

    def update() -> subprocess.CompletedProcess[str]:
        say("kamu: apt-get update (the package lists do not offer them yet)")
        return subprocess.run(
            [*root, "apt-get", "update", "-q"], capture_output=True, text=True, env=env, check=False
        )

    def install() -> subprocess.CompletedProcess[str]:
        argv = [*root, "apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES]
        return subprocess.run(argv, capture_output=True, text=True, env=env, check=False)

    updated = False
    if not _known(env):
        update()
        updated = True
    result = install()
    if result.returncode != 0 and not updated:  # stale lists: files moved on the mirror
        update()
        result = install()
    if result.returncode != 0 or missing():
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-8:])
        raise InfraError(
            f"installing {' '.join(PACKAGES)} failed (apt-get exit {result.returncode}); "
            f"the browser tests cannot run without them. Try {INSTALL_HINT}\n{tail}"
        )
    say(f"kamu: {packages} installed in {time.monotonic() - started:.0f} s")


# ---- driving -------------------------------------------------------------------------------


def chrome_options(user_data_dir: Path, viewport: Viewport = LAPTOP) -> "Options":
    """Headless Chromium with a profile of its own and the browser console recorded."""
    from selenium.webdriver.chrome.options import Options  # a dev dependency

    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={user_data_dir}")
    options.add_argument(f"--window-size={viewport.width},{viewport.height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return options


@contextmanager
def chromium(user_data_dir: Path, viewport: Viewport = LAPTOP) -> Iterator["WebDriver"]:
    """A headless Chromium at ``viewport``, quit on leaving; InfraError if it is not installed."""
    if gone := missing():
        raise InfraError(
            f"{', '.join(map(str, gone))} missing: `./kamu test` installs them, or {INSTALL_HINT}"
        )
    from selenium import webdriver  # a dev dependency
    from selenium.webdriver.chrome.service import Service

    user_data_dir.mkdir(parents=True, exist_ok=True)
    service = Service(
        executable_path=str(CHROMEDRIVER),
        log_output=str(user_data_dir.with_name(f"{user_data_dir.name}-chromedriver.log")),
    )
    driver = webdriver.Chrome(service=service, options=chrome_options(user_data_dir, viewport))
    try:
        set_viewport(driver, viewport)
        yield driver
    finally:
        driver.quit()


def set_viewport(driver: "WebDriver", viewport: Viewport, height: int | None = None) -> None:
    """Emulate ``viewport`` (optionally taller, to capture a whole page at once)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {
            "width": viewport.width,
            "height": height or viewport.height,
            "deviceScaleFactor": 1,
            "mobile": viewport.mobile,
        },
    )


def settle(driver: "WebDriver") -> None:
    """Wait for two animation frames: layout and paint after a change are done."""
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "requestAnimationFrame(() => requestAnimationFrame(() => done(true)));"
    )


def full_page_screenshot(driver: "WebDriver", path: Path, viewport: Viewport) -> "Image":
    """The whole document as one PNG at ``path`` (the viewport stretched to its height)."""
    from PIL import Image  # a dev dependency

    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    set_viewport(driver, viewport, height=max(height, viewport.height))
    settle(driver)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(driver.get_screenshot_as_png())
    finally:
        set_viewport(driver, viewport)
    with Image.open(path) as image:
        return image.convert("RGB")


def boxes(driver: "WebDriver", selector: str, key: str = "id") -> dict[str, Box]:
    """Each element matching ``selector``, by its attribute ``key``, as a document rectangle."""
    found: list[dict[str, Any]] = driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(e => {"
        "  const r = e.getBoundingClientRect();"
        "  return {key: e.getAttribute(arguments[1]) || e.closest('[id]')?.id || '',"
        "          left: r.left + scrollX, top: r.top + scrollY, width: r.width, height: r.height};"
        "});",
        selector,
        key,
    )
    return {f["key"]: Box(f["left"], f["top"], f["width"], f["height"]) for f in found}


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def colour_pixels(image: "Image", box: Box, colour: str, tolerance: int = 16) -> int:
    """How many pixels inside ``box`` have ``colour`` (each channel within ``tolerance``)."""
    left, top = max(0, int(box.left)), max(0, int(box.top))
    right = min(image.width, int(box.left + box.width))
    bottom = min(image.height, int(box.top + box.height))
    if right <= left or bottom <= top:
        return 0
    region = image.crop((left, top, right, bottom))
    colours = region.getcolors(maxcolors=region.width * region.height) or []
    want = _rgb(colour)
    return sum(
        n
        for n, rgb in colours
        if isinstance(rgb, tuple)
        and all(abs(a - b) <= tolerance for a, b in zip(rgb, want, strict=False))
    )


def console_errors(driver: "WebDriver", ignore: Sequence[str] = ()) -> list[str]:
    """The browser console's errors since the last call (selenium drains the log)."""
    entries: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[no-untyped-call]
    return [
        str(e.get("message"))
        for e in entries
        if e.get("level") == "SEVERE" and not any(part in str(e.get("message")) for part in ignore)
    ]


def screenshot_page(url: str, out: Path, viewport: Viewport = LAPTOP, timeout: float = 60) -> None:
    """Open ``url`` (a page that sets ``<body data-state="ready">`` once drawn, as the
    dashboard does) and save the whole page as a PNG at ``out``; InfraError if it never gets
    ready (the page's status line says why) or logs errors."""
    with tempfile.TemporaryDirectory(prefix="kamu-screenshot-") as tmp:
        _screenshot(Path(tmp) / "profile", url, out, viewport, timeout)


def _screenshot(profile: Path, url: str, out: Path, viewport: Viewport, timeout: float) -> None:
    from selenium.common.exceptions import TimeoutException  # a dev dependency
    from selenium.webdriver.support.ui import WebDriverWait

    with chromium(profile, viewport) as driver:
        driver.get(url)
        state = "timeout"
        with contextlib.suppress(TimeoutException):
            WebDriverWait(driver, timeout, poll_frequency=0.2).until(
                lambda d: (
                    d.execute_script("return document.body.dataset.state")
                    in ("ready", "error", "signin")
                )
            )
            state = str(driver.execute_script("return document.body.dataset.state"))
        if state != "ready":
            said = driver.execute_script(
                "return document.getElementById('status')?.textContent || document.title"
            )
            raise InfraError(f"the page did not get ready ({state}): {said}")
        settle(driver)
        full_page_screenshot(driver, out, viewport)
        if errors := console_errors(driver):
            raise InfraError("the page logged errors: " + "; ".join(errors))
