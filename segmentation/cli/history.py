"""The run history on the command line: recording each 'run', and the 'history' command."""

from __future__ import annotations

import json
from pathlib import Path

from segmentation.config import HISTORY_FILE
from segmentation.errors import SegmentationError


def run_history_path(args) -> Path | None:
    """The history a 'run' records into (None with --no-history), checked before the run
    starts so that a bad --history costs nothing."""
    from segmentation.history.store import check_history, default_history_path

    if args.no_history:
        if args.history:
            raise SegmentationError("--history and --no-history contradict each other: give "
                                    "one of them.")
        return None
    path = Path(args.history) if args.history else default_history_path(args.out)
    # Beside an --out whose parent does not exist yet, the run's own writing creates the
    # folder (or says why it cannot) before the history is written there.
    if args.history or path.parent.is_dir():
        check_history(path)
    return path


def record(path: Path | None, result) -> None:
    from segmentation.history.store import record_run, run_record

    if path is not None:
        record_run(path, run_record(result))


def _path(args) -> Path:
    return Path(args.history) if args.history else Path(HISTORY_FILE)


def _print_table(frame) -> None:
    print(frame.to_string(index=False) if not frame.empty else "(none)")


def history_command(args) -> int:
    from segmentation.history.store import load_history

    if args.action in ("show", "trend") and not args.target:
        what = "a run id" if args.action == "show" else "a persona's name"
        raise SegmentationError(f"'history {args.action}' needs {what}: e.g. 'history "
                                f"{args.action} {'3' if args.action == 'show' else 'Premium'}'.")
    if args.action == "export" and not args.out:
        raise SegmentationError("'history export' needs --out: a .csv or .json file name.")
    history = load_history(_path(args))
    return {"list": _list, "show": _show, "trend": _trend, "export": _export}[args.action](
        history, args)


def _list(history, args) -> int:
    from segmentation.history.trends import alerts, run_trend

    runs = run_trend(history)
    print(f"{len(runs)} run(s) recorded in {history.path}")
    _print_table(runs.round(3))
    for message in alerts(history, share_threshold=args.share_alert)["message"]:
        print(f"alert: {message}")
    return 0


def _show(history, args) -> int:
    from segmentation.history.trends import persona_trend

    try:
        run_id = int(args.target)
    except ValueError:
        raise SegmentationError(f"{args.target!r} is not a run id: give the number 'history "
                                "list' shows.") from None
    run = history.runs[history.runs["run_id"] == run_id]
    if run.empty:
        raise SegmentationError(f"Run {run_id} is not in the history: see 'python -m "
                                "segmentation history list' for the recorded runs.")
    row = run.iloc[0]
    print(f"Run {run_id}, {row['created']}: {row['data_name']} (data {row['fingerprint']}), "
          f"{row['customers']:,} customers in K = {row['k']} segments, silhouette "
          f"{row['silhouette']:.2f}.")
    trend = persona_trend(history)
    _print_table(trend[trend["run_id"] == run_id][
        ["segment", "line", "name", "size", "share", "stability"]].round(4))
    return 0


def _trend(history, args) -> int:
    from segmentation.history.trends import find_line, means_trend, persona_trend

    line = find_line(history, args.target)
    print(f"{history.lines[line]} (line {line}) over {len(history.runs)} run(s):")
    trend = persona_trend(history, line)
    means = means_trend(history, line)
    if not means.empty:
        wide = means.pivot_table(index="run_id", columns="label", values="mean", sort=False)
        trend = trend.merge(wide.reset_index(), on="run_id", how="left")
    _print_table(trend.drop(columns=["line", "persona"]).round(4))
    return 0


def _export(history, args) -> int:
    from segmentation.export.outputs import write_csv
    from segmentation.history.trends import alerts, means_trend, persona_trend, run_trend

    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise SegmentationError(f"--out {args.out!r} is neither .csv nor .json: name the file "
                                "e.g. history.csv or history.json.")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".csv":
            write_csv(persona_trend(history), out)
        else:
            data = {"runs": _records(run_trend(history)),
                    "personas": _records(persona_trend(history)),
                    "means": _records(means_trend(history)),
                    "alerts": _records(alerts(history, share_threshold=args.share_alert))}
            out.write_text(json.dumps(data, indent=1, allow_nan=False), encoding="utf-8")
    except OSError as exc:
        raise SegmentationError(f"Cannot write {str(out)!r} ({exc.strerror}): choose another "
                                "file name.") from None
    print(f"Wrote {out}")
    return 0


def _records(frame) -> list[dict]:
    # NaN (a stability not computed) is written as null: JSON has no NaN.
    return json.loads(frame.to_json(orient="records"))

