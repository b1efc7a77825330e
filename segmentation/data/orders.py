"""Order lines to customers: recognise a transaction log, map its columns, aggregate in DuckDB.

A shop, till or ERP exports one row per order line (invoice, customer id,
date, product, quantity, unit price ...). :func:`looks_like_log` recognises
such a file, :func:`detect_mapping` finds which column is which, and
:func:`aggregate_log` turns the lines into one row per customer in DuckDB
(embedded, no server; it reads CSV and Parquet directly and spills to disk
beyond memory), in SQL that can be read in ``OrderLog.sql``. Every line is
either aggregated or counted under the reason it was left out.

The customer table that comes out goes through the normal pipeline, with the
roles, labels and default variables stated here (recency, orders, net spend,
average order value, category and channel shares; log scaling for orders and
net spend).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from segmentation.config import (
    LOG_MIN_ROWS,
    LOG_ROWS_PER_CUSTOMER,
    MAX_ORDERS_KEPT,
    MEMORY_LIMIT,
    TOP_CATEGORIES,
    TOP_CHANNELS,
)
from segmentation.data.customer_file import RawTable
from segmentation.data.roles import _normalise_name
from segmentation.errors import SegmentationError

FIELDS = ("customer", "date", "order", "amount", "quantity", "price", "product", "category",
          "channel", "country")
FIELD_LABELS = {
    "customer": "customer id", "date": "order date", "order": "order or invoice id",
    "amount": "line amount", "quantity": "quantity", "price": "unit price",
    "product": "product", "category": "product category", "channel": "channel or store",
    "country": "country",
}
_FIELD_NAMES = {
    "customer": r"^(customer|client|member|user|account|buyer|shopper|cust)_?(id|no|num|number"
                r"|key|ref|code)?$|^customerid$",
    "date": r"(date|time|timestamp|datetime|ordered_?at|created_?at|purchased?_?at)",
    "order": r"^(invoice|order|receipt|transaction|basket|ticket|bill)_?(no|id|num|number|ref)?$",
    "amount": r"^(amount|line_?total|total|revenue|sales|value|line_?amount|net_?amount|spend"
              r"|price_?total|gross)$",
    "quantity": r"^(qty|quantity|units|items|pieces|count)$",
    "price": r"^(unit_?price|price|unit_?cost|price_?each|item_?price)$",
    "product": r"^(stock_?code|sku|product|product_?(id|code|no)|item|item_?(id|code|no)"
               r"|article|ean|upc)$",
    "category": r"(category|department|family|product_?group|product_?type|class)",
    "channel": r"^(channel|store|shop|outlet|branch|source|sales_?channel|store_?id)$",
    "country": r"^(country|market|nation|country_?code)$",
}

REASON_NO_CUSTOMER = "line without a customer id"
REASON_DUPLICATE = "exact duplicate line"
REASON_BAD_DATE = "date not readable"
REASON_BAD_AMOUNT = "amount not readable"
REASON_ZERO_PRICE = "zero or negative price"
REASON_AFTER_REFERENCE = "date after the reference date"

_DATE_FORMATS = (
    ("%Y-%m-%d %H:%M:%S", "ISO"), ("%Y-%m-%dT%H:%M:%S", "ISO"), ("%Y-%m-%d %H:%M", "ISO"),
    ("%Y-%m-%d", "ISO"), ("%d/%m/%Y %H:%M", "day first"), ("%m/%d/%Y %H:%M", "month first"),
    ("%d/%m/%Y %H:%M:%S", "day first"), ("%m/%d/%Y %H:%M:%S", "month first"),
    ("%d/%m/%Y", "day first"), ("%m/%d/%Y", "month first"), ("%d-%m-%Y %H:%M", "day first"),
    ("%d-%m-%Y", "day first"), ("%d.%m.%Y %H:%M", "day first"), ("%d.%m.%Y", "day first"),
    ("%Y/%m/%d %H:%M", "ISO"), ("%Y/%m/%d", "ISO"),
)


@dataclass(frozen=True)
class OrderLog:
    """Customers aggregated from order lines, and the account of every line.

    Attributes
    ----------
    customers : DataFrame
        One row per customer: ``customer_id`` then the aggregates (see ``labels``).
    roles, labels : dict
        The role and the display name of every column of ``customers``.
    default_features, log_features : tuple of str
        The clustering variables a log starts with, and those log-scaled.
    lines_read : int
        Order lines in the input.
    dropped : dict
        ``{reason: lines}`` left out; ``lines_read - sum(dropped)`` lines were aggregated.
    missing_id_revenue : float
        Net amount of the lines without a customer id.
    return_lines : int
        Cancellation and return lines, netted into the customers' figures.
    orders : DataFrame
        One row per order: ``customer_id``, ``order_id``, ``date``, ``value`` (net); left
        empty above ``MAX_ORDERS_KEPT`` orders (see ``history``).
    history : DataFrame
        Per customer, the purchase history that customer-lifetime models read, counted by
        day (``frequency`` repeat purchase days, ``recency`` and ``T`` in days,
        ``monetary_value`` the mean value of the repeat purchase days), indexed by
        ``customer_id``.
    reference_date : str
        ISO date that recency and tenure are counted to.
    mapping : dict
        ``{field: column}`` used (see :data:`FIELDS`).
    notes : tuple of str
        What was decided from the values (date format, decimal mark ...).
    sql : str
        The aggregation, as run.
    """

    customers: pd.DataFrame
    roles: dict[str, str]
    labels: dict[str, str]
    default_features: tuple[str, ...]
    log_features: tuple[str, ...]
    lines_read: int
    dropped: dict[str, int]
    missing_id_revenue: float
    return_lines: int
    orders: pd.DataFrame
    reference_date: str
    mapping: dict[str, str]
    notes: tuple[str, ...] = ()
    sql: str = ""
    malformed_lines: tuple[int, ...] = field(default=())
    history: pd.DataFrame | None = None

    @property
    def lines_aggregated(self) -> int:
        return self.lines_read - sum(self.dropped.values())

    def summary(self) -> dict:
        """The line accounting as plain data (for ``summary.json`` and the Data page)."""
        return {"lines_read": self.lines_read, "lines_aggregated": self.lines_aggregated,
                "lines_dropped": dict(self.dropped),
                "revenue_without_customer": round(self.missing_id_revenue, 2),
                "return_lines_netted": self.return_lines, "customers": len(self.customers),
                "reference_date": self.reference_date, "mapping": dict(self.mapping),
                "notes": list(self.notes)}


def detect_mapping(frame: pd.DataFrame) -> dict[str, str]:
    """Which column is the customer id, the date, the order id, the amount ... by name.

    Returns ``{field: column}`` for the fields found (see :data:`FIELDS`).
    """
    out: dict[str, str] = {}
    keys = {col: _normalise_name(col) for col in frame.columns}
    for name in FIELDS:
        pattern = re.compile(_FIELD_NAMES[name])
        for col, key in keys.items():
            if col in out.values():
                continue
            if pattern.search(key):
                out[name] = col
                break
    return out


def looks_like_log(frame: pd.DataFrame, mapping: dict[str, str] | None = None) -> str | None:
    """One sentence saying why ``frame`` is a log of order lines, or None if it is not.

    A log repeats its customer ids (``LOG_ROWS_PER_CUSTOMER`` rows per customer or
    more) and has a date and an amount (or a quantity and a unit price).
    """
    mapping = mapping or detect_mapping(frame)
    customer = mapping.get("customer")
    if customer is None or "date" not in mapping or len(frame) < LOG_MIN_ROWS:
        return None
    if "amount" not in mapping and not {"quantity", "price"} <= set(mapping):
        return None
    ids = frame[customer].astype("string").str.strip()
    ids = ids[ids.notna() & (ids != "")]
    if ids.empty:
        return None
    per_customer = len(ids) / ids.nunique()
    if per_customer < LOG_ROWS_PER_CUSTOMER:
        return None
    return (f"This is a log of order lines ({len(frame):,} lines for {ids.nunique():,} "
            f"customers in {customer!r}, with dates in {mapping['date']!r}), so it is totalled "
            "per customer before segmenting.")


def aggregate_log(source: RawTable | pd.DataFrame | str | Path | list,
                  mapping: dict[str, str] | None = None,
                  reference_date: str | None = None, name: str = "the log") -> OrderLog:
    """Aggregate order lines to one row per customer, counting every line.

    Parameters
    ----------
    source : RawTable, DataFrame, path, glob, folder or list of paths
        Lines as read by :func:`segmentation.data.customer_file.read_table`, or CSV/Parquet files that
        DuckDB reads directly (several files read as one log).
    mapping : dict, optional
        ``{field: column}`` overriding the detected mapping.
    reference_date : str, optional
        ISO date recency and tenure are counted to; default the day after the log's
        last date.

    Raises
    ------
    SegmentationError
        When a needed column cannot be found or mapped, or no line is left.
    """
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        # Bounded memory: beyond this DuckDB spills to a temporary folder on disk.
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        con.execute(f"SET temp_directory = '{tempfile.gettempdir()}/segmentation_duckdb'")
        lines_read, malformed, columns, raw_name = _register_source(con, source, name)
        sample = con.execute("SELECT * FROM src LIMIT 2000").df()
        found = detect_mapping(sample)
        found.update({k: v for k, v in (mapping or {}).items() if v})
        _check_mapping(found, columns, raw_name)
        date_format, date_note = _date_format(con, found["date"])
        decimal = _decimal_of(sample, found)
        sql = _aggregation_sql(found, date_format, decimal, reference_date, columns)
        con.execute(sql)
        return _collect(_Query(con), found, lines_read, malformed, date_note, decimal, sql,
                        raw_name)
    except duckdb.Error as exc:
        raise SegmentationError(
            f"{name} could not be totalled per customer ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:160]}): check the column mapping."
        ) from None
    finally:
        con.close()


def _register_source(con, source, name):
    if isinstance(source, RawTable):
        frame = source.frame
        con.register("src_frame", frame.astype("string"))
        con.execute("CREATE VIEW src AS SELECT * FROM src_frame")
        return source.rows_read, source.malformed_lines, list(frame.columns), source.name
    if isinstance(source, pd.DataFrame):
        con.register("src_frame", source.astype("string"))
        con.execute("CREATE VIEW src AS SELECT * FROM src_frame")
        return len(source), (), list(source.columns), name
    paths = _paths(source)
    rejected = 0
    for i, path in enumerate(paths):
        quoted = "'" + str(path).replace("'", "''") + "'"
        if path.suffix.lower() == ".parquet":
            reader = f"read_parquet({quoted})"
        else:
            reader = (f"read_csv({quoted}, all_varchar = true, header = true, "
                      "ignore_errors = true, store_rejects = true, "
                      f"encoding = '{_encoding(path)}')")
        # One file at a time, so that every rejected line of every file is counted.
        if i == 0:
            con.execute(f"CREATE TABLE src AS SELECT * FROM {reader}")
        else:
            con.execute(f"INSERT INTO src BY NAME SELECT * FROM {reader}")
        if path.suffix.lower() != ".parquet":
            rejected += con.execute("SELECT count(DISTINCT line) FROM reject_errors"
                                    ).fetchone()[0]
    kept = con.execute("SELECT count(*) FROM src").fetchone()[0]
    columns = [r[0] for r in con.execute("DESCRIBE src").fetchall()]
    label = paths[0].name if len(paths) == 1 else f"{len(paths)} files"
    return kept + rejected, tuple(range(int(rejected))), columns, label


def _paths(source) -> list[Path]:
    items = source if isinstance(source, list | tuple) else [source]
    out: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            out += sorted(p for p in path.iterdir()
                          if p.suffix.lower() in {".csv", ".tsv", ".txt", ".parquet"})
        elif any(ch in str(item) for ch in "*?["):
            out += sorted(Path(path.anchor or ".").glob(str(path.relative_to(path.anchor))
                                                        if path.is_absolute() else str(item)))
        else:
            out.append(path)
    missing = [p for p in out if not p.is_file()]
    if not out or missing:
        shown = str(missing[0]) if missing else str(items[0])
        raise SegmentationError(
            f"No order file at {shown!r}: give a CSV or Parquet file, a folder of them or a "
            "pattern such as 'orders_*.csv'."
        )
    return out


def _encoding(path: Path) -> str:
    head = path.read_bytes()[:1 << 20] if path.stat().st_size < 1 << 20 else _head(path)
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        return "utf-8" if exc.start > len(head) - 4 else "latin-1"


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(1 << 20)


def _check_mapping(found: dict[str, str], columns: list[str], name: str) -> None:
    for fld, col in found.items():
        if fld not in FIELDS:
            raise SegmentationError(
                f"{fld!r} is not a field of an order log: map only {', '.join(FIELDS)}."
            )
        if col not in columns:
            raise SegmentationError(
                f"The {FIELD_LABELS[fld]} is mapped to {col!r}, which is not a column of {name}: "
                f"use one of {', '.join(repr(c) for c in columns[:12])}."
            )
    needed = [f for f in ("customer", "date") if f not in found]
    if "amount" not in found and not {"quantity", "price"} <= set(found):
        needed.append("amount (or quantity and price)")
    if needed:
        raise SegmentationError(
            f"{name} has no column recognised as the {' or '.join(needed)}: map it, e.g. "
            "--map \"customer=CustomerID,date=InvoiceDate,quantity=Quantity,price=UnitPrice\"."
        )


def _date_format(con, column: str) -> tuple[str, str]:
    """The strptime format that reads the most dates; day/month order decided from values."""
    col = _ident(column)
    best, best_share, label = None, 0.0, ""
    shares = {}
    for fmt, kind in _DATE_FORMATS:
        share = con.execute(
            f"SELECT avg((try_strptime(trim({col}), '{fmt}') IS NOT NULL)::INT) "
            f"FROM (SELECT {col} FROM src WHERE {col} IS NOT NULL AND trim({col}) <> '' "
            "LIMIT 20000)").fetchone()[0] or 0.0
        shares[fmt] = share
        if share > best_share:
            best, best_share, label = fmt, share, kind
    if best is None or best_share < 0.9:
        raise SegmentationError(
            f"The dates in {column!r} are in no format this reader knows: write them as "
            "yyyy-mm-dd, dd/mm/yyyy or mm/dd/yyyy (a time may follow)."
        )
    if label == "day first":
        twin = best.replace("%d", "%X").replace("%m", "%d").replace("%X", "%m")
        if shares.get(twin, 0.0) >= best_share:
            return best, (f"Dates in {column!r} could be day or month first (no day above 12): "
                          "read as day first.")
        return best, f"Dates in {column!r} are day first (a day above 12 is in the first place)."
    if label == "month first":
        return best, f"Dates in {column!r} are month first (a day above 12 is in the second place)."
    return best, f"Dates in {column!r} are ISO (year first)."


def _decimal_of(sample: pd.DataFrame, found: dict[str, str]) -> str:
    from segmentation.data.customer_file import _detect_decimal

    cols = [found[f] for f in ("amount", "quantity", "price") if f in found]
    return _detect_decimal(sample[cols].astype(object)) if cols else "."


@dataclass(frozen=True)
class _Dialect:
    """How one engine spells the few pieces the two engines write differently."""

    name: str
    make: str  # what an intermediate result is made as
    view: str
    ident: Callable[[str], str]
    literal: Callable[[str], str]
    cast: Callable[[str, str], str]
    days: Callable[[str, str], str]  # whole days from the first date to the second
    where: Callable[[str, str, str], str]  # an aggregate over the rows meeting a condition
    timestamp: Callable[[str, str], str]  # text read with a strptime format, NULL if not
    day_text: Callable[[str], str]
    next_day: Callable[[str], str]
    strip: Callable[[str, str], str]  # every match of a regular expression removed
    to_double: Callable[[str], str]


def _spark_where(function: str, argument: str, condition: str) -> str:
    distinct = "DISTINCT " if argument.startswith("DISTINCT ") else ""
    value = argument.removeprefix("DISTINCT ")
    return f"{function}({distinct}CASE WHEN {condition} THEN {value} END)"


DUCKDB = _Dialect(
    name="duckdb", make="CREATE TABLE", view="CREATE VIEW",  # tables: computed once
    ident=lambda c: '"' + str(c).replace('"', '""') + '"',
    literal=lambda t: "'" + str(t).replace("'", "''") + "'",
    cast=lambda e, kind: f"({e})::{kind}" if " " in e else f"{e}::{kind}",
    days=lambda a, b: f"date_diff('day', {a}, {b})",
    where=lambda f, arg, cond: f"{f}({arg}) FILTER (WHERE {cond})",
    timestamp=lambda t, fmt: f"try_strptime({t}, '{fmt}')",
    day_text=lambda ts: f"strftime({ts}, '%Y-%m-%d')",
    next_day=lambda d: f"{d} + 1",
    strip=lambda t, pattern: f"regexp_replace({t}, '{pattern}', '', 'g')",
    to_double=lambda t: f"TRY_CAST({t} AS DOUBLE)",
)
# Spark plans the chain of views as one query; it has no FILTER clause on DISTINCT
# aggregates in every version, so conditions go inside CASE.
SPARK = replace(
    DUCKDB, name="spark", make="CREATE OR REPLACE TEMP VIEW", view="CREATE OR REPLACE TEMP VIEW",
    ident=lambda c: "`" + str(c).replace("`", "``") + "`",
    literal=lambda t: "'" + str(t).replace("\\", "\\\\").replace("'", "\\'") + "'",
    cast=lambda e, kind: f"CAST({e} AS {kind})",
    days=lambda a, b: f"datediff({b}, {a})",
    where=_spark_where,
    timestamp=lambda t, fmt: f"try_to_timestamp({t}, '{_java_pattern(fmt)}')",
    day_text=lambda ts: f"date_format({ts}, 'yyyy-MM-dd')",
    next_day=lambda d: f"date_add({d}, 1)",
    strip=lambda t, pattern: f"regexp_replace({t}, '{pattern}', '')",
)
_JAVA_PATTERN = {"%Y": "yyyy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss",
                 "T": "'T'"}


def _java_pattern(strftime: str) -> str:
    """A strptime format of :data:`_DATE_FORMATS` as Spark's datetime pattern."""
    return re.sub("|".join(_JAVA_PATTERN), lambda m: _JAVA_PATTERN[m.group(0)], strftime)


