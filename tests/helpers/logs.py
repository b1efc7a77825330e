"""Order-line logs as a web shop, till or ERP exports them, with planted customer types.

One row per order line.  Columns, in this order:

``InvoiceNo``
    text, six digits (``"536365"``), numbered in time order; a cancellation invoice is the
    next number prefixed with ``"C"`` (``"C536366"``) and its lines have negative quantities.
``StockCode``
    text product code (``"85123A"``, ``"22423"``).
``Description``
    text product name in capitals (one contains a non-ASCII letter, ``"CAFÉ AU LAIT BOWL SET"``).
``Category``
    one of :data:`CATEGORIES` (six product families).
``Quantity``
    int; negative on cancellation lines.
``InvoiceDate``
    text; ``"dd/mm/yyyy hh:mm"`` in :func:`order_log` (day first, days above 12 occur) and
    ISO ``"yyyy-mm-dd hh:mm"`` in :func:`tiny_log`.
``UnitPrice``
    float with two decimals; ``0.0`` on free lines.
``CustomerID``
    text of an integer (``"12346"``), or ``""`` for a guest checkout.
``Country``
    a few country names, fixed per customer.
``Channel``
    ``"online"`` or ``"store"``, per order.

Every generator is deterministic for its arguments (``numpy.random.default_rng(seed)``).

:func:`order_log` plants four customer types (``attrs["types"]``) and maps every customer id
to its type in ``attrs["planted"]``:

``frequent loyal`` (35%)
    an order every 14-21 days from the first two weeks to the end; 1-5 lines of cheap items.
    At least 17 orders each.
``rare big-ticket`` (20%)
    2-4 orders in the year, the first within its first 240 days; 3-6 lines of dozens of
    units or of premium items, so orders are worth far more than anyone else's.
``lapsed`` (25%)
    an order every 14-35 days from the first month until day 169 of 365, then nothing: at
    least 4 orders, and no line at all (cancellations included) in the last 180 days.
``new`` (20%)
    a first order in the last 56 days, then up to two more: 1-3 orders in all.

Damage, counted in ``attrs`` (counts are of rows of the returned frame):

``n_missing_id_lines``
    lines with ``CustomerID == ""``: guest orders, about 20% of the lines.  Guest orders are
    extra orders, so the planted customers keep all their lines.
``n_cancellation_lines``
    lines of ``C`` invoices.  About 2% of the orders are cancelled 1-7 days later, each by
    one ``C`` invoice from the same customer that reverses part or all of the quantity of
    some of the order's lines at the same unit price.  Only customers' orders are cancelled.
``n_duplicate_lines``
    extra, exact copies of about 0.5% of the lines (``frame.duplicated().sum()``), placed
    right after the original; never in a cancelled order or a cancellation.
``n_zero_price_lines``
    about 0.3% of the lines have ``UnitPrice == 0``, always in an order of at least two
    lines, never in a cancelled order, never copied.

The log covers 365 calendar days ending on ``end``, with orders on its first and last day;
``attrs["start"]`` and ``attrs["end"]`` are ISO dates.  No order has more than six lines.

:func:`tiny_log` is a hand-made log of 16 lines whose per-customer aggregates are written out
in ``attrs["expected"]``, under these definitions:

* lines are first cleaned: lines without a customer id are dropped, then exact duplicate
  lines (all columns equal; the first copy is kept), then lines with a zero or negative unit
  price; ``attrs["expected_dropped"]`` counts each reason;
* dates are calendar days (the time of day is ignored); the *reference date* is the day after
  the last date in the (uncleaned) log;
* an *order* is a distinct non-cancellation invoice; a cancellation line is a line of an
  invoice whose number starts with ``"C"``;
* ``recency_days`` = reference date - date of the customer's last order, in days;
* ``frequency`` = number of the customer's orders;
* ``monetary`` = net spend = sum of Quantity x UnitPrice over all the customer's clean lines,
  cancellations included (they are negative);
* ``tenure_days`` = reference date - date of the customer's first order, in days;
* ``avg_order_value`` = monetary / frequency;
* ``items_per_order`` = sum of the positive quantities / frequency;
* ``distinct_products`` = number of distinct StockCodes on lines with a positive quantity;
* ``return_rate`` = number of cancellation lines / number of clean lines.

:func:`monthly_files` writes a log split into one CSV per month, as periodic exports arrive.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ("InvoiceNo", "StockCode", "Description", "Category", "Quantity", "InvoiceDate",
           "UnitPrice", "CustomerID", "Country", "Channel")
TYPES = ("frequent loyal", "rare big-ticket", "lapsed", "new")
SHARES = (0.35, 0.20, 0.25, 0.20)
CATEGORIES = ("Kitchen", "Garden", "Toys", "Lighting", "Textiles", "Gifts")
COUNTRIES = ("United Kingdom", "Germany", "France", "EIRE", "Netherlands", "Spain")
COUNTRY_WEIGHTS = (0.70, 0.08, 0.07, 0.06, 0.05, 0.04)
CHANNELS = ("online", "store")
FIRST_INVOICE = 536365
DAYS = 365  # calendar days covered by order_log, the last one being ``end``
MAX_LINES = 6

LOYAL, BIG, LAPSED, NEW, GUEST = 0, 1, 2, 3, 4

# (StockCode, Description, Category, UnitPrice); the last two of each category are premium.
CATALOG: tuple[tuple[str, str, str, float], ...] = (
    ("22423", "REGENCY CAKESTAND 3 TIER", "Kitchen", 12.75),
    ("22720", "SET OF 3 CAKE TINS PANTRY DESIGN", "Kitchen", 4.95),
    ("22961", "JAM MAKING SET PRINTED", "Kitchen", 1.45),
    ("22666", "RECIPE BOX PANTRY YELLOW DESIGN", "Kitchen", 2.95),
    ("21212", "PACK OF 72 RETROSPOT CAKE CASES", "Kitchen", 0.55),
    ("22983", "CAFÉ AU LAIT BOWL SET", "Kitchen", 6.75),
    ("23245", "CAST IRON CASSEROLE 28CM", "Kitchen", 89.00),
    ("23301", "COPPER STOCK POT LARGE", "Kitchen", 129.00),
    ("47566", "PARTY BUNTING", "Garden", 4.95),
    ("48187", "DOORMAT NEW ENGLAND", "Garden", 7.95),
    ("84879", "ASSORTED COLOUR BIRD ORNAMENT", "Garden", 1.69),
    ("22693", "GROW A FLYTRAP OR SUNFLOWER IN TIN", "Garden", 1.25),
    ("21430", "SET/3 RED GINGHAM ROSE STORAGE BOX", "Garden", 3.75),
    ("22469", "HEART OF WICKER SMALL", "Garden", 1.65),
    ("23511", "TEAK GARDEN BENCH", "Garden", 320.00),
    ("23520", "CAST IRON FIRE PIT", "Garden", 175.00),
    ("22326", "ROUND SNACK BOXES SET OF4 WOODLAND", "Toys", 2.95),
    ("22629", "SPACEBOY LUNCH BOX", "Toys", 1.95),
    ("21915", "RED HARMONICA IN BOX", "Toys", 1.25),
    ("22560", "TRADITIONAL MODELLING CLAY", "Toys", 1.25),
    ("22619", "SET OF 6 SOLDIER SKITTLES", "Toys", 3.75),
    ("21790", "VINTAGE SNAP CARDS", "Toys", 0.85),
    ("23610", "WOODEN ROCKING HORSE", "Toys", 189.00),
    ("23633", "DOLLS HOUSE VICTORIAN", "Toys", 235.00),
    ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "Lighting", 2.55),
    ("21730", "GLASS STAR FROSTED T-LIGHT HOLDER", "Lighting", 4.25),
    ("23084", "RABBIT NIGHT LIGHT", "Lighting", 2.08),
    ("22804", "CANDLEHOLDER PINK HANGING HEART", "Lighting", 2.95),
    ("84970S", "HANGING HEART ZINC T-LIGHT HOLDER", "Lighting", 0.85),
    ("22178", "VICTORIAN GLASS HANGING T-LIGHT", "Lighting", 1.25),
    ("23422", "INDUSTRIAL FLOOR LAMP BRASS", "Lighting", 145.00),
    ("23437", "CRYSTAL CHANDELIER 5 ARM", "Lighting", 249.00),
    ("23203", "JUMBO BAG DOILEY PATTERNS", "Textiles", 2.08),
    ("23355", "HOT WATER BOTTLE KEEP CALM", "Textiles", 4.95),
    ("20725", "LUNCH BAG RED RETROSPOT", "Textiles", 1.65),
    ("22113", "GREY HEART HOT WATER BOTTLE", "Textiles", 3.75),
    ("21034", "REX CASH+CARRY JUMBO SHOPPER", "Textiles", 0.95),
    ("22835", "HOT WATER BOTTLE I AM SO POORLY", "Textiles", 4.65),
    ("23702", "WOOL THROW HERRINGBONE", "Textiles", 79.00),
    ("23715", "HAND WOVEN RUG 160X230", "Textiles", 265.00),
    ("22086", "PAPER CHAIN KIT 50'S CHRISTMAS", "Gifts", 2.95),
    ("22728", "ALARM CLOCK BAKELIKE PINK", "Gifts", 3.75),
    ("85099B", "JUMBO BAG RED RETROSPOT", "Gifts", 2.08),
    ("22197", "SMALL POPCORN HOLDER", "Gifts", 0.85),
    ("21977", "PACK OF 60 PINK PAISLEY CAKE CASES", "Gifts", 0.55),
    ("22457", "NATURAL SLATE HEART CHALKBOARD", "Gifts", 2.95),
    ("23811", "SILVER CUFFLINKS GIFT BOX", "Gifts", 95.00),
    ("23826", "CRYSTAL DECANTER SET", "Gifts", 149.00),
)
_PREMIUM = np.asarray([index % 8 >= 6 for index in range(len(CATALOG))])
_CATEGORY = np.asarray([CATEGORIES.index(item[2]) for item in CATALOG])

# Per kind (loyal, big-ticket, lapsed, new, guest): allowed line counts, share of premium
# items, quantity range of cheap items, quantity range of premium items, chance of "online".
_BASKET = {
    LOYAL: ((1, 2, 3, 4, 5), 0.01, (1, 7), (1, 2), 0.70),
    BIG: ((3, 4, 5, 6), 0.35, (6, 49), (1, 5), 0.30),
    LAPSED: ((1, 2, 3, 4, 5), 0.02, (1, 9), (1, 2), 0.50),
    NEW: ((1, 2, 3, 4), 0.02, (1, 7), (1, 2), 0.80),
    GUEST: ((1, 2, 3, 4, 5, 6), 0.03, (1, 13), (1, 2), 0.60),
}


def to_bytes(frame: pd.DataFrame, sep: str = ",", encoding: str = "utf-8") -> bytes:
    """The frame as a delimited file with a header row and no index column."""
    return frame.to_csv(sep=sep, index=False).encode(encoding)


def _labels(rng: np.random.Generator, n: int) -> np.ndarray:
    """Shuffled type labels in the planted shares."""
    counts = [round(share * n) for share in SHARES[:-1]]
    counts.append(n - sum(counts))
    return rng.permutation(np.repeat(np.arange(len(counts)), counts))


def _order_days(rng: np.random.Generator, kind: int) -> list[int]:
    """Day offsets (0 = first day of the log, DAYS - 1 = ``end``) of a customer's orders."""
    last = DAYS - 1
    days: list[int] = []
    if kind == LOYAL:
        day = int(rng.integers(0, 15))
        while day <= last:
            days.append(day)
            day += int(rng.integers(14, 22))
    elif kind == BIG:
        first = int(rng.integers(0, 240))
        more = int(rng.integers(1, 4))
        later = rng.choice(np.arange(first + 1, DAYS), size=more, replace=False)
        days = [first, *sorted(int(day) for day in later)]
    elif kind == LAPSED:
        day = int(rng.integers(0, 31))
        while day <= last - 195:
            days.append(day)
            day += int(rng.integers(14, 36))
    else:
        day = int(rng.integers(last - 55, DAYS))
        for _ in range(int(rng.integers(1, 4))):
            if day > last:
                break
            days.append(day)
            day += int(rng.integers(4, 21))
    return days


