"""Opening a command-line run's bundle in the app gives back exactly that run.

The bundle is uploaded on the Data page as a user does; the app's own
segmentation is then read from the Export page's files (built as a click
builds them) and compared with what the command line wrote.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from segmentation.cli import main
from segmentation.export.bundle import load_bundle
from tests.helpers import ROOT, SAMPLE_PATH, capture_downloads

RUNS = {
    # The defect as reported: the app ignored n_init and gave other segments.
    "k5 one restart": (["--k", "5", "--n-init", "1", "--seed", "1"], {}),
    # Every other recorded setting away from the app's defaults.
    "every setting": (["--k", "4", "--k-min", "3", "--k-max", "5", "--n-init", "2",
                       "--seed", "7", "--id-column", "ID", "--scaling", "robust",
                       "--missing", "drop", "--outliers", "keep",
                       "--labels", "MntWines=Wine"], {"stability": False}),
}


def cli_run(tmp_path, options: list[str], edits: dict) -> tuple[bytes, pd.DataFrame]:
    out = tmp_path / "run"
    assert main(["run", str(SAMPLE_PATH), "--out", str(out), *options]) == 0
    bundle = json.loads((out / "bundle.json").read_text(encoding="utf-8"))
    bundle["settings"].update(edits)
    assignments = pd.read_csv(out / "assignments.csv", dtype={"customer_id": str})
    return json.dumps(bundle).encode("utf-8"), assignments


def reopened(bundle: bytes) -> tuple[AppTest, bytes, str]:
    """The app after opening ``bundle`` on the Data page: its Workshop file and the note."""
    mp, captured = capture_downloads()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
        at.switch_page("pages/data.py").run()
        at.file_uploader(key="w.bundle").upload("bundle.json", bundle).run()
        assert not at.exception, [e.message for e in at.exception]
        note = " ".join(m.value for m in at.success)
        at.switch_page("pages/export.py").run()
        assert not at.exception, [e.message for e in at.exception]
        button = next(b for b in at.get("download_button")
                      if b.proto.label == "Workshop file (JSON)")
        data = captured[button.proto.deferred_file_id]()
        return at, data if isinstance(data, bytes) else data.encode("utf-8"), note
    finally:
        mp.undo()


@pytest.mark.parametrize("options, edits", list(RUNS.values()), ids=list(RUNS))
def test_a_reopened_bundle_gives_the_same_segments_and_settings(tmp_path, options, edits):
    bundle, cli_assignments = cli_run(tmp_path, options, edits)
    _, app_bundle, note = reopened(bundle)
    assert "same data, same settings" in note

    saved, again = load_bundle(bundle), load_bundle(app_bundle)
    # Every field of the recorded RunConfig went bundle -> app state -> RunConfig unchanged.
    assert again.config == saved.config
    # And the app's segments are the command line's, customer by customer.
    sizes = cli_assignments["segment"].value_counts().sort_index().tolist()
    assert again.assignments["segment"].value_counts().sort_index().tolist() == sizes
    by_id = dict(zip(cli_assignments["customer_id"], cli_assignments["segment"], strict=True))
    assert [by_id[c] for c in again.assignments["customer_id"]] == \
        again.assignments["segment"].tolist()