def _ident(column: str) -> str:
    return DUCKDB.ident(column)


def _number(column: str, decimal: str, d=DUCKDB) -> str:
    """SQL turning formatted text ('$1,234.50', '1.234,50 €', '(12)') into a DOUBLE."""
    text = d.strip(f"trim({d.ident(column)})", "[^0-9,.+eE-]")
    if decimal == ",":
        text = f"replace(replace({text}, '.', ''), ',', '.')"
    else:
        text = f"replace({text}, ',', '')"
    return d.to_double(f"NULLIF({text}, '')")


def _text(column: str | None, d=DUCKDB) -> str:
    return f"NULLIF(trim({d.ident(column)}), '')" if column else "NULL"


# Every per-customer figure, defined once for both engines: name -> SQL over the kept lines
# (``PER_LINE``), over the orders (``PER_ORDER``), or over those two and the reference date
# (``CUSTOMER_FEATURES``, in output order). Each takes the dialect, which spells date
# differences, casts and conditional aggregates.
PER_LINE = {
    "first_ts": lambda d: "min(ts)",
    "net_spend": lambda d: "sum(amount)",
    "items": lambda d: d.where("sum", "quantity", "quantity > 0"),
    "distinct_products": lambda d: d.where("count", "DISTINCT product", "NOT is_return"),
    "return_rate": lambda d: f"avg({d.cast('is_return', 'INT')})",
}
PER_ORDER = {
    "orders": lambda d: "count(*)",
    "first_order": lambda d: "min(date)",
    "last_order": lambda d: "max(date)",
}
_REF = "(SELECT reference_date FROM ref)"
CUSTOMER_FEATURES = {
    "recency_days": lambda d: d.days(d.cast("o.last_order", "DATE"), _REF),
    "orders": lambda d: "coalesce(o.orders, 0)",
    "net_spend": lambda d: "l.net_spend",
    "days_since_first_order": lambda d: d.days(d.cast("l.first_ts", "DATE"), _REF),
    "avg_order_value": lambda d: "CASE WHEN o.orders > 0 THEN l.net_spend / o.orders END",
    "avg_days_between_orders": lambda d: (
        "CASE WHEN o.orders > 1 THEN "
        f"{d.days(d.cast('o.first_order', 'DATE'), d.cast('o.last_order', 'DATE'))}"
        " / (o.orders - 1) END"),
    "items_per_order": lambda d: "CASE WHEN o.orders > 0 THEN l.items / o.orders END",
    "distinct_products": lambda d: "l.distinct_products",
    "return_rate": lambda d: "l.return_rate",
}
# What a category or channel share measures, per customer and part.
SHARE_MEASURES = {
    "category": lambda d: d.where("sum", "amount", "amount > 0"),
    "channel": lambda d: d.where("count", "DISTINCT order_id", "NOT is_return"),
}