def _basket(rng: np.random.Generator, kind: int, favourite: int) -> list[list]:
    """Order lines ``[product index, quantity, unit price]`` with distinct products."""
    sizes, premium_share, cheap_qty, premium_qty, _ = _BASKET[kind]
    n_lines = int(rng.choice(sizes))
    weights = np.where(_PREMIUM, premium_share / _PREMIUM.sum(),
                       (1 - premium_share) / (~_PREMIUM).sum())
    weights = weights * np.where(np.equal(_CATEGORY, favourite), 3.0, 1.0)
    products = rng.choice(len(CATALOG), size=n_lines, replace=False, p=weights / weights.sum())
    lines = []
    for product in products:
        low, high = premium_qty if _PREMIUM[product] else cheap_qty
        lines.append([int(product), int(rng.integers(low, high)), CATALOG[product][3]])
    return lines


def _order(rng: np.random.Generator, kind: int, day: int, customer: str, country: str,
           favourite: int) -> dict:
    online = _BASKET[kind][4]
    return {
        "day": day,
        "minute": int(rng.integers(8 * 60, 20 * 60)),
        "customer": customer,
        "country": country,
        "channel": CHANNELS[0] if rng.random() < online else CHANNELS[1],
        "lines": _basket(rng, kind, favourite),
        "cancel": False,
        "duplicate": None,
    }


