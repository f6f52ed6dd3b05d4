"""axe-core, injected into the admin's pages by Playwright: no serious or critical accessibility violations.

``make test`` installs axe-core from npm into tests/browser/node_modules (``package.json`` beside this file).
"""

import json
from pathlib import Path

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
#: Markup of Wagtail's own that the app's screens open, not the app's: Wagtail's chooser modal has no
#: accessible name (the markup of wagtailadmin/js/modal-workflow.js, as of Wagtail 8.0).
NOT_THE_APPS = (".modal",)


def violations(page):
    """axe's serious and critical violations on the page as it is now: ``[{id, impact, help, targets}]``."""
    assert AXE.exists(), f"{AXE} is missing: run `make browser-deps` (npm ci in tests/browser)."
    # Colours are judged as they end: a message still sliding in is half transparent. Long or endless
    # animations (a spinner, the pulse on Wagtail's Help badge) are not waited for.
    page.wait_for_function(
        "document.getAnimations().every(animation => animation.playState !== 'running'"
        " || animation.effect.getComputedTiming().endTime > 3000)"
    )
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "(exclude) => axe.run({exclude}, {resultTypes: ['violations']})", [[selector] for selector in NOT_THE_APPS]
    )
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in result["violations"]
        if violation["impact"] in BLOCKING
    ]


def assert_accessible(page, name):
    found = violations(page)
    assert not found, f"axe-core found on {name} ({page.url}):\n" + json.dumps(found, indent=2)
