"""One function per command: read the parsed arguments, call the engine, write and print.

Each returns the exit code; bad input raises ``SegmentationError``, which ``main`` turns
into one ``error:`` line.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from segmentation.cli.history import history_command, record, run_history_path
from segmentation.cli.progress import Progress
from segmentation.errors import SegmentationError


def _source(inputs):
    """One path, or several files read as one order log."""
    if isinstance(inputs, list | tuple):
        return inputs[0] if len(inputs) == 1 else list(inputs)
    return inputs


def _customer_file(args):
    """The input path, or the table read from the sheet given with --sheet."""
    if args.sheet is None:
        return args.input
    from segmentation.data.customer_file import read_table

    return read_table(args.input, sheet=args.sheet)


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


def _not_a_log() -> SegmentationError:
    return SegmentationError("--lifetime needs an order history: run it on a log of order "
                             "lines, not on a customer table.")


def _order_history(args, config):
    """The input read once, refused before any clustering when it is not an order log."""
    from segmentation.data.orders import read_customers

    raw = read_customers(args.input, config.input_kind, dict(config.log_map),
                         config.reference_date, sheet=config.sheet)
    if raw.log is None:
        raise _not_a_log()
    return raw


def _fit_lifetime(result):
    from segmentation.plan.lifetime import lifetime_of

    lifetime = lifetime_of(result)
    if lifetime is None:
        raise _not_a_log()
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


def _run(args) -> int:
    if getattr(args, "engine", "local") == "spark":
        from segmentation.cli import spark_commands
        return spark_commands.run(args)
    from segmentation.data.orders import parse_map
    from segmentation.export.bundle import load_bundle
    from segmentation.pipeline import RunConfig
    from segmentation.prepare.features import PrepConfig

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
        method=args.method,
        strata=args.strata,
    )
    if args.behaviour_first:
        config = _behaviour_first(args, config)
    previous = load_bundle(args.previous) if args.previous else None
    history = run_history_path(args)
    with Progress() as progress:
        _run_stages(args, config, previous, progress, history)
    return 0


def _behaviour_first(args, config):
    """``config`` with the behaviour-first variables of the file's own columns."""
    from segmentation.data.dataset import load_dataset
    from segmentation.data.orders import read_customers
    from segmentation.prepare.behaviour import behaviour_prep
    from segmentation.prepare.features import variables_of

    if args.features:
        raise SegmentationError("--behaviour-first chooses the clustering variables itself: "
                                "give either it or --features, not both.")
    raw = read_customers(args.input, config.input_kind, dict(config.log_map),
                         config.reference_date, sheet=config.sheet)
    dataset = load_dataset(raw, roles=dict(config.roles), id_column=config.id_column)
    variables = variables_of(dataset, dict(config.prep.labels))
    return replace(config, prep=behaviour_prep(config.prep, variables, dataset.log))


def _run_stages(args, config, previous, progress, history=None) -> None:
    """The engine's stages and the files, with ``progress`` told each stage's name."""
    from segmentation.describe.carry_names import carry_over
    from segmentation.describe.drivers import run_drivers
    from segmentation.export.bundle import write_bundle
    from segmentation.export.outputs import write_outputs
    from segmentation.pipeline import run

    source = _order_history(args, config) if args.lifetime else args.input
    result = run(source, config, progress=progress)
    progress.clear()  # what is printed from here starts at the left margin
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
    ablation = _ablation(result, progress) if args.ablation else None

    def write(folder: Path) -> dict[str, Path]:
        paths = write_outputs(result, folder, lifetime=lifetime)
        if lifetime is not None:
            paths.update(_write_lifetime_segments(result, lifetime, folder))
        paths["bundle.json"] = write_bundle(result, result.personas, folder / "bundle.json",
                                            signup=signup)
        if args.report:
            # Imported only here: the report draws with plotly, which the engine never loads.
            from report.html import write_report
            from segmentation.history.store import history_for_report
            paths["report.html"] = write_report(result, folder / "report.html",
                                                lifetime=lifetime, ablation=ablation,
                                                history=history_for_report(history, result))
        return paths

    progress("writing")
    paths = publish(Path(args.out), write)
    record(history, result)
    progress.clear()
    seg = result.segmentation
    dropped = sum(result.features.report.dropped.values())
    print(f"{result.features.report.rows_read} rows read, {seg.labels.size} segmented, "
          f"{dropped} dropped.")
    # The same summary the report and the Home page show; the warnings among its notes go
    # to stderr below, so that scripts can tell them apart.
    summary = result.summary()
    print(replace(summary, notes=tuple(n for n in summary.notes
                                       if n not in result.warnings)).as_text())
    if carried is not None:
        m = carried.match
        print(f"Names carried over from {args.previous}: {len(m.pairs)} segments matched, "
              f"{len(m.new_unmatched)} new.")
        for name in carried.vanished_names:
            print(f"warning: '{name}' has no matching segment in this run.", file=sys.stderr)
    if ablation is not None:
        print(ablation.summary().as_text())
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if (split := run_drivers(result)[1]) is not None:
        print(f"warning: {split.message}", file=sys.stderr)
    print(f"Wrote {', '.join(str(p) for p in paths.values())}")


