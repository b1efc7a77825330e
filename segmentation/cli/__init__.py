"""Command line: ``python -m segmentation run|score|compare|predict``.

Exit 0 on success; on bad input, exit 2 with one ``error: ...`` line on
stderr and no traceback.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

from segmentation.errors import SegmentationError
from segmentation.prepare.features import MISSING_POLICIES, OUTLIER_POLICIES, SCALINGS, PrepConfig


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter,
                     argparse.RawDescriptionHelpFormatter):
    """Defaults shown after each option's help; descriptions and examples kept as written."""

    def _get_help_string(self, action):
        # A default of None or False means "not given": the help itself says what
        # happens then, and "(default: None)" would only be noise.
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):  # one line, as every other error
        raise SegmentationError(f"{message} (see '{self.prog} --help')")


HELP_WIDTH = 79  # descriptions are laid out by hand (file lists), so wrapped here


def _command(sub, name: str, summary: str, description: str, example: str) -> _Parser:
    """A subcommand whose --help says what it does, which files it writes, and an example.

    Lines of ``description`` that start with a space are kept as written; the
    others are wrapped.
    """
    lines = [line if line.startswith(" ") else textwrap.fill(line, HELP_WIDTH)
             for line in description.split("\n")]
    return sub.add_parser(name, help=summary, description="\n".join(lines),
                          epilog=f"Example:\n  {example}")


EXAMPLES = """\
Examples:
  python -m segmentation inspect customers.csv
  python -m segmentation run customers.csv --out results --signup --report
  python -m segmentation score new_customers.csv --model results/model.json --out scored.csv
  python -m segmentation predict signups.csv --bundle results/bundle.json --out predicted.csv
  python -m segmentation compare q1/assignments.csv q2/assignments.csv --out migration

Run 'python -m segmentation COMMAND --help' for each command's options."""


