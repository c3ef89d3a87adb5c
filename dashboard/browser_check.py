"""Open every page of the dashboard in a real browser (headless Chromium driven by Playwright),
fail on any error element, time each page and take screenshots.

    python -m dashboard.browser_check --published-dir DIR [--out DIR] [--rounds 2] [--thumb-width 900]

It starts `streamlit run dashboard/app.py` on a free port of 127.0.0.1, waits for the server,
then per page: load the URL, wait until the script has finished (stApp's
``data-test-script-state``) and every chart has drawn, look for exceptions
(``stException``) and error alerts (``stAlertContentError``), and save a screenshot.
Playwright cannot download its own browsers here: it drives the system Chromium
(``/usr/bin/chromium``; env ``CHROMIUM``). The tests (tests/python/test_dashboard_browser.py)
and docs/screenshots/ use it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"
# (url path, file stem) of every page, in the navigation's order
PAGES = (
    ("", "overview"),
    ("cohorts", "cohorts"),
    ("segments", "segments"),
    ("customer", "customer"),
    ("model_quality", "model_quality"),
    ("campaigns", "campaigns"),
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ERROR_SELECTORS = ('[data-testid="stException"]', '[data-testid="stAlertContentError"]')


def chromium_path() -> str | None:
    """The system Chromium, or None when it is not installed."""
    candidate = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return candidate if Path(candidate).is_file() and os.access(candidate, os.X_OK) else None


@dataclass
class PageResult:
    page: str
    url: str
    seconds: float  # navigation start -> the page's final state (script finished, every chart drawn)
    charts: int
    errors: list[str] = field(default_factory=list)
    screenshot: str | None = None
    round: int = 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(published_dir: Path, port: int | None = None, timeout: float = 60.0):
    """`streamlit run` in the background on 127.0.0.1; yields the base URL; stops it after."""
    port = port or free_port()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
        "--",
        "--published-dir",
        str(published_dir),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc, timeout)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_healthy(base: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}: {proc.stdout.read().decode()[-2000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"streamlit did not answer on {base} within {timeout:.0f} s")


_PAGE_STATE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
    return [app ? app.dataset.testScriptState : null,
            document.querySelectorAll('[data-testid="stElementContainer"]').length,
            charts.length, charts.filter(c => c.querySelector('canvas, svg')).length];
}"""
SETTLE_SECONDS = 0.6  # charts mount lazily after the script ends: wait until nothing changes


def _wait_rendered(page, timeout_ms: float) -> tuple[int, float]:
    """Wait until the script has finished and the page has settled (no element added and every
    chart drawn for SETTLE_SECONDS); returns the number of charts and when (time.monotonic())
    the page reached that final state."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        state = page.evaluate(_PAGE_STATE_JS)
        if state != last:
            last, since = state, time.monotonic()
        elif state[0] == "notRunning" and state[2] == state[3] and time.monotonic() - since >= SETTLE_SECONDS:
            return state[2], since
        page.wait_for_timeout(100)
    raise TimeoutError(f"page did not settle within {timeout_ms / 1000:.0f} s (last state {last})")


def _screenshot(page, path: Path, width: int, height: int, timeout_s: float) -> Path:
    """The whole page: Streamlit scrolls inside its main container, so grow the viewport to the
    content's height (capped), let the charts redraw, shoot, and restore the viewport."""
    content = page.evaluate("""() => { const m = document.querySelector('[data-testid="stMain"]');
                                       return m ? m.scrollHeight : document.body.scrollHeight; }""")
    page.set_viewport_size({"width": width, "height": max(height, min(int(content), 8000))})
    _wait_rendered(page, timeout_s * 1000)
    page.wait_for_timeout(500)  # charts resize to the new viewport
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": width, "height": height})
    return path


def _errors(page) -> list[str]:
    found = []
    for selector in ERROR_SELECTORS:
        loc = page.locator(selector)
        found += [f"{selector}: {loc.nth(i).inner_text()[:300]}" for i in range(loc.count())]
    return found


def check_pages(
    base: str,
    out: Path | None,
    *,
    width: int = 1400,
    height: int = 900,
    timeout_s: float = 60.0,
    customer_id: str | None = None,
    rounds: int = 1,
) -> list[PageResult]:
    """Visit every page (the customer page with `customer_id` in its query string), `rounds`
    times in one browser: the first round meets empty query caches, later rounds warm ones.
    Returns every visit; screenshots are taken in the last round."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise FileNotFoundError("Chromium not found (apt-get install chromium, or set CHROMIUM)")
    if out:
        out.mkdir(parents=True, exist_ok=True)
    results = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            for round_ in range(1, rounds + 1):
                for path, stem in PAGES:
                    query = f"?customer={customer_id}" if stem == "customer" and customer_id else ""
                    result = _visit(page, f"{base}/{path}{query}", stem, timeout_s)
                    result.round = round_
                    if out and round_ == rounds:
                        result.screenshot = str(_screenshot(page, out / f"{stem}.png", width, height, timeout_s))
                    results.append(result)
        finally:
            browser.close()
    return results


def _visit(page, url: str, stem: str, timeout_s: float) -> PageResult:
    t0 = time.monotonic()
    page.goto(url, wait_until="domcontentloaded")
    charts, settled_at = _wait_rendered(page, timeout_s * 1000)
    return PageResult(stem, url, round(settled_at - t0, 3), charts, _errors(page))


def sample_customer(published_dir: Path) -> str | None:
    """A customer worth showing: the highest predicted CLV of the current release."""
    import duckdb

    db = Path(os.path.realpath(published_dir / "current")) / "loyalty_marts.duckdb"
    if not db.is_file():
        return None
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(
            "select customer_id from marts.customer_360 order by clv_12m desc, customer_id limit 1"
        ).fetchone()
    finally:
        con.close()
    return row[0] if row else None


def shrink(png: Path, width: int) -> None:
    """Scale a screenshot down to `width` pixels (small files for the README)."""
    from PIL import Image

    with Image.open(png) as img:
        if img.width > width:
            img = img.resize((width, round(img.height * width / img.width)), Image.LANCZOS)
        img.convert("P", palette=Image.ADAPTIVE, colors=128).save(png, optimize=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dashboard.browser_check", description=__doc__.split("\n\n")[0])
    ap.add_argument("--published-dir", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=None, help="screenshot folder")
    ap.add_argument(
        "--customer", default=None, help="customer id for the customer page (default: the highest predicted CLV)"
    )
    ap.add_argument("--width", type=int, default=1400)
    ap.add_argument("--rounds", type=int, default=1, help="visit every page this many times (timing: cold, warm)")
    ap.add_argument("--thumb-width", type=int, default=0, help="scale screenshots down to this width")
    args = ap.parse_args(argv)
    published = args.published_dir.resolve()
    with running_app(published) as base:
        results = check_pages(
            base,
            args.out,
            width=args.width,
            rounds=args.rounds,
            customer_id=args.customer or sample_customer(published),
        )
    if args.thumb_width:
        for r in results:
            if r.screenshot:
                shrink(Path(r.screenshot), args.thumb_width)
    print(json.dumps([asdict(r) for r in results], indent=2))
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
