"""Scoring with a saved model in Spark: the saved preparation and the nearest centre as
Spark SQL column expressions.

Every step of :func:`segmentation.prepare.features.transform` is replayed in its fixed
order (missing ids and duplicates, the drop policy, imputation, age, implausible values,
derived variables, composites, gap fills, log scaling, the scaler and weights) and then
:func:`segmentation.cluster.kmeans.assign`'s rule: the plain squared difference to each
centre, the first smallest wins. No row goes through a Python worker, so the JVM runs the
whole plan (whole-stage code generation) and a cluster scales it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from segmentation.cluster.model import Model
from segmentation.data.dataset import REASON_DUPLICATE_ID, REASON_MISSING_ID
from segmentation.data.roles import Role
from segmentation.describe.contributions import TOP_DRIVER_COLUMNS
from segmentation.errors import SegmentationError
from segmentation.export.assignments import STATUS_EXCLUDED, STATUS_SEGMENTED
from segmentation.prepare.features import (
    REASON_MISSING,
    REASON_OUTLIER,
    Preparation,
    _composite_name,
    _sources,
    variables_present,
)
from segmentation.prepare.variables import CATEGORY_KINDS, OTHER_LEVEL, Variable
from segmentation.spark.columns import LINE, read_lines, type_columns

_DAY_MICROS = 86_400_000_000
VALUE = "value:"  # prefix of the profiled variables' columns (no file column has a colon)
# Derived variables whose local definition is not a column expression (a word list read
# with Python patterns): a model clustering on them is scored by the local engine.
UNSUPPORTED_KINDS = frozenset({"household_size", "education"})


@dataclass(frozen=True)
class SparkScores:
    """Every input line with its segment or the reason it has none, as a Spark frame.

    ``assignments`` has the columns of the local assignments table
    (:data:`segmentation.export.assignments.ASSIGNMENT_COLUMNS`, then ``distance``).
    """

    assignments: object  # pyspark.sql.DataFrame, not imported at module level
    profiled: tuple[str, ...] = ()

    def account(self) -> tuple[int, dict[str, int], dict[str, int]]:
        """``(lines, {status: count}, {reason: count})``, reasons in the order of their first
        line, as :func:`segmentation.export.assignments.account` lists them."""
        from pyspark.sql import functions as F

        rows = (self.assignments.groupBy("status", "reason")
                .agg(F.count("*").alias("n"), F.min(F.col("line").cast("long")).alias("first"))
                .collect())
        statuses: dict[str, int] = {}
        for r in rows:
            statuses[r["status"]] = statuses.get(r["status"], 0) + r["n"]
        reasons = {r["reason"]: r["n"] for r in sorted(rows, key=lambda r: r["first"])
                   if r["status"] != STATUS_SEGMENTED}
        return sum(statuses.values()), statuses, reasons


def account_text(lines: int, statuses: dict[str, int], reasons: dict[str, int]) -> str:
    """The command line's one-line accounting, worded as for the local engine."""
    segmented = statuses.get(STATUS_SEGMENTED, 0)
    text = f"{lines:,} lines: {segmented:,} segmented, {lines - segmented:,} excluded"
    if reasons:
        text += " (" + "; ".join(f"{n:,} {why}" for why, n in reasons.items()) + ")"
    return text + "."


def _check_kmeans(model: Model) -> None:
    """Spark assigns the nearest of the model's centres in one space: other rules are local."""
    if model.strata is not None:
        raise SegmentationError(
            "This model's segments were found within strata, which Spark does not score yet: "
            "score it with the local engine (leave out --engine spark).")
    if model.method != "kmeans":
        raise SegmentationError(
            f"This model was made with {model.method}, whose scoring rule Spark does not "
            "apply yet: score it with the local engine (leave out --engine spark).")


