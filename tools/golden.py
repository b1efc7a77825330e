"""Reference outputs of the command line, kept so that a restructuring can prove it changed nothing.

:func:`produce` runs every command on the bundled sample, on a generated order log and (when
present) on the real public export, and writes the normalised outputs into a folder: the
files each command writes, what it printed, with the run's date, the package versions and
temporary paths taken out. The committed copy lives in ``tests/golden``; ``tests/test_golden.py``
produces a fresh one and compares the two, numbers within a relative 1e-9.

Outputs of the real export are kept only as aggregates (profiles, the run summary) and a
digest of the customer → segment pairs, so no customer row of that file enters the repository
(its report is left out: it quotes the first values of each column).

Refresh the committed copy (only when a change of output is intended)::

    python -m tools.golden tests/golden
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import shutil
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "marketing_campaign_sample.csv"
REAL = ROOT.parent / "shared" / "data" / "marketing_campaign.csv"

# Keys whose values change from one run to the next by design (the clock, installed versions).
VOLATILE_KEYS = frozenset({"created", "versions"})


def _cli(argv: list[str]) -> tuple[int, str, str]:
    from segmentation.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


class _Text(HTMLParser):
    """The words a reader sees in an HTML page: no scripts, styles or embedded chart data."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(" ".join(data.split()))


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(parser.parts) + "\n"


def _normalise_text(text: str, tmp: Path) -> str:
    text = (text.replace(str(tmp), "<tmp>").replace(str(REAL.parent), "<data>")
            .replace(str(ROOT), "<root>"))
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?", "<time>", text)
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "<time>", text)
    return text


def _keep(src: Path, dest: Path, tmp: Path) -> None:
    """Copy one output file into the reference folder, normalised by its kind."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if src.suffix == ".json":
        data = _strip(json.loads(src.read_text(encoding="utf-8")))
        dest.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    elif src.suffix == ".html":
        dest.with_suffix(".txt").write_text(
            _normalise_text(html_text(src.read_text(encoding="utf-8")), tmp), encoding="utf-8")
    else:
        dest.write_bytes(src.read_bytes())


def _command(name: str, argv: list[str], out: Path, tmp: Path) -> None:
    code, stdout, stderr = _cli(argv)
    record = {"argv": [_normalise_text(a, tmp) for a in argv], "exit": code,
              "stdout": _normalise_text(stdout, tmp), "stderr": _normalise_text(stderr, tmp)}
    (out / "commands").mkdir(parents=True, exist_ok=True)
    (out / "commands" / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n",
                                                   encoding="utf-8")
    if code != 0:
        raise RuntimeError(f"{name} exited {code}: {stderr}")


def _keep_folder(folder: Path, dest: Path, tmp: Path) -> None:
    for path in sorted(folder.iterdir()):
        _keep(path, dest / path.name, tmp)


def _order_log(path: Path) -> None:
    from tests.helpers.logs import order_log  # the tests' generator; run from the repository root
    order_log(300, seed=1).to_csv(path, index=False)


def _sample(out: Path, tmp: Path) -> None:
    sample = str(SAMPLE)
    run, run4 = tmp / "run", tmp / "run4"
    _command("run", ["run", sample, "--out", str(run), "--report", "--signup"], out, tmp)
    _keep_folder(run, out / "run", tmp)
    _command("run_k4", ["run", sample, "--out", str(run4), "--k", "4", "--seed", "7",
                        "--scaling", "robust"], out, tmp)
    _keep_folder(run4, out / "run_k4", tmp)
    _command("score", ["score", sample, "--model", str(run / "model.json"),
                       "--out", str(tmp / "score.csv")], out, tmp)
    _keep(tmp / "score.csv", out / "score.csv", tmp)
    _command("predict", ["predict", sample, "--bundle", str(run / "bundle.json"),
                         "--out", str(tmp / "predict.csv")], out, tmp)
    _keep(tmp / "predict.csv", out / "predict.csv", tmp)
    _command("compare", ["compare", str(run / "assignments.csv"), str(run4 / "assignments.csv"),
                         "--out", str(tmp / "compare")], out, tmp)
    _keep_folder(tmp / "compare", out / "compare", tmp)
    _command("inspect", ["inspect", sample, "--json"], out, tmp)


def _log(out: Path, tmp: Path) -> None:
    log = tmp / "orders.csv"
    _order_log(log)
    _command("aggregate", ["aggregate", str(log), "--out", str(tmp / "customers.csv")], out, tmp)
    _keep(tmp / "customers.csv", out / "customers.csv", tmp)
    _command("run_log", ["run", str(log), "--out", str(tmp / "logrun")], out, tmp)
    _keep_folder(tmp / "logrun", out / "run", tmp)


def assignment_digest(path: Path) -> dict:
    """Segment sizes and a digest of the customer → segment pairs, without the customers."""
    import pandas as pd

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    pairs = "\n".join(frame["customer_id"] + "," + frame["segment"] + "," + frame["status"])
    return {"rows": len(frame),
            "sizes": frame["segment"].value_counts().sort_index().to_dict(),
            "sha256": hashlib.sha256(pairs.encode("utf-8")).hexdigest()}


def _real(out: Path, tmp: Path) -> None:
    run = tmp / "real"
    _command("run", ["run", str(REAL), "--out", str(run)], out, tmp)
    for name in ("profiles.csv", "summary.json"):
        _keep(run / name, out / name, tmp)
    (out / "assignments.json").write_text(
        json.dumps(assignment_digest(run / "assignments.csv"), indent=1) + "\n",
        encoding="utf-8")


def produce(out: Path, real: bool = True) -> list[str]:
    """Write the reference outputs into ``out`` (emptied first); return the cases produced."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    cases = ["sample", "orders"] + (["real"] if real and REAL.is_file() else [])
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        _sample(out / "sample", tmp)
        _log(out / "orders", tmp)
        if "real" in cases:
            _real(out / "real", tmp)
    return cases


if __name__ == "__main__":
    print(produce(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "golden"))