_TYPED = ("customer_id, ts, order_id, quantity, amount, product, category, channel, country, "
          "is_return, copies")


def _select(table: dict, d) -> str:
    return ",\n       ".join(f"{expr(d)} AS {name}" for name, expr in table.items())


def _duplicates_sql(every: str, d) -> str:
    if d is SPARK:  # one grouping pass: Spark spreads it over the cluster
        return (f"{d.make} lines AS\nSELECT {every}, count(*) AS copies FROM src "
                f"GROUP BY {every};")
    return f"""-- Exact duplicate lines: a 64-bit hash of every field finds the few candidates fast;
-- only those are compared field by field.
CREATE VIEW hashed AS SELECT *, hash({every}) AS line_hash FROM src;
CREATE TABLE repeated AS
SELECT line_hash FROM hashed GROUP BY line_hash HAVING count(*) > 1;
CREATE VIEW lines AS
SELECT * EXCLUDE (line_hash), 1 AS copies FROM hashed
WHERE line_hash NOT IN (SELECT line_hash FROM repeated)
UNION ALL
SELECT {every}, count(*) AS copies FROM hashed
WHERE line_hash IN (SELECT line_hash FROM repeated)
GROUP BY ALL;"""


def _aggregation_sql(m: dict[str, str], date_format: str, decimal: str,
                     reference_date: str | None, columns: list[str], d=DUCKDB) -> str:
    qty = _number(m["quantity"], decimal, d) if "quantity" in m else "NULL"
    price = _number(m["price"], decimal, d) if "price" in m else "NULL"
    amount = (_number(m["amount"], decimal, d) if "amount" in m
              else f"({qty}) * ({price})")
    order = _text(m.get("order"), d)
    customer = _text(m["customer"], d)
    every = ", ".join(d.ident(c) for c in columns)
    # A cancellation or return: a "C" invoice, a negative quantity or a negative amount.
    cancelled = (f"(coalesce(upper({order}) LIKE 'C%', FALSE) OR coalesce(quantity_, 0) < 0 "
                 "OR coalesce(amount_, 0) < 0)")
    first = "typed_lines" if d is SPARK else "typed"
    reference = (f"DATE '{pd.Timestamp(reference_date).date().isoformat()}'" if reference_date
                 else f"(SELECT {d.next_day(d.cast('max(ts)', 'DATE'))} FROM {first} "
                      "WHERE reason IS NULL)")
    price_check = f"{price} <= 0" if "price" in m else "amount_ = 0"
    late = (f"reason IS NULL AND {d.cast('ts', 'DATE')} >= (SELECT reference_date FROM ref)\n"
            f"  AND {'TRUE' if reference_date else 'FALSE'}")
    if d is SPARK:  # no UPDATE on a view: the reason is decided in a second view
        after = (f"{d.make} typed AS\nSELECT {_TYPED}, CASE WHEN {late} THEN "
                 f"'{REASON_AFTER_REFERENCE}' ELSE reason END AS reason FROM typed_lines;")
    else:
        after = f"UPDATE typed SET reason = '{REASON_AFTER_REFERENCE}'\nWHERE {late};"
    return f"""
{_duplicates_sql(every, d)}

{d.view} parsed AS
SELECT *,
       {d.timestamp(f"trim({d.ident(m['date'])})", date_format)} AS ts_,
       {amount} AS amount_,
       {qty} AS quantity_
FROM lines;

{d.make} {first} AS
SELECT {customer} AS customer_id,
       ts_ AS ts,
       coalesce({order}, {d.day_text('ts_')}) AS order_id,
       quantity_ AS quantity,
       amount_ AS amount,
       {_text(m.get('product'), d)} AS product,
       {_text(m.get('category'), d)} AS category,
       {_text(m.get('channel'), d)} AS channel,
       {_text(m.get('country'), d)} AS country,
       {cancelled} AS is_return,
       copies,
       CASE
         WHEN {customer} IS NULL THEN '{REASON_NO_CUSTOMER}'
         WHEN ts_ IS NULL THEN '{REASON_BAD_DATE}'
         WHEN amount_ IS NULL THEN '{REASON_BAD_AMOUNT}'
         WHEN {price_check} AND NOT {cancelled}
           THEN '{REASON_ZERO_PRICE}'
       END AS reason
FROM parsed;

{d.make} ref AS SELECT {reference} AS reference_date;

{after}

{d.view} kept AS SELECT * FROM typed WHERE reason IS NULL;

{d.make} orders AS
SELECT customer_id, order_id, min(ts) AS date, sum(amount) AS value,
       bool_and(is_return) AS is_return
FROM kept GROUP BY customer_id, order_id;

{d.make} per_line AS
SELECT customer_id, {_select(PER_LINE, d)}
FROM kept GROUP BY customer_id;

{d.make} per_order AS
SELECT customer_id, {_select(PER_ORDER, d)}
FROM orders WHERE NOT is_return GROUP BY customer_id;

{d.make} customers AS
SELECT l.customer_id,
       {_select(CUSTOMER_FEATURES, d)}
FROM per_line l LEFT JOIN per_order o USING (customer_id)
ORDER BY l.customer_id;
"""