def score_spark(spark, source: str | Path, model: Model,
                profiled: tuple[str, ...] = ()) -> SparkScores:
    """Assign the customers of ``source`` (Parquet or CSV: a file, folder or glob) to the
    segments of ``model``, in Spark.

    The same customers get the same segments and distances as
    :func:`segmentation.cluster.model.score` on the same file, and every line not scored
    keeps the local engine's reason. Each variable named in ``profiled`` that has a Spark
    form is added as a column ``value:<name>`` (natural units, as profiles read them);
    :attr:`SparkScores.profiled` says which.

    Raises
    ------
    SegmentationError
        When the file lacks the model's columns, the model clusters on a variable that
        has no Spark form (see :data:`UNSUPPORTED_KINDS`), or its segments are not
        k-means centres in one space (another method, or segments within strata).
    """
    from pyspark.sql import functions as F

    _check_kmeans(model)
    # Dates become days the same way on every machine: no daylight-saving hour in a day.
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    prep = model.preparation
    lines = read_lines(spark, source)
    present = set(lines.columns)
    variables = _variables(prep, present)
    base_columns = [c for c in dict.fromkeys(s for v in variables.values() for s in v.sources)
                    if c in present]
    roles = {c: prep.roles[c] for c in base_columns if c in prep.roles}
    checked = {r.variable for r in prep.outlier_rules}
    id_column = prep.id_column if prep.id_column in present else None
    # a leak column is text or numbers by its values; checked for implausible values, numbers
    leaks = {c for c in checked if roles.get(c) == Role.LEAK}
    typed = type_columns(lines, roles, id_column, numeric=leaks)
    frame = _with_reasons(typed, prep, variables, base_columns)
    frame = _impute(frame, prep, base_columns, dict(typed.dtypes))
    if "age" in variables:
        var = variables["age"]
        source_col = F.col(var.sources[0])
        frame = frame.withColumn("age", source_col if var.detail == "age"
                                 else F.lit(float(prep.reference_year)) - source_col)
    frame = _outliers(frame, prep, dict(frame.dtypes))
    X = [_feature(f, prep, variables, frame) for f in prep.features]
    values = {}
    for name in profiled:
        try:
            values[name] = _derived(variables[name], variables, prep, frame)
        except (SegmentationError, KeyError):
            continue  # profiled by the local engine only (a word list, a date with no end)
    # Display names as the local engine gives them, a composite's included.
    labels = {f: v.label for f, v in variables.items()}
    labels.update(_composite_name(a, b, variables) for a, b in prep.composites
                  if a in variables and b in variables)
    names = [labels.get(f, f) for f in prep.features]
    assignments = _nearest(frame, X, model, values, names)
    return SparkScores(assignments=assignments, profiled=tuple(values))


def _variables(prep: Preparation, present: set[str]) -> dict[str, Variable]:
    variables = variables_present(prep, present)
    used = {s for f in prep.features for s in _names_behind(f, variables, prep)}
    unsupported = [variables[n].label for n in used
                   if n in variables and variables[n].kind in UNSUPPORTED_KINDS]
    if unsupported:
        raise SegmentationError(
            f"The Spark engine cannot compute {', '.join(unsupported)} yet: score this model "
            "with the local engine (leave out --engine spark).")
    return variables


def _names_behind(feature: str, variables, prep: Preparation) -> tuple[str, ...]:
    for a, b in prep.composites:
        if feature == f"{a}+{b}":
            return (a, b)
    return (feature,)


