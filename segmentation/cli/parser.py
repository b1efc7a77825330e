"""The command line's arguments: every command with its help, description and example."""

from __future__ import annotations

import argparse
import textwrap

from segmentation.config import (
    DEFAULT_INPUT_KIND,
    DEFAULT_K_RANGE,
    DEFAULT_MISSING,
    DEFAULT_N_INIT,
    DEFAULT_OUTLIERS,
    DEFAULT_SCALING,
    DEFAULT_SEED,
    DEFAULT_SPARK_SAMPLE,
    METHODS,
    SHARE_ALERT,
)
from segmentation.errors import SegmentationError
from segmentation.prepare.policies import MISSING_POLICIES, OUTLIER_POLICIES, SCALINGS


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


ENGINES = ("local", "spark")
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
  python -m segmentation history list

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
    run.add_argument("--k-min", type=int, default=DEFAULT_K_RANGE[0],
                     help="smallest number of segments tried with --k auto")
    run.add_argument("--k-max", type=int, default=DEFAULT_K_RANGE[1],
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
    run.add_argument("--strata", metavar="COLUMN[:BANDS]",
                     help="find segments within strata of one column: 'Income:3' (three "
                          "quantile bands), 'Income:40000,70000' (bands at cut-offs) or "
                          "'Region' (one stratum per value); K is chosen in each stratum")
    run.add_argument("--seed", type=int, default=DEFAULT_SEED,
                     help="random seed: the same seed and data give the same segments")
    run.add_argument("--n-init", type=int, default=DEFAULT_N_INIT,
                     help="k-means++ restarts per K")
    run.add_argument("--scaling", choices=SCALINGS, default=DEFAULT_SCALING,
                     help="how variables are put on one scale: zscore (mean 0, sd 1), robust "
                          "(median 0, IQR 1) or log (log of amounts and counts, then zscore)")
    run.add_argument("--outliers", choices=OUTLIER_POLICIES, default=DEFAULT_OUTLIERS,
                     help="implausible values: clip them to the nearest plausible value, keep "
                          "them, or exclude those customers")
    run.add_argument("--missing", choices=MISSING_POLICIES, default=DEFAULT_MISSING,
                     help="missing values in a clustering variable: impute (median, or most "
                          "common category) or drop those customers")
    run.add_argument("--previous", metavar="BUNDLE",
                     help="bundle.json of an earlier run: persona names and strategies carry "
                          "over to the segments whose profiles match")
    run.add_argument("--signup", action="store_true",
                     help="also train a sign-up model (demographics and categories known "
                          "when a customer signs up) and keep it in bundle.json, so 'predict' "
                          "can give new customers a segment")
    run.add_argument("--method", choices=METHODS, default=METHODS[0],
                     help="how customers are grouped: kmeans; gmm (Gaussian mixture, K by BIC "
                          "unless --k is given); ward (hierarchical); hdbscan (finds its own K "
                          "and leaves customers who fit no segment as 'no clear segment'); "
                          "kprototypes (numeric and category variables together)")
    run.add_argument("--report", action="store_true",
                     help="also write report.html: every table and chart of the run in one "
                          "interactive page that opens offline")
    _history_option(run)
    run.add_argument("--no-history", action="store_true",
                     help="do not record this run in the run history")
    run.add_argument("--behaviour-first", action="store_true",
                     help="cluster on what customers do (spend and channel shares, deals, "
                          "recency, purchases, total spend on a log scale) and keep "
                          "demographics and money levels for describing the segments")
    run.add_argument("--ablation", action="store_true",
                     help="also refit once without each clustering variable and print how "
                          "much the segments change (and show it in the report)")
    _engine_options(run, sample=True)

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
    _engine_options(aggregate)

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
    _engine_options(score)

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

    history = _command(
        sub, "history", "the recorded runs: list them, show one, follow a persona, export",
        "Every 'run' is recorded in a run history (an SQLite file beside its --out folder, "
        "see --history). 'list' shows the runs and the alerts between consecutive runs, "
        "'show RUN' one run's personas, 'trend PERSONA' one persona's size, share, money and "
        "outcome averages and stability over the runs, 'export --out FILE' writes every run's "
        "personas as CSV or JSON (by the extension).",
        "python -m segmentation history trend \"Wine Lovers\" --history segmentation_history.sqlite")
    history.add_argument("action", choices=("list", "show", "trend", "export"),
                         help="what to show")
    history.add_argument("target", nargs="?", metavar="RUN_OR_PERSONA",
                         help="the run id for 'show', the persona (any of its names, or its "
                              "line number) for 'trend'")
    _history_option(history, default="segmentation_history.sqlite in this folder")
    history.add_argument("--out", help="for 'export': the .csv or .json file to write")
    history.add_argument("--share-alert", type=float, default=SHARE_ALERT,
                         help="flag a persona whose share of customers moved by more than "
                              "this fraction between consecutive runs")
    return parser


def _history_option(parser, default: str = "segmentation_history.sqlite beside the --out "
                                           "folder") -> None:
    parser.add_argument("--history", metavar="PATH",
                        help=f"the run history file (default: {default})")


def _sheet_option(parser) -> None:
    parser.add_argument("--sheet", metavar="NAME_OR_NUMBER",
                        help="for an Excel workbook: the sheet to read, by name or by number "
                             "from 1 (default: the first sheet holding a table)")


def _log_options(parser, kind: bool = True) -> None:
    if kind:
        parser.add_argument("--input-kind", choices=("auto", "customers", "transactions"),
                            default=DEFAULT_INPUT_KIND,
                            help="one row per customer, or order lines totalled per "
                                 "customer; auto recognises which from the file")
    parser.add_argument("--map", metavar="FIELDS",
                        help="which column is which in an order log, e.g. \"customer=CustomerID,"
                             "date=InvoiceDate,quantity=Quantity,price=UnitPrice\"")
    parser.add_argument("--reference-date", metavar="YYYY-MM-DD",
                        help="for an order log: count recency to this day (default: the day "
                             "after the last order)")


def _engine_options(parser, sample: bool = False) -> None:
    """``--engine`` and its Spark settings (see README "Spark")."""
    parser.add_argument("--engine", choices=ENGINES, default="local",
                        help="local: this process; spark: Apache Spark (pip install -r "
                             "requirements-spark.txt), for Parquet or CSV files, folders or "
                             "patterns of any size; with spark, an --out without .csv is "
                             "written as a Parquet folder")
    parser.add_argument("--spark-master", metavar="URL",
                        help="with --engine spark: the cluster to run on, e.g. "
                             "spark://host:7077 or yarn (default: this machine, local[*], or "
                             "the cluster spark-submit was given)")
    if sample:
        parser.add_argument("--sample-size", type=int, default=DEFAULT_SPARK_SAMPLE,
                            help="with --engine spark: customers drawn (seeded) to fit and "
                                 "choose K on; every customer is then scored and profiled")