def _ablation(result, progress):
    from segmentation.validate.ablation import ablate

    progress("leaving out each variable")
    return ablate(result.features, result.segmentation, result.strata,
                  result.config.method)


def _aggregate(args) -> int:
    from segmentation.data.orders import aggregate_log, parse_map, read_customers

    source = _source(args.input)
    refuse_overwriting(args.out, args.input)
    if getattr(args, "engine", "local") == "spark":
        from segmentation.cli import spark_commands
        return spark_commands.aggregate(args, source, _reference(args.reference_date))
    raw = read_customers(source, "transactions", parse_map(args.map),
                         _reference(args.reference_date))
    log = raw.log if raw.log is not None else aggregate_log(source)
    return write_log(log, args.out)


def write_log(log, out) -> int:
    """Write an order log's customer table to ``out`` (CSV or Parquet by its extension) and
    print the account of its lines."""
    out = Path(out)
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


def _inspect(args) -> int:
    import json

    from segmentation.data.customer_file import read_table
    from segmentation.data.dataset import load_dataset

    raw = read_table(args.input, sheet=args.sheet)
    dataset = load_dataset(raw, roles=parse_mapping(args.roles, "--roles"))
    rows = [{"column": c, "kind": m.kind, "role": m.role, "reason": m.reason}
            for c, m in dataset.meanings.items()]
    left_out = {reason: int(n) for reason, n in dataset.dropped.items() if n}
    if args.json:
        print(json.dumps({"file": raw.name, "rows": raw.rows_read,
                          "customers": dataset.n_customers, "left_out": left_out,
                          "notes": list(dataset.notes), "columns": rows}, indent=2))
        return 0
    width = max(len(r["column"]) for r in rows)
    print(f"{raw.name}: {raw.rows_read:,} rows, {dataset.n_customers:,} customers, "
          f"{len(rows)} columns")
    # How the file was read and which lines will not be customers, before the columns.
    for reason, n in left_out.items():
        print(f"left out: {n:,} line{'s' if n != 1 else ''} ({reason})")
    for note in dataset.notes:
        print(f"note: {note}")
    print(f"{'column':<{width}}  {'kind':<10}  {'role':<18}  reason")
    for r in rows:
        print(f"{r['column']:<{width}}  {r['kind']:<10}  {r['role']:<18}  {r['reason']}")
    return 0


def _score(args) -> int:
    if getattr(args, "engine", "local") == "spark":
        from segmentation.cli import spark_commands
        return spark_commands.score(args)
    from segmentation.cluster.model import load_model, score
    from segmentation.export.assignments import account
    from segmentation.export.outputs import write_scores

    refuse_overwriting(args.out, [args.input, args.model])
    scores = score(_customer_file(args), load_model(args.model))
    path = write_scores(scores.assignments, args.out)
    print(f"{account(scores.assignments)} Wrote {path}")
    if scores.rule:
        print(f"Assigned by the saved model's rule: {scores.rule}.")
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


COMMANDS = {"run": _run, "score": _score, "compare": _compare, "inspect": _inspect,
            "aggregate": _aggregate, "predict": _predict, "history": history_command}
