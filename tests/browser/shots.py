"""Screenshots for people to look at (never compared): the page as it is, full length,
and the same page on a phone (390 px wide, where nothing may scroll sideways), then back
to the size it had."""

from __future__ import annotations

import os
from pathlib import Path

PHONE = {"width": 390, "height": 844}
ROOT = Path(os.environ.get("CRM_SCREENSHOTS", Path(__file__).parents[2] / "build" / "screenshots"))


def desktop_and_phone(page, folder: str, name: str) -> None:
    """``<folder>/<name>.png`` at the page's size and ``<name>-phone.png`` on a phone."""
    shots = ROOT / folder
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"{folder}/{name} scrolls sideways on a phone: {width}px"
    page.screenshot(path=str(shots / f"{name}-phone.png"), full_page=True)
    if size:
        page.set_viewport_size(size)