def _with_reasons(typed, prep: Preparation, variables, base_columns):
    """``__reason``: a missing or repeated id (the first line of an id is kept), then the
    drop policy's missing values; null for the rows that go on."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    first = Window.partitionBy("__id").orderBy(LINE)
    reason = (F.when(F.col("__id").isNull(), REASON_MISSING_ID)
              .when(F.row_number().over(first) > 1, REASON_DUPLICATE_ID))
    if prep.missing == "drop":
        sources = {s for f in prep.features for s in _sources(f, variables, prep.composites)}
        gaps = [F.col(c).isNull() for c in base_columns if c in sources]
        if gaps:
            reason = reason.when(_any(gaps), REASON_MISSING)
    return typed.withColumn("__reason", reason)


def _any(conditions):
    out = conditions[0]
    for c in conditions[1:]:
        out = out | c
    return out


def _impute(frame, prep: Preparation, base_columns, dtypes):
    from pyspark.sql import functions as F

    filled = {}
    for col in base_columns:
        value = prep.impute_values.get(col)
        if value is None or col not in dtypes:
            continue
        if dtypes[col] == "timestamp":
            literal = F.lit(str(value)).cast("timestamp")
        elif dtypes[col] == "string":
            literal = F.lit(str(value))
        else:
            literal = F.lit(float(value))
        filled[col] = F.coalesce(F.col(col), literal)
    return frame.withColumns(filled) if filled else frame


def _days(column):
    """A timestamp as days since 1970, as a double (the local date bounds are in days)."""
    from pyspark.sql import functions as F

    return F.unix_micros(column).cast("double") / _DAY_MICROS


def _outliers(frame, prep: Preparation, dtypes):
    """The saved bounds: clipped, or the rows beyond them excluded (after earlier reasons).

    As the local engine does, a column is clipped to the training range as a whole once any
    row still in play lies beyond its bounds (one aggregation finds those columns first).
    """
    from pyspark.sql import functions as F

    checks = []
    for rule in prep.outlier_rules:
        if rule.variable not in dtypes:
            continue
        is_date = dtypes[rule.variable] == "timestamp"
        value = _days(F.col(rule.variable)) if is_date else F.col(rule.variable)
        high = float(rule.high) if np.isfinite(rule.high) else float("inf")
        flagged = F.coalesce((value < F.lit(float(rule.low))) | (value > F.lit(high)),
                             F.lit(False))
        checks.append((rule, is_date, value, flagged))
    if not checks or prep.outliers == "keep":
        return frame
    if prep.outliers == "exclude":
        return frame.withColumn("__reason", F.when(
            F.col("__reason").isNull() & _any([c[3] for c in checks]), REASON_OUTLIER
        ).otherwise(F.col("__reason")))
    in_play = F.col("__reason").isNull()
    found = frame.agg(*[F.max((c[3] & in_play).cast("int")).alias(f"f{i}")
                        for i, c in enumerate(checks)]).first()
    changes = {}
    for i, (rule, is_date, value, _) in enumerate(checks):
        if not found[f"f{i}"]:
            continue
        clipped = F.least(F.greatest(value, F.lit(float(rule.clip_low))),
                          F.lit(float(rule.clip_high)))
        if is_date:
            # back to a timestamp, as the local engine's epoch + days does
            clipped = F.timestamp_micros((clipped * _DAY_MICROS).cast("long"))
        changes[rule.variable] = clipped
    return frame.withColumns(changes) if changes else frame


def _derived(var: Variable, variables, prep: Preparation, frame):
    """One variable of :func:`segmentation.prepare.variables.derive` as a column."""
    from pyspark.sql import functions as F

    src = list(var.sources)
    dtypes = dict(frame.dtypes)
    if var.kind == "level":
        values = F.col(src[0])
        if var.detail == OTHER_LEVEL:
            named = [v.detail for v in variables.values()
                     if v.kind == "level" and v.sources == var.sources and v.detail != OTHER_LEVEL]
            return F.when(F.coalesce(values.isin(*named), F.lit(False)), 0.0).otherwise(1.0)
        return F.when(F.coalesce(values == var.detail, F.lit(False)), 1.0).otherwise(0.0)
    if var.kind in {"measure_na", "sentinel_flag"}:
        code = prep.sentinels.get(src[0])
        values = F.col(src[0]).cast("double")
        if var.kind == "sentinel_flag":
            return F.when(F.coalesce(values == F.lit(code), F.lit(False)), 1.0).otherwise(0.0) \
                if code is not None else F.lit(0.0)
        return F.when(values != F.lit(code), values) if code is not None else values
    if var.kind in {"days_since", "tenure"}:
        end = (prep.tenure_end if var.kind == "tenure" else prep.date_ends.get(src[0]))
        if end is None or dtypes.get(src[0]) != "timestamp":
            raise SegmentationError(
                f"The model has no saved end date for {var.label}: score it with the local "
                "engine (leave out --engine spark).")
        # whole days, floored, as pandas' Timedelta.days counts them
        diff = F.unix_micros(F.lit(str(end)).cast("timestamp")) - F.unix_micros(F.col(src[0]))
        return F.floor(diff / F.lit(_DAY_MICROS)).cast("double")
    if var.name in dtypes and var.kind not in CATEGORY_KINDS:
        return F.col(var.name).cast("double")
    if var.kind in {"children", "total_spend", "total_purchases", "campaigns_accepted"}:
        return _sum([F.col(c) for c in src])
    if var.kind in {"spend_share", "channel_share"}:
        own = var.name.removeprefix("share_").removeprefix("channel_share_")
        total = _sum([F.col(c) for c in src])
        return F.coalesce(F.when(total > 0, F.col(own) / total), F.lit(0.0))
    raise SegmentationError(
        f"The Spark engine cannot compute {var.label} yet: score this model with the local "
        "engine (leave out --engine spark).")


def _sum(columns):
    out = columns[0]
    for c in columns[1:]:
        out = out + c
    return out


def _feature(name: str, prep: Preparation, variables, frame):
    """One column of the clustering matrix, scaled and weighted, from the saved parameters."""
    from pyspark.sql import functions as F

    i = prep.features.index(name)
    if name in variables:
        value = _derived(variables[name], variables, prep, frame)
    else:
        value = _composite(name, prep, variables, frame)
    fill = prep.impute_values.get(name, 0.0)
    value = F.when(value.isNull() | F.isnan(value), F.lit(float(fill))).otherwise(value)
    if name in prep.log_features:
        # signed, as the local engine does, so a negative balance stays below zero
        value = F.signum(value) * F.log1p(F.abs(value))
    weight = float(np.sqrt(prep.weights[i]))
    return (value - F.lit(prep.center[i])) / F.lit(prep.scale[i]) * F.lit(weight)


def _composite(name: str, prep: Preparation, variables, frame):
    for a, b in prep.composites:
        if name != f"{a}+{b}":
            continue
        va, vb = variables[a], variables[b]
        xa, xb = (_derived(v, variables, prep, frame) for v in (va, vb))
        if va.is_spend and vb.is_spend:  # same units: the sum reads as money
            return xa + xb
        ma, sa, mb, sb = prep.composite_stats[_composite_name(a, b, variables)[0]]
        return ((xa - ma) / sa + (xb - mb) / sb) / 2
    raise SegmentationError(f"The model's variable {name!r} is not in its file: write a new "
                            "model with 'python -m segmentation run'.")


def _nearest(frame, X, model: Model, values: dict | None = None,
             names: list[str] | None = None):
    """Label and distance of the nearest centre; ties go to the first, as ``argmin`` does.

    With ``names`` (each feature's display name), also each customer's two drivers as
    :func:`segmentation.describe.contributions.top_drivers` finds them: the features with
    the largest positive share of the squared-distance gap to the next nearest centre,
    the earlier feature first on a tie.
    """
    from pyspark.sql import functions as F

    kept = [v.alias(f"{VALUE}{n}") for n, v in (values or {}).items()]
    xs = frame.select("__id", LINE, "__reason", *[x.alias(f"__x{j}") for j, x in enumerate(X)],
                      *kept)
    carried = [f"{VALUE}{n}" for n in (values or {})]
    centers = np.asarray(model.centers, dtype=float)
    d2 = [_sum([(F.col(f"__x{j}") - F.lit(float(c))) ** 2 for j, c in enumerate(center)])
          .alias(f"__d{k}") for k, center in enumerate(centers)]
    xcols = [f"__x{j}" for j in range(len(X))]
    with_d = xs.select("__id", LINE, "__reason", *xcols, *d2, *carried)
    k = len(d2)
    best = F.least(*[F.col(f"__d{i}") for i in range(k)]) if k > 1 else F.col("__d0")
    label = _first_equal([F.col(f"__d{i}") for i in range(k)], F.col("__best"))
    with_d = with_d.withColumn("__best", best).withColumn("__label", label)
    drivers = []
    if names is not None and k > 1:
        # The nearest centre other than the customer's own, ties to the first.
        masked = [F.when(F.col("__label") == i, F.lit(float("inf"))).otherwise(F.col(f"__d{i}"))
                  for i in range(k)]
        nxt = _first_equal(masked, F.least(*masked))

        def coordinate(lab, j):
            value = F.lit(float(centers[k - 1, j]))
            for i in reversed(range(k - 1)):
                value = F.when(lab == i, F.lit(float(centers[i, j]))).otherwise(value)
            return value

        terms = [(F.col(f"__x{j}") - coordinate(nxt, j)) ** 2
                 - (F.col(f"__x{j}") - coordinate(F.col("__label"), j)) ** 2
                 for j in range(len(X))]
        # Largest term first; on a tie the earlier feature (the larger -j) first.
        ranked = F.sort_array(F.array(*[F.struct(t.alias("t"), F.lit(-j).alias("o"),
                                                 F.lit(str(names[j])).alias("n"))
                                        for j, t in enumerate(terms)]), asc=False)
        scored = F.col("__reason").isNull()
        for i, column in enumerate(TOP_DRIVER_COLUMNS[:len(X)]):
            top = F.element_at(ranked, i + 1)
            drivers.append(F.when(scored & (top["t"] > 0), top["n"]).alias(column))
    persona = F.create_map(*[x for seg, name in sorted(model.persona_names.items())
                             for x in (F.lit(int(seg)), F.lit(name))])
    scored = F.col("__reason").isNull()
    out = with_d.select(
        F.col("__id").alias("customer_id"),
        F.when(scored, F.col("__label")).cast("long").alias("segment"),
        F.when(scored, F.element_at(persona, F.col("__label"))).alias("persona"),
        F.when(scored, STATUS_SEGMENTED).otherwise(STATUS_EXCLUDED).alias("status"),
        F.col("__reason").alias("reason"),
        F.col(LINE).alias("line"),
        F.when(scored, F.sqrt(F.col("__best"))).alias("distance"),
        *drivers,
        *[F.col(f"`{c}`") for c in carried])
    return out


def _first_equal(columns, target):
    """The index of the first of ``columns`` equal to ``target`` (the last when none is)."""
    from pyspark.sql import functions as F

    index = F.lit(len(columns) - 1)
    for i in reversed(range(len(columns) - 1)):
        index = F.when(columns[i] == target, i).otherwise(index)
    return index