def build_parser() -> argparse.ArgumentParser:
    from segmentation import __version__

    parser = _Parser(prog="python -m segmentation",
                     description="Find, name and export customer segments in a CRM export.",
                     epilog=EXAMPLES)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser,
                                metavar="COMMAND")

    run = _command(
        sub, "run", "segment a customer file and write the results",
        "Segment a customer file (or a log of order lines) with k-means and write these "
        "files into --out:\n"
        "  assignments.csv  every input line: customer id, segment, persona, status\n"
        "  profiles.csv     each segment's size and the mean of every variable\n"
        "  summary.json     settings, the K sweep and its metrics, row accounting\n"
        "  model.json       the model 'score' reads\n"
        "  bundle.json      settings, model, persona names and strategies; with --signup\n"
        "                   also the sign-up model 'predict' reads\n"
        "  report.html      with --report\n"
        "  lifetime_segments.csv\n"
        "                   with --lifetime",
        "python -m segmentation run customers.csv --out results --k auto --signup")
    run.add_argument("input", help="CSV/TSV, Excel (.xlsx) or Parquet customer file")
    run.add_argument("--out", required=True, help="folder for the output files")
    _sheet_option(run)
    run.add_argument("--k", default="auto",
                     help="number of segments, or 'auto' to choose it in --k-min..--k-max")
    run.add_argument("--k-min", type=int, default=2,
                     help="smallest number of segments tried with --k auto")
    run.add_argument("--k-max", type=int, default=6,
                     help="largest number of segments tried with --k auto")
    run.add_argument("--features", help="comma-separated clustering variables (default: a "
                                        "standard set)")
    run.add_argument("--id-column", help="the customer id column (default: detected)")
    run.add_argument("--roles", metavar="ROLES",
                     help="corrections to the detected column kinds and roles: a JSON file "
                          "{\"column\": \"role\"} or \"Channel=category,Fresh=money\" (see "
                          "'inspect' for each column's detected kind and role)")
    _log_options(run)
    run.add_argument("--lifetime", action="store_true",
                     help="for an order log: fit BG/NBD and Gamma-Gamma (PyMC-Marketing) and add "
                          "each customer's expected orders, probability of being active and "
                          "expected value over 12 months (the first fit compiles for about a "
                          "minute)")
    run.add_argument("--labels", metavar="LABELS",
                     help="display names for columns, used in persona names: a JSON file or "
                          "\"Fresh=Fresh food,Milk=Dairy\"")
    run.add_argument("--seed", type=int, default=42,
                     help="random seed: the same seed and data give the same segments")
    run.add_argument("--n-init", type=int, default=10, help="k-means++ restarts per K")
    run.add_argument("--scaling", choices=SCALINGS, default="zscore",
                     help="how variables are put on one scale: zscore (mean 0, sd 1), robust "
                          "(median 0, IQR 1) or log (log of amounts and counts, then zscore)")
    run.add_argument("--outliers", choices=OUTLIER_POLICIES, default="clip",
                     help="implausible values: clip them to the nearest plausible value, keep "
                          "them, or exclude those customers")
    run.add_argument("--missing", choices=MISSING_POLICIES, default="impute",
                     help="missing values in a clustering variable: impute (median, or most "
                          "common category) or drop those customers")
    run.add_argument("--previous", metavar="BUNDLE",
                     help="bundle.json of an earlier run: persona names and strategies carry "
                          "over to the segments whose profiles match")
    run.add_argument("--signup", action="store_true",
                     help="also train a sign-up model (demographics and categories known "
                          "when a customer signs up) and keep it in bundle.json, so 'predict' "
                          "can give new customers a segment")
    run.add_argument("--report", action="store_true",
                     help="also write report.html: every table and chart of the run in one "
                          "interactive page that opens offline")

    aggregate = _command(
        sub, "aggregate", "total a log of order lines per customer and write the customer table",
        "Total a log of order lines per customer (recency, number of orders, spend, tenure) "
        "and write that customer table to --out, as CSV or "
        "Parquet by its extension.",
        "python -m segmentation aggregate 'orders_*.csv' --out customers.csv")
    aggregate.add_argument("input", nargs="+",
                           help="order lines: CSV or Parquet files, a folder or a pattern such "
                                "as 'orders_*.csv' (several files read as one log)")
    aggregate.add_argument("--out", required=True, help="customers.csv or customers.parquet")
    _log_options(aggregate, kind=False)

    inspect = _command(
        sub, "inspect", "show what each column means: its kind, role and the reason",
        "Show the kind and role detected for each column, and the reason, before segmenting. "
        "Writes no file: the table (or JSON) is printed.",
        "python -m segmentation inspect customers.csv --roles \"Channel=category\"")
    inspect.add_argument("input", help="CSV/TSV, Excel (.xlsx) or Parquet customer file")
    inspect.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _sheet_option(inspect)
    inspect.add_argument("--roles", metavar="ROLES", help="corrections, as for 'run'")

    score = _command(
        sub, "score", "assign new customers to saved segments",
        "Assign the customers of a file to the segments of a saved model.json (from 'run'), "
        "without re-clustering, from the same columns the segments were made of. Writes the "
        "CSV given with --out: every input line with customer id, segment, persona and "
        "status.",
        "python -m segmentation score new_customers.csv --model results/model.json "
        "--out scored.csv")
    score.add_argument("input", help="customer file with the same columns as the model's")
    score.add_argument("--model", required=True, help="model.json written by 'run'")
    score.add_argument("--out", required=True, help="CSV file to write")
    _sheet_option(score)

    compare = _command(
        sub, "compare", "compare two quarters' assignments: who moved between personas",
        "Compare two assignments.csv files written by 'run' (customers matched by id, "
        "segments by persona name). Writes into --out migration_matrix.csv (counts, old "
        "persona rows x new persona columns, no totals), migration_percent.csv (row "
        "percentages), migration.json and movers.csv.",
        "python -m segmentation compare q1/assignments.csv q2/assignments.csv --out migration")
    compare.add_argument("old", help="last quarter's assignments.csv")
    compare.add_argument("new", help="this quarter's assignments.csv")
    compare.add_argument("--out", required=True, help="folder for the output files")
    compare.add_argument("--high-value", action="append", metavar="PERSONA",
                         help="a persona counted as high-value (repeat for several; default: "
                              "names with High-Income, Big Spenders or Premium)")
    compare.add_argument("--lapsed", action="append", metavar="PERSONA",
                         help="a persona counted as lapsed (repeat for several; default: names "
                              "with Lapsed)")

    predict = _command(
        sub, "predict", "predict new customers' segments from their sign-up data",
        "Predict the segment of customers who have no purchases yet, from what is known at "
        "sign-up (income, age, children, education, categories such as the channel), with "
        "the sign-up model kept in a bundle.json. Make that bundle with 'run --signup' or "
        "save it from the Plan page. Writes the CSV given with --out: every input line with "
        "customer id, segment, persona, status and the probability of the segment.",
        "python -m segmentation predict signups.csv --bundle results/bundle.json "
        "--out predicted.csv")
    predict.add_argument("input", help="customer file with the sign-up columns")
    which = predict.add_mutually_exclusive_group(required=True)
    which.add_argument("--bundle", metavar="BUNDLE",
                       help="bundle.json holding a sign-up model, written by 'run --signup' "
                            "or saved from the Plan page")
    # --model was this option's first name; it is kept, unlisted, so scripts still run.
    which.add_argument("--model", dest="bundle", metavar="BUNDLE", help=argparse.SUPPRESS)
    predict.add_argument("--out", required=True, help="CSV file to write")
    _sheet_option(predict)
    return parser