class _Query:
    """Runs a query on either engine and hands back rows or a pandas frame."""

    def __init__(self, con, d: _Dialect = DUCKDB):
        self.con, self.d = con, d

    def rows(self, sql: str) -> list[tuple]:
        if self.d is SPARK:
            return [tuple(r) for r in self.con.sql(sql).collect()]
        return self.con.execute(sql).fetchall()

    def frame(self, sql: str) -> pd.DataFrame:
        if self.d is SPARK:  # row by row: no pandas conversion inside pyspark
            result = self.con.sql(sql)
            return pd.DataFrame.from_records([tuple(r) for r in result.collect()],
                                             columns=result.columns)
        return self.con.execute(sql).df()


def _collect(q: _Query, m, lines_read, malformed, date_note, decimal, sql, name) -> OrderLog:
    d = q.d
    customers = q.frame("SELECT * FROM customers ORDER BY customer_id")
    roles = {"customer_id": "id", "recency_days": "recency", "orders": "other_numeric",
             "net_spend": "money", "days_since_first_order": "other_numeric", "avg_order_value": "money",
             "avg_days_between_orders": "other_numeric", "items_per_order": "other_numeric",
             "distinct_products": "other_numeric", "return_rate": "other_numeric"}
    labels = {"recency_days": "Days since last order", "orders": "Orders",
              "net_spend": "Net spend", "days_since_first_order": "Days since first order",
              "avg_order_value": "Average order value",
              "avg_days_between_orders": "Days between orders",
              "items_per_order": "Items per order", "distinct_products": "Distinct products",
              "return_rate": "Share of lines returned",
              "overdue": "Days since last order / usual days between orders"}
    # How late a customer is by their own rhythm: 2 means twice their usual gap since the
    # last order. A one-order customer has no rhythm yet; the median customer's stands in.
    gap = customers["avg_days_between_orders"]
    usual = gap.where(gap > 0).fillna(gap[gap > 0].median() if (gap > 0).any() else np.nan)
    customers["overdue"] = customers["recency_days"] / usual
    roles["overdue"] = "overdue"
    if "quantity" not in m:
        customers = customers.drop(columns="items_per_order")
    if "product" not in m:
        customers = customers.drop(columns="distinct_products")
    shares = []
    if "category" in m:
        shares += _shares(q, customers, roles, labels, "category", TOP_CATEGORIES,
                          SHARE_MEASURES["category"](d), "share_",
                          "Share of spend: ")
    if "channel" in m:
        shares += _shares(q, customers, roles, labels, "channel", TOP_CHANNELS,
                          SHARE_MEASURES["channel"](d),
                          "channel_share_", "Share of orders: ")
    if "country" in m:
        country = q.frame("""SELECT customer_id, mode(country) AS country FROM kept
                             GROUP BY customer_id""").set_index("customer_id")
        customers["country"] = customers["customer_id"].map(country["country"])
        roles["country"], labels["country"] = "category", "Country"
    customers = customers.assign(**{c: customers[c].astype(float) for c in customers.columns
                                    if c not in {"customer_id", "country"}})
    dropped = dict(q.rows(
        f"SELECT reason, sum(copies) FROM typed WHERE reason IS NOT NULL GROUP BY reason "
        f"UNION ALL SELECT '{REASON_DUPLICATE}', sum(copies - 1) FROM typed "
        "WHERE reason IS NULL AND copies > 1 ORDER BY 1"))
    dropped = {k: v for k, v in dropped.items() if v}
    missing = len(malformed)
    if missing:
        dropped["malformed line (wrong number of fields)"] = missing
    no_id = q.rows(f"SELECT coalesce(sum(amount * copies), 0) FROM typed "
                   f"WHERE reason = '{REASON_NO_CUSTOMER}'")[0][0]
    returns = q.rows("SELECT count(*) FROM kept WHERE is_return")[0][0]
    reference = q.rows("SELECT reference_date FROM ref")[0][0]
    if customers.empty:
        raise SegmentationError(
            f"No line of {name} could be used ({', '.join(f'{r}: {n:,}' for r, n in dropped.items())}"
            "): check the column mapping."
        )
    notes = [date_note]
    day = d.cast("date", "DATE")
    history = q.frame(f"""
        WITH days AS (SELECT customer_id, {day} AS day, sum(value) AS value
                      FROM orders WHERE NOT is_return GROUP BY customer_id, {day}),
        numbered AS (SELECT *, row_number() OVER (PARTITION BY customer_id ORDER BY day) AS k
                     FROM days)
        SELECT customer_id, {d.cast("count(*) - 1", "DOUBLE")} AS frequency,
               {d.cast(d.days("min(day)", "max(day)"), "DOUBLE")} AS recency,
               {d.cast(d.days("min(day)", _REF), "DOUBLE")} AS T,
               {d.cast(f"coalesce({d.where('avg', 'value', 'k > 1')}, 0)", "DOUBLE")}
                 AS monetary_value
        FROM numbered GROUP BY customer_id ORDER BY customer_id""").set_index("customer_id")
    n_orders = q.rows("SELECT count(*) FROM orders WHERE NOT is_return")[0][0]
    if n_orders > MAX_ORDERS_KEPT:
        notes.append(f"{n_orders:,} orders: the order list is not kept in memory; the "
                     "per-customer history is.")
    orders = q.frame(f"SELECT customer_id, order_id, date, value FROM orders "
                     f"WHERE NOT is_return AND {n_orders} <= {MAX_ORDERS_KEPT} "
                     "ORDER BY customer_id, date")
    if decimal == ",":
        notes.append("Amounts use a decimal comma.")
    default = [c for c in ("recency_days", "orders", "net_spend", "avg_order_value", *shares)
               if c in customers.columns]
    return OrderLog(
        customers=customers.reset_index(drop=True),
        roles={c: roles[c] for c in customers.columns},
        labels={c: labels[c] for c in customers.columns if c in labels},
        default_features=tuple(default), log_features=("orders", "net_spend"),
        lines_read=int(lines_read), dropped={str(k): int(v) for k, v in dropped.items()},
        missing_id_revenue=float(no_id), return_lines=int(returns), orders=orders,
        history=history,
        reference_date=pd.Timestamp(reference).date().isoformat(), mapping=dict(m),
        notes=tuple(notes), sql=sql.strip(), malformed_lines=tuple(malformed),
    )


