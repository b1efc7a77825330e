"""Screenshots of every page on the bundled sample, for the README tour.

Run from the repository root: ``python tools/make_tour.py`` (needs Debian's
chromium and the playwright package). Writes docs/tour/<page>.png.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from tools.browser import CHROMIUM, CHROMIUM_ARGS, ROOT, go_to, running_app, settle  # noqa: E402

PAGES = [("Home", "Segmentation Studio"), ("Data", "Data"), ("Variables & K", "Variables & K"),
         ("Personas", "Personas"), ("Explore", "Explore"), ("Validate", "Validate"),
         ("Export", "Export")]


def main() -> None:
    out = ROOT / "docs" / "tour"
    out.mkdir(parents=True, exist_ok=True)
    with running_app() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(url)
        settle(page, "Segmentation Studio")
        for link, title in PAGES:
            go_to(page, link, title)
            name = link.replace(" & ", "_").lower()
            page.screenshot(path=str(out / f"{name}.png"))
            print(f"wrote docs/tour/{name}.png")
        browser.close()


if __name__ == "__main__":
    main()