def order_log(n_customers: int = 800, seed: int = 0, end: str = "2024-12-31") -> pd.DataFrame:
    """A year of order lines from ``n_customers`` planted customers plus guest checkouts."""
    rng = np.random.default_rng(seed)
    end_date = dt.date.fromisoformat(end)
    start_date = end_date - dt.timedelta(days=DAYS - 1)
    kinds = _labels(rng, n_customers)
    ids = [str(number) for number in 12346 + np.sort(rng.choice(6000, n_customers, False))]
    countries = rng.choice(np.asarray(COUNTRIES, dtype=object), size=n_customers,
                           p=COUNTRY_WEIGHTS)
    favourites = rng.integers(0, len(CATEGORIES), size=n_customers)

    orders = []
    for customer, kind, country, favourite in zip(ids, kinds, countries, favourites,
                                                  strict=True):
        for day in _order_days(rng, int(kind)):
            orders.append(_order(rng, int(kind), day, customer, str(country), int(favourite)))
    customer_lines = sum(len(order["lines"]) for order in orders)

    # Guest checkouts: about a quarter as many lines again, i.e. ~20% of all lines; the
    # first and last guest orders pin the log to its first and last day.
    guest_lines = 0
    guest_days = iter((0, DAYS - 1))
    while guest_lines < customer_lines / 4:
        day = next(guest_days, None)
        day = int(rng.integers(0, DAYS)) if day is None else day
        country = str(rng.choice(np.asarray(COUNTRIES, dtype=object), p=COUNTRY_WEIGHTS))
        order = _order(rng, GUEST, day, "", country, int(rng.integers(0, len(CATEGORIES))))
        orders.append(order)
        guest_lines += len(order["lines"])

    # Cancellations: a C invoice 1-7 days after a customer's order, same customer.
    eligible = [i for i, order in enumerate(orders)
                if order["customer"] and order["day"] < DAYS - 1]
    n_cancel = max(1, round(0.02 * len(orders)))
    cancellations = []
    for i in sorted(int(i) for i in rng.choice(eligible, size=n_cancel, replace=False)):
        original = orders[i]
        original["cancel"] = True
        delay = int(rng.integers(1, min(7, DAYS - 1 - original["day"]) + 1))
        k = int(rng.integers(1, len(original["lines"]) + 1))
        picked = sorted(rng.choice(len(original["lines"]), size=k, replace=False))
        lines = []
        for j in picked:
            product, quantity, price = original["lines"][j]
            lines.append([product, -int(rng.integers(1, quantity + 1)), price])
        cancellations.append({
            **original,
            "day": original["day"] + delay,
            "minute": int(rng.integers(8 * 60, 20 * 60)),
            "lines": lines,
            "cancel": True,
            "credit": True,
        })

    # Free lines: in orders of two or more lines that are not cancelled.
    n_lines = customer_lines + guest_lines + sum(len(c["lines"]) for c in cancellations)
    candidates = [(i, j) for i, order in enumerate(orders)
                  if len(order["lines"]) >= 2 and not order["cancel"]
                  for j in range(len(order["lines"]))]
    n_zero = max(1, round(0.003 * n_lines))
    for pick in rng.choice(len(candidates), size=n_zero, replace=False):
        i, j = candidates[int(pick)]
        orders[i]["lines"][j][2] = 0.0

    # Exact duplicates: one copied line in each of a few customers' orders.
    candidates_orders = [i for i, order in enumerate(orders)
                         if order["customer"] and not order["cancel"]
                         and len(order["lines"]) < MAX_LINES
                         and all(line[2] > 0 for line in order["lines"])]
    n_duplicate = max(1, round(0.005 * n_lines))
    for i in rng.choice(candidates_orders, size=n_duplicate, replace=False):
        order = orders[int(i)]
        order["duplicate"] = int(rng.integers(0, len(order["lines"])))

    everything = orders + cancellations
    ordering = sorted(range(len(everything)),
                      key=lambda k: (everything[k]["day"], everything[k]["minute"], k))
    rows = []
    for number, k in enumerate(ordering, start=FIRST_INVOICE):
        order = everything[k]
        invoice = f"C{number}" if order.get("credit") else str(number)
        when = start_date + dt.timedelta(days=order["day"])
        stamp = f"{when:%d/%m/%Y} {order['minute'] // 60:02d}:{order['minute'] % 60:02d}"
        for j, (product, quantity, price) in enumerate(order["lines"]):
            code, description, category, _ = CATALOG[product]
            row = (invoice, code, description, category, quantity, stamp, price,
                   order["customer"], order["country"], order["channel"])
            rows.append(row)
            if order["duplicate"] == j:
                rows.append(row)

    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["Quantity"] = frame["Quantity"].astype("int64")
    frame["UnitPrice"] = frame["UnitPrice"].astype(float).round(2)
    frame.attrs["planted"] = {customer: TYPES[kind]
                              for customer, kind in zip(ids, kinds, strict=True)}
    frame.attrs["types"] = TYPES
    frame.attrs["start"] = start_date.isoformat()
    frame.attrs["end"] = end_date.isoformat()
    frame.attrs["n_missing_id_lines"] = int((frame["CustomerID"] == "").sum())
    frame.attrs["n_cancellation_lines"] = sum(len(c["lines"]) for c in cancellations)
    frame.attrs["n_duplicate_lines"] = n_duplicate
    frame.attrs["n_zero_price_lines"] = n_zero
    return frame