def _shares(q: _Query, customers, roles, labels, column, top, measure, prefix, label_prefix):
    ranked = [r[0] for r in q.rows(
        f"SELECT {column} FROM kept WHERE {column} IS NOT NULL GROUP BY {column} "
        f"ORDER BY {measure} DESC NULLS LAST, {column} LIMIT {top + 1}")]
    if len(ranked) < 2:
        return []
    named = ranked[:top] if len(ranked) <= top else ranked[:top - 1]
    part = (f"CASE WHEN {column} IN ({', '.join(q.d.literal(n) for n in named)}) "
            f"THEN {column} ELSE 'other' END")
    table = q.frame(
        f"SELECT customer_id, {part} AS part, {q.d.cast(measure, 'DOUBLE')} AS amount "
        f"FROM kept GROUP BY customer_id, {part}")
    wide = table.pivot_table(index="customer_id", columns="part", values="amount",
                             aggfunc="sum", fill_value=0.0)
    total = wide.sum(axis=1).replace(0, np.nan)
    out = []
    for part in [*named, "other"]:
        if part not in wide.columns:
            continue
        col = f"{prefix}{_slug(part)}"
        customers[col] = customers["customer_id"].map((wide[part] / total).fillna(0.0)).fillna(0.0)
        roles[col] = "other_numeric"
        labels[col] = f"{label_prefix}{part}"
        out.append(col)
    # The shares of a customer add up to one: the last is known from the others, so it is
    # profiled but left out of the default clustering set.
    return out[:-1]