def _sheet_option(parser) -> None:
    parser.add_argument("--sheet", metavar="NAME_OR_NUMBER",
                        help="for an Excel workbook: the sheet to read, by name or by number "
                             "from 1 (default: the first sheet holding a table)")


def _customer_file(args):
    """The input path, or the table read from the sheet given with --sheet."""
    if args.sheet is None:
        return args.input
    from segmentation.data.customer_file import read_table

    return read_table(args.input, sheet=args.sheet)


def _log_options(parser, kind: bool = True) -> None:
    if kind:
        parser.add_argument("--input-kind", choices=("auto", "customers", "transactions"),
                            default="auto",
                            help="one row per customer, or order lines totalled per "
                                 "customer; auto recognises which from the file")
    parser.add_argument("--map", metavar="FIELDS",
                        help="which column is which in an order log, e.g. \"customer=CustomerID,"
                             "date=InvoiceDate,quantity=Quantity,price=UnitPrice\"")
    parser.add_argument("--reference-date", metavar="YYYY-MM-DD",
                        help="for an order log: count recency to this day (default: the day "
                             "after the last order)")


def _source(inputs):
    """One path, or several files read as one order log."""
    if isinstance(inputs, list | tuple):
        return inputs[0] if len(inputs) == 1 else list(inputs)
    return inputs


