"""Shareable reports of a segmentation run, built outside the engine.

The engine (:mod:`segmentation`) never imports plotting libraries; this
package draws its results with the studio's chart builders and writes them
to a single HTML file that opens offline in any browser.
"""

from .html import SECTIONS, build_report, write_report

__all__ = ["SECTIONS", "build_report", "write_report"]