def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(value).lower()).strip("_") or "blank"


INPUT_KINDS = ("auto", "customers", "transactions")


def read_customers(source, kind: str = "auto", mapping: dict[str, str] | None = None,
                   reference_date: str | None = None, name: str | None = None,
                   sheet: str | None = None) -> RawTable:
    """Read a customer table, or an order log totalled to one (``RawTable.log`` says which).

    ``kind`` is ``"auto"`` (a log is recognised by :func:`looks_like_log`),
    ``"customers"`` or ``"transactions"``. A folder, a pattern such as
    ``orders_*.csv`` or a list of files is always read as one log.
    """
    from segmentation.data.customer_file import read_table

    if kind not in INPUT_KINDS:
        raise SegmentationError(
            f"{kind!r} is not an input kind: use one of {', '.join(INPUT_KINDS)}."
        )
    if isinstance(source, RawTable):
        raw = source
    elif _is_many(source):
        if kind == "customers":
            raise SegmentationError(
                "Several files are read as one order log: give a single customer table, or "
                "set the input kind to transactions."
            )
        return _as_customers(aggregate_log(source, mapping, reference_date), None, name)
    else:
        raw = read_table(source, name=name, sheet=sheet)
    if kind == "customers":
        return raw
    given = {k: v for k, v in (mapping or {}).items() if v}
    found = {**detect_mapping(raw.frame), **given}
    why = looks_like_log(raw.frame, found)
    if kind == "auto" and why is None:
        return raw
    log = aggregate_log(raw, found, reference_date, name=raw.name)
    return _as_customers(log, raw, name, why)