_TINY_ROWS = (
    # InvoiceNo, StockCode, Quantity, InvoiceDate, UnitPrice, CustomerID, Country, Channel
    ("536365", "22728", 24, "2024-02-12 10:00", 3.75, "12347", "Germany", "store"),
    ("536365", "48187", 10, "2024-02-12 10:00", 7.95, "12347", "Germany", "store"),
    ("536365", "21212", 5, "2024-02-12 10:00", 0.00, "12347", "Germany", "store"),
    ("C536366", "48187", -4, "2024-02-14 09:10", 7.95, "12347", "Germany", "store"),
    ("536367", "22423", 2, "2024-03-04 09:30", 12.75, "12346", "United Kingdom", "online"),
    ("536367", "85123A", 6, "2024-03-04 09:30", 2.55, "12346", "United Kingdom", "online"),
    ("536368", "85123A", 4, "2024-04-15 14:05", 2.55, "12346", "United Kingdom", "online"),
    ("536368", "21730", 3, "2024-04-15 14:05", 4.25, "12346", "United Kingdom", "online"),
    ("536368", "21730", 3, "2024-04-15 14:05", 4.25, "12346", "United Kingdom", "online"),
    ("536369", "48187", 20, "2024-05-20 15:45", 7.95, "12347", "Germany", "store"),
    ("536369", "22961", 12, "2024-05-20 15:45", 1.45, "12347", "Germany", "store"),
    ("536370", "84879", 12, "2024-06-28 11:20", 1.69, "12346", "United Kingdom", "online"),
    ("536371", "22423", 1, "2024-07-05 13:15", 12.75, "", "United Kingdom", "store"),
    ("536372", "23203", 10, "2024-11-18 16:40", 2.08, "12348", "France", "online"),
    ("536372", "22086", 12, "2024-11-18 16:40", 2.95, "12348", "France", "online"),
    ("536373", "22086", 6, "2024-12-09 12:00", 2.95, "12348", "France", "online"),
)


