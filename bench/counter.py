"""Benchmark: one filing at the counter through the browser, as a person does it (run by hand).

    .venv/bin/python bench/counter.py [--runs 5]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/counter.py

The procedure is the birth registration (1.001193), three documents: the declaration (uploaded),
the birth certificate (captured with the camera: Chromium's fake one), and the proxy's written
authorisation (uploaded), filed by a proxy, the owner's identity checked. Two people are timed:

- a new citizen: every field of the owner block and of the form typed;
- a returning citizen (their earlier birth registration at this partner): consent, the CCCD
  typed, "find and prefill"; the owner block and the mother's and father's names come from the
  earlier dossier, the new child's details are typed again.

Counted: the actions a person needs (a click, a choice, a field typed, a file picked), the
characters typed, and each page's server time (the browser's requestStart → responseStart) by
route; p95 per route over every run. The web process is the demo's (one uvicorn), on a scratch
database (SQLite, or PostgreSQL through the app role with RLS on), with the project's own clamd.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import free_port, load_average
from bench.scratch import scratch_database

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync", "--disable-background-networking",
         "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]  # fmt: skip
OWNER = {
    "owner_full_name": "Nguyễn Thị Đo Lường",
    "owner_id_number": "001190077701",
    "owner_birth_date": "03/02/1990",
    "owner_phone": "0912777701",
    "owner_address": "12 Hàng Bài, Hoàn Kiếm, Hà Nội",
}
CHILD = {
    "form.child_full_name": "Trần Minh Đo",
    "form.child_birth_date": "01/12/2026",
    "form.birth_place": "Bệnh viện Bạch Mai",
}
PARENTS = {"form.mother_full_name": "Nguyễn Thị Đo Lường", "form.father_full_name": "Trần Văn Đếm"}
PROXY = {"proxy_full_name": "Lê Văn Thay Mặt", "proxy_id_number": "001080077701", "proxy_phone": "0901777701"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Person:
    """A staff member at the counter: every action counted, every answer of the server timed."""

    def __init__(self, page: Any, timings: dict[str, list[float]]) -> None:
        self.page, self.actions, self.typed = page, 0, 0
        page.on("requestfinished", lambda request: self._timed(request, timings))

    @staticmethod
    def _timed(request: Any, timings: dict[str, list[float]]) -> None:
        timing = request.timing
        if request.resource_type not in ("document", "fetch") or timing["responseStart"] < 0:
            return
        path = UUID.sub("{id}", request.url.split("://", 1)[1].split("/", 1)[1].split("?")[0])
        timings[f"{request.method} /{path}"].append(timing["responseStart"] - timing["requestStart"])

    def type(self, selector: str, text: str) -> None:
        self.actions += 1
        self.typed += len(text)
        self.page.fill(selector, text)

    def choose(self, selector: str, value: str) -> None:
        self.actions += 1
        self.page.select_option(selector, value)

    def click(self, selector: str, *, navigates: bool = False) -> None:
        self.actions += 1
        if navigates:
            with self.page.expect_navigation():
                self.page.click(selector)
        else:
            self.page.click(selector)

    def attach(self, slot: str, data: bytes) -> None:
        """Pick the file (one action) and upload it (one more)."""
        self.actions += 1
        self.page.set_input_files(
            f"[id='file-{slot}']", files=[{"name": f"{slot}.pdf", "mimeType": "application/pdf", "buffer": data}]
        )
        self.click(f"[id='upload-{slot}']", navigates=True)


def file_once(browser: Any, url: str, staff: Any, returning: bool, timings: dict[str, list[float]]) -> tuple[int, int]:
    from playwright.sync_api import expect

    from tests.documents import a_pdf
    from tests.factories import PASSWORD

    context = browser.new_context(
        locale="vi-VN", viewport={"width": 1280, "height": 1000}, base_url=url, permissions=["camera"]
    )
    page = context.new_page()
    page.goto("/login")
    page.fill("#email", staff.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/(dossiers|$)"))
    page.goto("/dossiers/new")
    person = Person(page, timings)
    person.click("a[data-code='1.001193']", navigates=True)
    if returning:
        person.click("#consent")
        person.choose("#consent_given_by", "proxy")
        person.type("#identifier", OWNER["owner_id_number"])
        person.click("#lookup", navigates=True)
        expect(page.locator("#owner_full_name")).to_have_value(OWNER["owner_full_name"])
        for name, value in CHILD.items():  # a new child: typed again over the earlier one's
            person.type(f"[id='{name}']", value)
    else:
        for name, value in OWNER.items():
            person.type(f"#{name}", value)
        for name, value in {**CHILD, **PARENTS}.items():
            person.type(f"[id='{name}']", value)
        person.choose("[id='form.child_sex']", "Nữ")
    person.choose("#identity-owner-kind", "cccd_chip")
    person.type("#identity-owner-number", OWNER["owner_id_number"])
    person.click("#identity-owner-submit", navigates=True)
    person.click("#proxy summary")
    for name, value in PROXY.items():
        person.type(f"#{name}", value)
    person.attach("van-ban-uy-quyen-neu-nop-thay", a_pdf(2))
    person.attach("to-khai-dang-ky-khai-sinh", a_pdf())
    person.click("#camera-giay-chung-sinh")
    expect(page.locator("#camera-shoot")).to_be_enabled()
    person.click("#camera-shoot", navigates=True)
    expect(page.locator("[data-testid='stored-giay-chung-sinh']")).to_have_count(1)
    person.click("#submit-dossier", navigates=True)
    expect(page.get_by_test_id("receipt")).to_be_visible()
    context.close()
    return person.actions, person.typed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5, help="filings of each kind")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="portal-bench-counter-"))
    with ExitStack() as stack:
        env = {"PORTAL_VAR_DIR": str(work / "var"), "CELERY_BROKER_URL": "filesystem://", "LOG_LEVEL": "WARNING"}
        postgres = os.environ.get("DATABASE_URL", "").startswith("postgres")
        if postgres:
            env |= stack.enter_context(scratch_database(os.environ["DATABASE_URL"]))
        else:
            os.environ.pop("DATABASE_URL", None)
        port = free_port()
        env["PORTAL_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        (work / "var").mkdir()
        from portal.scanner_daemon import start_clamd

        clamd = start_clamd(work / "var")
        stack.callback(clamd.stop)
        env["CLAMD_SOCKET"] = str(clamd.socket_path)
        os.environ.update(env)
        from portal.core.migrations import upgrade_database
        from portal.launcher import child_env, kill_group, start_web, wait_for_http
        from tests.factories import create_counter

        upgrade_database()
        _, _, staff = create_counter("Bưu điện Đo lường")
        web = start_web(port, child_env(env), work / "web.log")
        stack.callback(kill_group, web)
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}/healthz", process=web)

        from playwright.sync_api import sync_playwright

        print(
            f"machine: {os.cpu_count()} cores, load before {load_average()}; database: {'PostgreSQL' if postgres else 'SQLite'}"
        )
        results: dict[str, dict[str, Any]] = {}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            file_once(browser, url, staff, False, defaultdict(list))  # warm-up, and the citizen's earlier dossier
            for kind, returning in (("new citizen", False), ("returning citizen", True)):
                timings: dict[str, list[float]] = defaultdict(list)
                counts, started = [], time.perf_counter()
                for _ in range(args.runs):
                    counts.append(file_once(browser, url, staff, returning, timings))
                results[kind] = {
                    "counts": counts,
                    "timings": timings,
                    "seconds": (time.perf_counter() - started) / args.runs,
                }
            browser.close()
        print(f"load after: {load_average()}")
        for kind, result in results.items():
            actions = sorted({a for a, _ in result["counts"]})
            typed = sorted({t for _, t in result["counts"]})
            print(
                f"\n{kind}: {actions} actions, {typed} characters typed, {result['seconds']:.1f} s per scripted filing"
            )
            print(f"  {'route':60} {'n':>4} {'p50 ms':>8} {'p95 ms':>8}")
            for route, samples in sorted(result["timings"].items()):
                p95 = statistics.quantiles(samples, n=20)[-1] if len(samples) >= 2 else samples[0]
                print(f"  {route:60} {len(samples):4} {statistics.median(samples):8.1f} {p95:8.1f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