def _is_many(source) -> bool:
    if isinstance(source, list | tuple):
        return True
    if isinstance(source, str | Path):
        return Path(source).is_dir() or any(ch in str(source) for ch in "*?[")
    return False


def _as_customers(log: OrderLog, raw: RawTable | None, name: str | None,
                  why: str | None = None) -> RawTable:
    from dataclasses import replace

    frame = log.customers.astype({"customer_id": object})
    notes = ((why,) if why else ()) + log.notes
    base = raw if raw is not None else RawTable(frame=frame, rows_read=len(frame),
                                                name=name or "order log")
    return replace(base, frame=frame, rows_read=len(frame), malformed_lines=(),
                   line_numbers=None, notes=notes, log=log, decimal=".")


def parse_map(text: str | None) -> dict[str, str]:
    """``"customer=CustomerID,date=InvoiceDate"`` → ``{"customer": "CustomerID", ...}``."""
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, eq, value = part.partition("=")
        key = key.strip().lower()
        if not eq or not value.strip():
            raise SegmentationError(
                f"--map {part.strip()!r} is not field=column: write e.g. "
                "--map \"customer=CustomerID,date=InvoiceDate\"."
            )
        if key not in FIELDS:
            raise SegmentationError(
                f"{key!r} is not a field of an order log: map {', '.join(FIELDS)}."
            )
        out[key] = value.strip()
    return out
