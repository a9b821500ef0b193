"""Real-browser tests: Playwright driving Debian's Chromium against a live server."""

from __future__ import annotations

import os
import threading
import time

import pytest

from monitoring import cycles, store
from monitoring.probe import Level
from tests.monitoring.factories import result

# Playwright's sync API runs an event loop in this thread; the ORM calls in these tests are
# plain synchronous setup, not async code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert errors == [], errors


def _log_in(page, persona, password) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", persona.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def test_it_shows_a_broker_only_their_partners(page, world) -> None:
    _log_in(page, world.personas.bob, world.personas.password)
    page.wait_for_url("**/partners/")
    assert page.locator("h1").inner_text() == "My partners"
    assert page.locator("table.partners").inner_text().count("Charlie Insurance") == 1
    assert "Delta Insurance" not in page.content()


def test_it_opens_a_pair_panel_without_a_page_load(page, world) -> None:
    _log_in(page, world.personas.alice, world.personas.password)
    page.wait_for_url("**/partners/")
    page.goto("/matrix/")
    page.evaluate("window.__same_page = true")
    page.click("td.cell a")
    page.wait_for_selector("#pair-panel .pair")
    assert "b: TLS if available" in page.locator("#pair-panel").inner_text()
    assert page.evaluate("window.__same_page") is True  # no full page load happened
    assert page.url.endswith("/matrix/alpha-brokers/charlie-insurance/")


def test_it_shows_probe_progress_until_done(page, world, monkeypatch) -> None:
    from monitoring import tasks

    def worker(cycle_id: int, domain_ids: list[int]) -> None:
        # Stands in for a Celery worker: stores a result a moment later.
        def run() -> None:
            time.sleep(1.5)
            from monitoring.models import ProbeCycle

            cycle = ProbeCycle.objects.get(pk=cycle_id)
            store.domain_results_store(
                cycle=cycle,
                results=[result("alpha.example", Level.ENCRYPTED)],
                domain_ids=domain_ids,
            )
            cycles.cycle_finish_if_done(cycle_id=cycle_id)

        threading.Thread(target=run, daemon=True).start()

    monkeypatch.setattr(tasks.probe_batch, "delay", worker)
    _log_in(page, world.personas.alice, world.personas.password)
    page.wait_for_url("**/partners/")
    page.goto("/orgs/alpha-brokers/")
    page.click("text=Probe now")
    page.wait_for_selector("#probe progress")
    page.wait_for_selector("text=Last re-probe finished", timeout=15000)
    assert page.locator("#probe progress").count() == 0


def test_it_reads_pasted_headers_into_a_hop_table(page, world) -> None:
    _log_in(page, world.personas.bob, world.personas.password)
    page.wait_for_url("**/partners/")
    page.goto("/headers/")
    page.fill(
        "textarea",
        "Received: from mail.sender.example (mail.sender.example [198.51.100.7])\n"
        "\t(using TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits))\n"
        "\tby mx.receiver.example (Postfix) with ESMTPS id 4ABC123;\n"
        "\tMon, 23 Nov 2026 10:00:00 -0500\n",
    )
    page.click('form button[type=submit]:has-text("Analyze")')
    page.wait_for_selector("table.hops")
    row = page.locator("table.hops tbody tr").first.inner_text()
    assert "mx.receiver.example" in row
    assert "TLSv1.2" in row
    assert "Every hop states that it used TLS." in page.content()


def test_it_shows_both_directions_of_a_pair_once_a_sender_is_seen(page, world, settings) -> None:
    """Charlie's gateway was seen sending in plain text: the cell drops to a (no asterisk: both
    sides observed), and the panel tells each direction and what blocks the next level."""
    from monitoring.models import OrganizationStatus

    settings.SECMAIL_RECEIVER_DOMAIN = "receiver.example.org"
    OrganizationStatus.objects.filter(pk=world.charlie.pk).update(outbound="plaintext")
    OrganizationStatus.objects.filter(pk=world.alpha.pk).update(outbound="tls")
    _log_in(page, world.personas.alice, world.personas.password)
    page.wait_for_url("**/partners/")
    page.goto("/matrix/")
    cell = page.locator("td.cell").first
    assert "level-plaintext" in cell.get_attribute("class")
    assert "assumed" not in cell.get_attribute("class")
    cell.locator("a").click()
    page.wait_for_selector("#pair-panel table.directions")
    panel = page.locator("#pair-panel").inner_text()
    assert "Charlie Insurance → Alpha Brokers" in panel
    assert "sends in plain text" in panel
    assert "turn on TLS for outgoing mail" in panel
    page.goto(f"/orgs/{world.alpha.slug}/")
    assert "@receiver.example.org" in page.locator("#outbound").inner_text()
