"""Command line: ``python -m segmentation run|score|compare|predict``.

Exit 0 on success; on bad input, exit 2 with one ``error: ...`` line on
stderr and no traceback.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from .errors import SegmentationError
from .features import MISSING_POLICIES, OUTLIER_POLICIES, SCALINGS, PrepConfig


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, as every other error
        raise SegmentationError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m segmentation",
                     description="Find, name and export customer segments in a CRM export.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="segment a customer file and write the results")
    run.add_argument("input", help="CSV/TSV, Excel (.xlsx) or Parquet customer file")
    run.add_argument("--out", required=True, help="folder for the output files")
    run.add_argument("--k", default="auto", help="number of segments, or 'auto' (default)")
    run.add_argument("--k-min", type=int, default=2)
    run.add_argument("--k-max", type=int, default=6)
    run.add_argument("--features", help="comma-separated clustering variables (default: a "
                                        "standard set)")
    run.add_argument("--id-column", help="the customer id column (default: detected)")
    run.add_argument("--roles", metavar="ROLES",
                     help="corrections to the detected column kinds and roles: a JSON file "
                          "{\"column\": \"role\"} or \"Channel=category,Fresh=money\" (see "
                          "'inspect' for each column's detected kind and role)")
    run.add_argument("--labels", metavar="LABELS",
                     help="display names for columns, used in persona names: a JSON file or "
                          "\"Fresh=Fresh food,Milk=Dairy\"")
    run.add_argument("--seed", type=int, default=42)
    run.add_argument("--n-init", type=int, default=10, help="k-means++ restarts per K")
    run.add_argument("--scaling", choices=SCALINGS, default="zscore")
    run.add_argument("--outliers", choices=OUTLIER_POLICIES, default="clip")
    run.add_argument("--missing", choices=MISSING_POLICIES, default="impute")
    run.add_argument("--previous", metavar="BUNDLE",
                     help="bundle.json of an earlier run: persona names and strategies carry "
                          "over to the segments whose profiles match")
    run.add_argument("--report", action="store_true",
                     help="also write report.html: every table and chart of the run in one "
                          "interactive page that opens offline")

    inspect = sub.add_parser(
        "inspect", help="show what each column means: its kind, role and the reason")
    inspect.add_argument("input", help="CSV/TSV, Excel (.xlsx) or Parquet customer file")
    inspect.add_argument("--json", action="store_true", help="print JSON instead of a table")
    inspect.add_argument("--roles", metavar="ROLES", help="corrections, as for 'run'")

    score = sub.add_parser("score", help="assign new customers to saved segments")
    score.add_argument("input", help="customer file with the same columns as the model's")
    score.add_argument("--model", required=True, help="model.json written by 'run'")
    score.add_argument("--out", required=True, help="CSV file to write")

    compare = sub.add_parser(
        "compare", help="compare two quarters' assignments: who moved between personas",
        description="Compare two assignments.csv files written by 'run' (customers matched by "
                    "id, segments by persona name). Writes migration_matrix.csv (counts, old "
                    "persona rows x new persona columns, no totals), migration_percent.csv "
                    "(row percentages), migration.json and movers.csv.")
    compare.add_argument("old", help="last quarter's assignments.csv")
    compare.add_argument("new", help="this quarter's assignments.csv")
    compare.add_argument("--out", required=True, help="folder for the output files")
    compare.add_argument("--high-value", action="append", metavar="PERSONA",
                         help="a persona counted as high-value (repeat for several; default: "
                              "names with High-Income, Big Spenders or Premium)")
    compare.add_argument("--lapsed", action="append", metavar="PERSONA",
                         help="a persona counted as lapsed (repeat for several; default: names "
                              "with Lapsed)")
    predict = sub.add_parser(
        "predict", help="predict new customers' segments from their sign-up data")
    predict.add_argument("input", help="customer file with the sign-up columns")
    predict.add_argument("--model", required=True,
                         help="bundle.json holding a sign-up model (key 'signup')")
    predict.add_argument("--out", required=True, help="CSV file to write")
    return parser


def _run(args) -> int:
    from .bundle import load_bundle, write_bundle
    from .export import write_outputs
    from .identity import carry_over
    from .pipeline import RunConfig, run

    if args.k == "auto":
        k = None
    else:
        try:
            k = int(args.k)
        except ValueError:
            raise SegmentationError(f"--k must be a whole number or 'auto', not {args.k!r}.") \
                from None
    features = tuple(f.strip() for f in args.features.split(",") if f.strip()) \
        if args.features else None
    config = RunConfig(
        prep=PrepConfig(features=features, missing=args.missing, outliers=args.outliers,
                        scaling=args.scaling,
                        labels=tuple(parse_mapping(args.labels, "--labels").items())),
        k=k, k_min=args.k_min, k_max=args.k_max, random_state=args.seed, n_init=args.n_init,
        id_column=args.id_column, roles=tuple(parse_mapping(args.roles, "--roles").items()),
    )
    previous = load_bundle(args.previous) if args.previous else None
    result = run(args.input, config)
    carried = None
    if previous is not None:
        carried = carry_over(result.personas, result.profiles.z, previous.records)
        result = replace(result, personas=carried.personas)
    paths = write_outputs(result, args.out)
    paths["bundle.json"] = write_bundle(result, result.personas, Path(args.out) / "bundle.json")
    if args.report:
        # Imported only here: the report draws with plotly, which the engine never loads.
        from report.html import write_report
        paths["report.html"] = write_report(result, Path(args.out) / "report.html")
    seg = result.segmentation
    dropped = sum(result.features.report.dropped.values())
    print(f"{result.features.report.rows_read} rows read, {seg.labels.size} segmented, "
          f"{dropped} dropped; K = {result.chosen_k} (silhouette {seg.silhouette:.2f}).")
    for p in result.personas:
        print(f"  {p.segment}: {p.name} ({seg.shares[p.segment]:.0%})")
    if carried is not None:
        m = carried.match
        print(f"Names carried over from {args.previous}: {len(m.pairs)} segments matched, "
              f"{len(m.new_unmatched)} new.")
        for name in carried.vanished_names:
            print(f"warning: '{name}' has no matching segment in this run.", file=sys.stderr)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"Wrote {', '.join(str(p) for p in paths.values())}")
    return 0


def parse_mapping(text: str | None, option: str) -> dict[str, str]:
    """``"a=x,b=y"`` or the path of a JSON object file → ``{"a": "x", "b": "y"}``."""
    import json

    if not text:
        return {}
    path = Path(text)
    if text.strip().endswith(".json") or (path.suffix and path.exists()):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SegmentationError(
                f"Cannot open the {option} file {text!r} ({exc.strerror}): check the path."
            ) from None
        except ValueError:
            raise SegmentationError(
                f"The {option} file {text!r} is not JSON: write it as "
                '{"column": "value", ...}.') from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise SegmentationError(
                f"The {option} file {text!r} is not one JSON object of column names to "
                'text: write it as {"column": "value", ...}.')
        return {str(k): v for k, v in data.items()}
    out = {}
    for part in text.split(","):
        if not part.strip():
            continue
        column, eq, value = part.partition("=")
        if not eq or not column.strip() or not value.strip():
            raise SegmentationError(
                f"{option} {part.strip()!r} is not column=value: write e.g. "
                f"{option} \"Channel=category,Fresh=money\".")
        out[column.strip()] = value.strip()
    return out


def _inspect(args) -> int:
    import json

    from .dataset import load_dataset
    from .io import read_table

    raw = read_table(args.input)
    dataset = load_dataset(raw, roles=parse_mapping(args.roles, "--roles"))
    rows = [{"column": c, "kind": m.kind, "role": m.role, "reason": m.reason}
            for c, m in dataset.meanings.items()]
    if args.json:
        print(json.dumps({"file": raw.name, "rows": raw.rows_read,
                          "customers": dataset.n_customers, "columns": rows}, indent=2))
        return 0
    width = max(len(r["column"]) for r in rows)
    print(f"{raw.name}: {raw.rows_read:,} rows, {dataset.n_customers:,} customers, "
          f"{len(rows)} columns")
    print(f"{'column':<{width}}  {'kind':<10}  {'role':<18}  reason")
    for r in rows:
        print(f"{r['column']:<{width}}  {r['kind']:<10}  {r['role']:<18}  {r['reason']}")
    return 0


def _score(args) -> int:
    from .export import write_scores
    from .model import load_model, score

    scores = score(args.input, load_model(args.model))
    path = write_scores(scores.assignments, args.out)
    dropped = ", ".join(f"{n} {why}" for why, n in scores.dropped.items()) or "none"
    print(f"{scores.rows_read} rows read, {len(scores.assignments)} assigned; dropped: "
          f"{dropped}. Wrote {path}")
    for warning in scores.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _compare(args) -> int:
    from .migration import compare_assignments, read_assignments, summary_lines, write_migration

    old, new = read_assignments(args.old), read_assignments(args.new)
    migration = compare_assignments(old, new, high_value=args.high_value, lapsed=args.lapsed)
    paths = write_migration(migration, args.out)
    for line in summary_lines(migration):
        print(line)
    for note in migration.notes:
        print(f"warning: {note}", file=sys.stderr)
    print(f"Wrote {', '.join(str(p) for p in paths.values())}")
    return 0


def _predict(args) -> int:
    from .export import write_scores
    from .signup import predict_file

    predictions = predict_file(args.input, args.model)
    path = write_scores(predictions, args.out)
    print(f"{len(predictions)} customers predicted. Wrote {path}")
    for warning in predictions.attrs.get("warnings", ()):
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return {"run": _run, "score": _score, "compare": _compare, "inspect": _inspect,
                "predict": _predict}[args.command](args)
    except SegmentationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted.", file=sys.stderr)
        return 130
    except MemoryError:
        print("error: not enough memory for this file: try a smaller file or fewer variables.",
              file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: still no traceback for the user, but say what it was
        print(f"error: unexpected {type(exc).__name__}: {exc} (please report this).",
              file=sys.stderr)
        return 1