def tiny_log() -> pd.DataFrame:
    """Sixteen hand-made lines for three customers, with hand-computed aggregates.

    12346 buys three times (one line of its second order is exported twice); 12347 buys
    twice, gets one free line and cancels four doormats two days after its first order;
    12348 buys twice near the end.  One guest line has no customer id.  The reference date is
    2024-12-10, the day after the last line.
    """
    products = {item[0]: item for item in CATALOG}
    rows = []
    for invoice, code, quantity, stamp, price, customer, country, channel in _TINY_ROWS:
        _, description, category, _ = products[code]
        rows.append((invoice, code, description, category, quantity, stamp, price, customer,
                     country, channel))
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["Quantity"] = frame["Quantity"].astype("int64")
    frame["UnitPrice"] = frame["UnitPrice"].astype(float)
    frame.attrs["expected"] = {
        "12346": {
            "recency_days": 165,  # 2024-06-28 -> 2024-12-10
            "frequency": 3,
            "monetary": 84.03,  # 25.50 + 15.30 + 10.20 + 12.75 + 20.28
            "tenure_days": 281,  # 2024-03-04 -> 2024-12-10
            "avg_order_value": 28.01,
            "items_per_order": 9.0,  # (2 + 6 + 4 + 3 + 12) / 3
            "distinct_products": 4,
            "return_rate": 0.0,
        },
        "12347": {
            "recency_days": 204,  # 2024-05-20 -> 2024-12-10
            "frequency": 2,
            "monetary": 314.10,  # 90.00 + 79.50 - 31.80 + 159.00 + 17.40
            "tenure_days": 302,  # 2024-02-12 -> 2024-12-10
            "avg_order_value": 157.05,
            "items_per_order": 33.0,  # (24 + 10 + 20 + 12) / 2
            "distinct_products": 3,
            "return_rate": 0.2,  # 1 cancellation line of 5 clean lines
        },
        "12348": {
            "recency_days": 1,  # 2024-12-09 -> 2024-12-10
            "frequency": 2,
            "monetary": 73.90,  # 20.80 + 35.40 + 17.70
            "tenure_days": 22,  # 2024-11-18 -> 2024-12-10
            "avg_order_value": 36.95,
            "items_per_order": 14.0,  # (10 + 12 + 6) / 2
            "distinct_products": 2,
            "return_rate": 0.0,
        },
    }
    frame.attrs["expected_dropped"] = {
        "missing customer id": 1,
        "exact duplicate line": 1,
        "zero or negative price": 1,
    }
    frame.attrs["lines"] = 16
    frame.attrs["reference"] = "2024-12-10"
    return frame


def monthly_files(tmpdir: str | Path, seed: int = 0) -> list[Path]:
    """``order_log(n_customers=200, seed)`` written as ``tmpdir/orders_YYYY_MM.csv`` per month.

    Every file has the same header; the paths are returned in month order.
    """
    frame = order_log(n_customers=200, seed=seed)
    when = pd.to_datetime(frame["InvoiceDate"], format="%d/%m/%Y %H:%M")
    folder = Path(tmpdir)
    paths = []
    for (year, month), part in frame.groupby([when.dt.year, when.dt.month], sort=True):
        path = folder / f"orders_{year:04d}_{month:02d}.csv"
        path.write_bytes(to_bytes(part))
        paths.append(path)
    return paths