def _aggregate(args) -> int:
    from segmentation.data.orders import aggregate_log, parse_map, read_customers

    source = _source(args.input)
    refuse_overwriting(args.out, args.input)
    raw = read_customers(source, "transactions", parse_map(args.map),
                         _reference(args.reference_date))
    log = raw.log if raw.log is not None else aggregate_log(source)
    out = Path(args.out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".parquet":
            log.customers.to_parquet(out, index=False)
        else:
            from segmentation.export.outputs import write_csv
            write_csv(log.customers, out)
    except OSError as exc:
        raise SegmentationError(
            f"Cannot write {str(out)!r} ({exc.strerror}): choose another file name."
        ) from None
    dropped = ", ".join(f"{n:,} {why}" for why, n in log.dropped.items()) or "none"
    print(f"{log.lines_read:,} lines read, {log.lines_aggregated:,} aggregated into "
          f"{len(log.customers):,} customers; left out: {dropped}. Wrote {out}")
    for note in log.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


RUN_FILES = ("assignments.csv", "profiles.csv", "summary.json", "model.json", "bundle.json",
             "report.html", "lifetime_segments.csv")


def publish(out: Path, write) -> dict[str, Path]:
    """Write a run's files into a fresh folder beside ``out`` and move them in only when
    every one was written: a run that fails half-way leaves ``out`` as it was."""
    import os
    import shutil
    import tempfile

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as exc:
        raise SegmentationError(
            f"Cannot write the results to {str(out)!r} ({exc.strerror}): choose another folder."
        ) from None
    try:
        written = write(staging)
        out.mkdir(parents=True, exist_ok=True)
        final = {}
        for key, path in written.items():
            target = out / path.name
            os.replace(path, target)
            final[key] = target
        return final
    except OSError as exc:
        raise SegmentationError(
            f"Cannot write the results to {str(out)!r} ({exc.strerror}): choose another folder."
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def refuse_overwriting(out: str | Path, inputs, option: str = "--out") -> None:
    """One sentence when an output would overwrite one of the command's input files."""
    target = Path(out).resolve()
    for given in inputs:
        if given and Path(given).exists() and Path(given).resolve() == target:
            raise SegmentationError(
                f"{option} {str(out)!r} is one of the input files: choose another name, so "
                "the input is not overwritten."
            )


def _fit_lifetime(result):
    from segmentation.plan.lifetime import lifetime_of

    lifetime = lifetime_of(result)
    if lifetime is None:
        raise SegmentationError(
            "--lifetime needs an order history: run it on a log of order lines, not on a "
            "customer table."
        )
    for note in lifetime.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"Lifetime fitted in {lifetime.fit_seconds:.1f} s.")
    return lifetime


def _train_signup(result, seed: int):
    """The sign-up model kept in bundle.json, trained before any file is written so a
    file without sign-up variables fails with nothing half-written."""
    from segmentation.plan.signup import train

    model = train(result, random_state=seed)
    if model.predicts:
        print(model.verdict)
    else:  # saved all the same: that sign-up data cannot predict is itself the finding
        print(f"warning: {model.verdict}", file=sys.stderr)
    return model


def _write_lifetime_segments(result, lifetime, out: Path) -> dict[str, Path]:
    from segmentation.export.outputs import write_csv
    from segmentation.export.strategy import lifetime_segments

    path = out / "lifetime_segments.csv"
    write_csv(lifetime_segments(result, lifetime), path)
    return {"lifetime_segments.csv": path}


def _reference(text: str | None) -> str | None:
    if not text:
        return None
    import pandas as pd

    try:
        return pd.Timestamp(text).date().isoformat()
    except ValueError:
        raise SegmentationError(
            f"--reference-date {text!r} is not a date: write it as YYYY-MM-DD."
        ) from None


def _run(args) -> int:
    from segmentation.data.orders import parse_map
    from segmentation.describe.carry_names import carry_over
    from segmentation.export.bundle import load_bundle, write_bundle
    from segmentation.export.outputs import write_outputs
    from segmentation.pipeline import RunConfig, run

    for name in RUN_FILES:
        refuse_overwriting(Path(args.out) / name, [args.input, args.previous],
                           option=f"--out (its {name})")
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
        input_kind=args.input_kind, log_map=tuple(parse_map(args.map).items()),
        reference_date=_reference(args.reference_date), sheet=args.sheet,
    )
    previous = load_bundle(args.previous) if args.previous else None
    result = run(args.input, config)
    log = result.dataset.log
    if log is not None:
        print(f"Order log: {log.lines_read:,} lines, {log.lines_aggregated:,} aggregated into "
              f"{len(log.customers):,} customers.")
    carried = None
    if previous is not None:
        carried = carry_over(result.personas, result.profiles.z, previous.records)
        result = replace(result, personas=carried.personas)
    lifetime = _fit_lifetime(result) if args.lifetime else None
    signup = _train_signup(result, args.seed) if args.signup else None

    def write(folder: Path) -> dict[str, Path]:
        paths = write_outputs(result, folder, lifetime=lifetime)
        if lifetime is not None:
            paths.update(_write_lifetime_segments(result, lifetime, folder))
        paths["bundle.json"] = write_bundle(result, result.personas, folder / "bundle.json",
                                            signup=signup)
        if args.report:
            # Imported only here: the report draws with plotly, which the engine never loads.
            from report.html import write_report
            paths["report.html"] = write_report(result, folder / "report.html",
                                                lifetime=lifetime)
        return paths

    paths = publish(Path(args.out), write)
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

    from segmentation.data.customer_file import read_table
    from segmentation.data.dataset import load_dataset

    raw = read_table(args.input, sheet=args.sheet)
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
    from segmentation.cluster.model import load_model, score
    from segmentation.export.assignments import account
    from segmentation.export.outputs import write_scores

    refuse_overwriting(args.out, [args.input, args.model])
    scores = score(_customer_file(args), load_model(args.model))
    path = write_scores(scores.assignments, args.out)
    print(f"{account(scores.assignments)} Wrote {path}")
    for warning in scores.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _compare(args) -> int:
    from segmentation.validate.migration import (
        compare_assignments,
        read_assignments,
        summary_lines,
        write_migration,
    )

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
    from segmentation.export.assignments import account
    from segmentation.export.outputs import write_scores
    from segmentation.plan.signup import predict_file

    refuse_overwriting(args.out, [args.input, args.bundle])
    predictions = predict_file(_customer_file(args), args.bundle)
    path = write_scores(predictions, args.out)
    print(f"{account(predictions)} Wrote {path}")
    for warning in predictions.attrs.get("warnings", ()):
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return {"run": _run, "score": _score, "compare": _compare, "inspect": _inspect,
                "aggregate": _aggregate, "predict": _predict}[args.command](args)
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
