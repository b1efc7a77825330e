"""Every default and threshold of the tool, each with its reason, in data-flow order.

The command line, the app and the report read these; the engine modules import
them, so ``segmentation.cluster.kmeans.MAX_K`` and ``segmentation.config.MAX_K``
are one value. Structural constants (column names, file formats, label maps)
stay in the module that owns them. This module imports nothing from the engine,
so every module can import it.
"""

from __future__ import annotations

import math

# --- Reading files (data/customer_file.py, data/_bounded_json.py) ---

# An Excel workbook is read whole by openpyxl, at roughly 10 MB of sheet XML a second and
# several times that in memory: 256 MB of XML is a few million cells, more than a customer
# table in Excel holds, and a minute of reading.
MAX_WORKBOOK_BYTES = 256 * 2**20
# Sheet XML compresses about 5 to 30 times; a part that expands 200 times or more is built
# to blow up when opened (a "zip bomb"). Parts under 1 MB are too small to matter.
MAX_COMPRESSION_RATIO = 200
# Every column's meaning is worked out on its own, a few milliseconds each: 1,000 columns
# read and inspect in about five seconds on two cores, 10,000 took minutes. A customer
# table has tens of columns; wider files are survey or feature dumps.
MAX_COLUMNS = 1_000
# A bundle keeps one assignment per customer: a million customers take about 40 MB.
MAX_JSON_BYTES = 200 * 2**20

# --- Order logs (data/orders.py) ---

# A log needs at least this many rows per distinct customer (and LOG_MIN_ROWS rows):
# a customer table with a few repeated ids stays far below it.
LOG_ROWS_PER_CUSTOMER = 1.5
LOG_MIN_ROWS = 50  # rows: fewer is a small customer table, not an order log
# Category shares: the categories with the most spend, the rest pooled as "other".
TOP_CATEGORIES = 6
TOP_CHANNELS = 4  # channel shares kept per customer, the rest pooled, as for categories
# DuckDB's working memory; a larger log spills to disk instead of exhausting memory.
MEMORY_LIMIT = "1GB"
# Orders kept in memory one by one (for inspection); the per-customer history that
# lifetime models need is always computed, whatever the size.
MAX_ORDERS_KEPT = 1_000_000
# Read a file as customers or order lines ("customers", "transactions"); auto decides
# from the content (RunConfig.input_kind, the command line's --input-kind, the Data page).
DEFAULT_INPUT_KIND = "auto"

# --- Column kinds and roles (data/roles.py) ---

# A whole-number column with at most this many values and a code-like name
# (or values 1..n with no zero) is a set of codes, never averaged.
MAX_CODE_LEVELS = 12
# A value that this share of rows holds, outside the range of all the others
# (-1 where every real value is >= 0; 999 or 9999 above every real value),
# is a "not applicable" code rather than a measurement.
SENTINEL_MIN_SHARE = 0.05
# Text with at most this many distinct values (or this share of rows) is a category.
MAX_TEXT_CATEGORIES = 30
CATEGORY_UNIQUE_SHARE = 0.05  # share of rows: fewer distinct texts than this is a category
# Numbers are numbers when this share of the present values parse.
NUMERIC_SHARE = 0.95
# Values that carry a currency sign in this share of rows make a money column.
CURRENCY_SHARE = 0.5

# --- The validated dataset (data/dataset.py) ---

# No customer amount, count or measure reaches a thousand trillion; beyond it
# (and at infinity) float arithmetic loses the cents and sums overflow, so such
# a value is a typo or a broken export, not a customer.
ABSURD_MAGNITUDE = 1e15
FIRST_VALUES = 3  # values of each column kept to show what it looked like
# The fewest customers that split into two segments of two, clustering's smallest case.
MIN_CUSTOMERS = 4

# --- Variables (prepare/variables.py) ---

# A measure where at least this share of customers hold the same value mostly
# tells those few apart from everyone else: clustered on by default it makes
# lopsided or tiny segments, so it is offered, not preselected.
SPIKE_SHARE = 0.6
# A number with at most this many values, one per level of a category, is a
# property of that category (a plan's monthly fee), not a behaviour of its own.
MAX_SET_BY_LEVELS = 12

# --- Preparation (prepare/features.py; PrepConfig, --missing/--outliers/--scaling) ---

# Missing clustering values are imputed (median, or most common category) by default:
# dropping those customers would leave them without a segment.
DEFAULT_MISSING = "impute"
# Implausible values are clipped to the nearest plausible one by default: the customer
# keeps a segment and one typo cannot pull a centre away.
DEFAULT_OUTLIERS = "clip"
# z-score by default: mean 0, sd 1 puts every variable on one scale and is the scaling
# readers know; robust and log are offered for skewed data.
DEFAULT_SCALING = "zscore"
# A chosen amount or count this skewed gets log scaling suggested: its few
# largest values would otherwise decide the segments.
SKEW_SUGGESTS_LOG = 2.0
# A category's levels: the most common ones, at most this many, each held by
# at least MIN_LEVEL_SHARE of customers; the rest are pooled as "(other)".
MAX_LEVELS = 12
MIN_LEVEL_SHARE = 0.01  # share of customers a category level needs to be kept on its own
# Scale of the 0/1 columns in the clustering space. One level indicator per
# category value, left as 0/1: two customers in different levels differ by 1
# on two columns, a squared distance of 2, which is the expected squared
# distance between two customers on one z-scored number. So a category
# weighs like one numeric variable, however many levels it has, and a yes/no
# flag (one column) is scaled by sqrt(2) to weigh the same.
LEVEL_SCALE = 1.0
FLAG_SCALE = 1 / math.sqrt(2)  # a yes/no flag's 0/1 column, scaled to weigh as a category
# Two chosen variables correlated beyond this (absolute Pearson r) are offered as one
# composite: together they would count the same behaviour twice.
CORRELATION_THRESHOLD = 0.75
# Ages (years) outside this range are implausible: typing mistakes in the birth year.
AGE_RANGE = (16.0, 100.0)
# Income is implausible when it is beyond the 99.5th percentile by more than
# this many times the distance from the median to that percentile: the real
# export's 666,666 is flagged, its 150k-160k high earners are not.
INCOME_MARGIN = 1.5
# A value more than this many spans of a column's middle 99% beyond it is a typo
# or a unit slip (cents in a euro column), not a customer: a log-normal spend
# with a huge spread (sigma 2) reaches about 100 spans at a million customers.
FAR_FENCE = 1000.0
# A date more than this many spans of its 1st-99th percentile beyond them is implausible
# (a 1900 placeholder, a two-digit year read as the wrong century).
DATE_FENCE_SPANS = 1.0

# --- Fitting and choosing K (cluster/kmeans.py; RunConfig, --seed/--n-init/--k-*) ---

# The random seed of every random step by default: the same data and seed give the same
# segments, in the app, the command line and a saved bundle.
DEFAULT_SEED = 42
# k-means++ restarts per K: ten is scikit-learn's long-standing default, enough that the
# best of them rarely changes with the seed.
DEFAULT_N_INIT = 10
# K tried by default (smallest, largest): 2 to 6 segments is what a marketing team can
# give each its own campaign.
DEFAULT_K_RANGE = (2, 6)
# Customers drawn to fit and choose K on with --engine spark: a million rows fit in memory
# on one machine and pin each segment's centre to well under a hundredth of a standard
# deviation; every customer is then scored and profiled in Spark.
DEFAULT_SPARK_SAMPLE = 1_000_000
# The most segments any run may have: beyond ten no one tells the personas apart.
MAX_K = 10
# K preferred when nearly as good as the best (smallest, largest): three to five
# segments are the actionable answer; silhouette alone favours K = 2.
PREFERRED_K = (3, 5)
# k-means++ restarts per K: 10 is the default; a saved bundle or a command line asking for
# more than this could keep the machine busy for hours.
MAX_N_INIT = 100
# Exact silhouette needs every pairwise distance; above this many customers a
# fixed-seed sample of this size estimates it (within about 0.01, see the
# benchmark).
SILHOUETTE_SAMPLE_SIZE = 4000
# Above this many customers the k-means++ restarts run on a sample of this
# size and the best solution is refined once on all customers.
FIT_SAMPLE_SIZE = 20000
# Fits of different K are independent and scikit-learn's k-means releases the GIL in its
# Lloyd iterations, so the sweep runs this many side by side, each on one thread: the
# machine the studio is sized for has two cores, and more threads only compete (10,000
# customers: 0.38 s on one thread, 0.26 s on two). Split halves are not fitted on threads:
# a half is at most SPLIT_SAMPLE_SIZE / 2 customers, so each fit is mostly scikit-learn's
# Python around short Lloyd runs and two threads fight over the GIL (K = 4 on 2,240
# customers: 0.11 s in turn, 0.18-0.20 s on two threads; all five K on the public file:
# 0.9 s against 1.5 s).
SWEEP_THREADS = 2
# A silhouette under this is weak structure (Kaufman and Rousseeuw read 0.26-0.50 as weak):
# quality_warnings says so, on the Segments and Personas pages and in the report.
WEAK_SILHOUETTE = 0.3
# A segment under this share of customers is small: warned about, and a K whose smallest
# segment is under it is passed over for one that is not when nearly as good.
SMALL_SEGMENT_SHARE = 0.10
# Below this many customers clustering is unreliable: quality_warnings and
# stability.data_size_warning point to RFM quintiles or simple rules instead.
FEW_CUSTOMERS = 200
# A K in the preferred range is "nearly as good" as the best when its
# silhouette is within NEARLY_AS_GOOD of the best one, or keeps at least
# NEARLY_AS_GOOD_RATIO of it. Silhouette favours K = 2 on customer data (one
# split, high versus low spenders), which is the least actionable answer.
NEARLY_AS_GOOD = 0.05
NEARLY_AS_GOOD_RATIO = 2 / 3  # share of the best silhouette a preferred K may keep
# Split-half agreement (adjusted Rand index) below which a K's segments are
# said not to replicate, and so are not recommended. It is applied to the
# median over N_SPLITS random splits, never to a single split.
REPLICATES = 0.60
# One random split's agreement is itself a noisy figure: K = 4 on the public
# marketing-campaign file ranged from 0.53 to 0.95 over ten seeded splits,
# either side of REPLICATES. The median of this many seeded splits is what
# counts. Odd, so the median is one split's own value (whose halves can then
# be shown); seven splits outvote three unlucky ones. Each split costs two k-means
# fits per K with the full restarts: fewer restarts would mix the restarts'
# own local optima into the agreement (K = 6 on that file fell from a median
# of 0.69 to 0.49 with 3 restarts), so the figure would no longer be about
# the data.
N_SPLITS = 7
# Above this many customers the splits are drawn from a fixed-seed sample of
# this size (as the silhouette is). Fourteen fits per K on halves of the whole
# table would take tens of seconds at 100,000 customers; on 10,000 generated
# customers the medians from a 4,000 sample were within 0.02 of those from all
# of them, at half the time.
SPLIT_SAMPLE_SIZE = 4000
# A K is never recommended when a segment would be too small to act on (a
# campaign for 0.5% of customers cannot be tested or staffed) or when one
# segment holds nearly everyone (then there are no segments, only outliers).
MIN_ACTIONABLE_SHARE = 0.03
MAX_DOMINANT_SHARE = 0.85  # share of customers in one segment beyond which K is refused
# Nearest-centre assignment compares every row with every centre in every feature; rows go
# in chunks so that one chunk's differences hold at most this many numbers (8 bytes each:
# 32 MB), whatever the number of customers.
ASSIGN_BUDGET = 4 * 2**20

# --- Profiles and persona names (describe/profiles.py, describe/personas.py) ---

# Traits listed per segment (its largest differences from all customers): five fit on a
# persona card and in a spreadsheet cell.
N_TRAITS = 5
# A segment is high (or low) on a measure at half a standard deviation (z) from the
# population: a difference a marketer notices, and a persona name word.
HIGH = 0.5
# "Lapsed" also needs a gap a marketer would call lapsed, not only a large z
# where recency barely varies: at least this much longer since the last purchase.
LAPSED_RATIO = 1.3
# A spend category names a persona ("Wine Lovers") when its share of spend is this many
# standard deviations (z) above the population's.
SHARE_HIGH = 0.3
# A channel names a persona ("Web Shoppers") at this z above the population's channel share.
CHANNEL_HIGH = 0.25
# A segment under this share of customers that brings more than its share of revenue is
# worth personal treatment (an account manager, hand-picked offers), not campaigns.
SMALL_VALUABLE_SHARE = 0.15
# Words a persona name starts with at most; more are added only to tell two names apart.
MAX_NAME_WORDS = 3
# A category value names a segment only when it is this common inside it.
LEVEL_MIN_SHARE = 0.3
# With an order history, "Lapsed" also needs the segment's customers to be late by their
# own rhythm: on average at least this many of their usual gaps since the last order.
LAPSED_OVERDUE = 2.0

# --- What drives the segments (describe/drivers.py, validate/ablation.py) ---

# A demographic or money variable whose variance the segments explain at least this much
# (eta squared: half of its variance lies between segments, not within them) is what the
# segmentation is mostly about, when its segments' ranges also stand apart (below).
SPLIT_ETA2 = 0.5
# ... and when no two segments' middle-50% (interquartile) ranges of it overlap by more than
# this share of the narrower range: 0 means every segment has a range of its own, the mark
# of a split along that one variable rather than of personas that differ in it on average.
SPLIT_MAX_IQR_OVERLAP = 0.0
# Bands a "segments within bands" suggestion cuts the dominant variable into: low, middle
# and high thirds, the split a marketer already uses.
SPLIT_BANDS = 3
# A variable whose spread (root mean square about its mean) is at most this share of its
# largest magnitude is constant to floating point: its eta squared would measure rounding,
# not customers (a million-sized amount that varies by under a unit), so it is not given one.
# Relative, so the verdict does not change with the unit a column is written in.
CONSTANT_SPREAD = 1e-6
# A variable whose removal leaves an adjusted Rand index of at least this with the full
# solution (1 is the same partition, 0 what chance gives) barely changes who is in which
# segment: the test of a variable worth clustering on is that removing it changes segments,
# and 0.9 is the usual bar for "the same clustering" in stability work.
ABLATION_SAME_ARI = 0.9

# --- Explore charts (describe/explore.py) ---

# Whiskers of the income box plot: robust to the odd extreme income,
# unlike Tukey's 1.5 IQR fences, and easy to say: "90% of the segment".
WHISKER_QUANTILES = (0.05, 0.95)
# Customers drawn on the segment map at most: more points hide each other and slow the page.
MAX_MAP_POINTS = 5000

# --- Stability (validate/stability.py; the Validate and Personas pages, the report) ---

# Hennig's reading of a segment's mean bootstrap Jaccard: at or above this it is highly
# stable, at or above JACCARD_STABLE stable, at or above JACCARD_DOUBTFUL a real pattern
# with doubtful membership, below that not to be trusted.
JACCARD_HIGHLY_STABLE = 0.85
JACCARD_STABLE = 0.75  # mean Jaccard from which a segment is stable (green on the pages)
JACCARD_DOUBTFUL = 0.60  # mean Jaccard under which a segment is not to be trusted (red)
# clusterboot's defaults (``dissolution = 0.5``, ``recover = 0.75``): in one
# resample a segment has dissolved when its best Jaccard is at most DISSOLVED,
# and has been recovered when it is above RECOVERED.
DISSOLVED = 0.5
RECOVERED = 0.75  # best Jaccard in one resample above which a segment is recovered
# Bootstrap resamples by default: 50 gives each segment's mean Jaccard to about +-0.02
# in well under a minute on the sample data.
DEFAULT_BOOTSTRAPS = 50
# Two segments are "the same" across runs when their profiles differ by less
# than this root-mean-square gap in standardized units (half a standard
# deviation on a typical variable).
SAME_SEGMENT_RMS = 0.5
# From FEW_CUSTOMERS to this many customers clustering works but small segments are shaky:
# data_size_warning asks for their bootstrap stability to be checked before acting.
SOME_CUSTOMERS = 500

# --- Migration between two runs (validate/migration.py) ---

# Share of customers changing persona under which the segments are called stable.
STABLE_RATE = 0.10
# Share of customers changing persona above which churn between personas is called high.
HIGH_CHURN_RATE = 0.30
# Population stability index bands, the credit-scoring convention: under PSI_MODERATE no
# real shift, up to PSI_SIGNIFICANT a moderate one, beyond it a significant shift.
PSI_MODERATE = 0.10
PSI_SIGNIFICANT = 0.25  # PSI from which the persona mix has shifted significantly
# A persona absent from one file has share 0, where ln(new/old) is undefined;
# it is given this share instead (the usual practice), so that a persona that
# appears or vanishes adds a large but finite term.
PSI_EPSILON = 1e-4

# --- Value (plan/value.py) ---

# The Kaggle "Customer Personality Analysis" data dictionary documents every Mnt* column as
# the "amount spent ... in last 2 years", so its spend is two years' worth, not one.
KAGGLE_WINDOW_YEARS = 2.0
# A customer table that does not say otherwise is read as stating a year's spend.
DEFAULT_WINDOW_YEARS = 1.0
# An order log covers at least a month even when all its orders fall on one day.
MIN_LOG_WINDOW_YEARS = 1 / 12

# --- A/B tests (plan/abtest.py, plan/campaign_results.py; the Plan page) ---

# Significance level of every test and confidence interval (1 - confidence): the usual
# 5% a reader expects.
ALPHA = 0.05
# Chance of detecting the planned lift when it is real: 80%, the usual planning figure.
POWER = 0.8
# Smallest relative lift (0.15 = 15% more responders) a test is sized to detect: smaller
# lifts need samples few segments have.
MIN_DETECTABLE_LIFT = 0.15
# Share of a segment sent the treatment: an even split gives the most power per customer.
TREATMENT_SHARE = 0.5
# Customers per arm below which a test is flagged as too small, whatever the power
# calculation says: normal approximations are poor under about 100.
RULE_OF_THUMB_PER_ARM = 100

# --- Bandit simulation (plan/bandit.py) ---

# Visitors simulated by default: enough for Thompson sampling to settle on the better
# offer at typical response rates, and quick to draw.
BANDIT_VISITORS = 10000

# --- Lifetime models (plan/lifetime.py) ---

# BG/NBD has four population parameters; with fewer customers the dropout
# parameters (a, b) are set by the prior rather than by the data.
MIN_LIFETIME_CUSTOMERS = 50
# The Gamma-Gamma spend model learns only from customers who ordered again with
# a positive spend; its three parameters need a few dozen of them.
MIN_REPEAT_CUSTOMERS = 20
# Larger bases are fitted on a seeded sample of this size and predicted in
# full: the population parameters barely move beyond it, while the fit time
# grows with every customer.
MAX_FIT_CUSTOMERS = 50_000

# --- Sign-up model (plan/signup.py) ---

CLEAR_MARGIN = 0.05  # accuracy points over the baseline needed to call it a prediction

# --- Writing files (export/outputs.py, export/schemas.py) ---

CSV_BLOCK_ROWS = 50_000  # rows made safe and written at a time: memory stays one block's
# Segments a model file may hold. A run finds 2 to MAX_K (10) segments; 50 leaves room for a
# model made elsewhere while keeping scoring cheap (every customer is compared with every
# centre), and more than 50 groups is no longer a segmentation anyone can act on.
MAX_CENTERS = 50
# Clustering variables a model may use: the widest file seen has about 60 candidate
# variables with category levels; a thousand is far beyond any run and bounds the arrays.
MAX_FEATURES = 1000
# No customer figure, scaled value or coefficient is beyond a million billion; beyond it
# squared distances and logistic scores lose all precision or overflow.
MAX_MAGNITUDE = 1e15
# The smallest spread preparation ever writes (robust scaling falls back below 1e-12):
# dividing by less would blow ordinary values up past MAX_MAGNITUDE.
MIN_SCALE = 1e-12
# No field the tool writes is longer than a persona description or a tree printout.
MAX_TEXT = 10_000
# A numeric id fits in 64 bits in every CRM and database the files come from.
MAX_ID_NUMBER = 2**63
# Two-digit years and far-future years are typing mistakes, not a reference year.
YEARS = (1800, 2200)
# The deepest of these files nests six levels (bundle → signup → evaluation → tree → folds);
# anything much deeper is not one of them, and is refused before it can exhaust the stack.
MAX_DEPTH = 16
# A decision tree of depth 3 has 15 nodes; a hand-made one deeper than this is not ours.
MAX_TREE_NODES = 10_000

# --- Run history (history/) ---

# The history file's name: beside the output folders of 'run' (OUT/..), so the quarterly
# runs written to q1/, q2/, ... share one file; in the folder the studio was started from.
HISTORY_FILE = "segmentation_history.sqlite"
# How long a writer waits for another process holding the history's write lock before
# retrying; a run's record is written in well under a second, so 30 s is a stuck writer.
HISTORY_BUSY_SECONDS = 30.0
HISTORY_WRITE_ATTEMPTS = 5  # retries of a locked write before giving up with one sentence
# A persona whose share of customers moved by more than this between two consecutive runs
# is flagged: 5 percentage points is a campaign-sized change in a segment of 20-30%.
SHARE_ALERT = 0.05
# Bootstrap (Jaccard) or split-half agreement under which a persona or a run is no longer
# called stable: Hennig's "stable" band, the same line the Validate page draws.
STABILITY_ALERT = JACCARD_STABLE
# The variable kinds whose segment averages are kept per run: money and outcomes are what
# the trend of a persona is read by ("is the premium segment still spending?").
HISTORY_MONEY_KINDS = ("income", "spend", "total_spend", "money")
# Responses to campaigns and other outcomes: "did the campaign move anyone?" over time.
HISTORY_OUTCOME_KINDS = ("outcome", "campaign")

# --- Rules per persona and each customer's drivers (describe/rules.py, describe/contributions.py) ---

# A CRM filter a person can read and type has two or three conditions: depth 3 gives at most
# three per rule; deeper trees write rules nobody checks by hand.
RULES_MAX_DEPTH = 3
# A leaf holds at least this share of the customers the tree learns from: a rule matching
# fewer than 2 in 100 customers is a corner of the data, not a way to find a segment.
RULES_MIN_LEAF_SHARE = 0.02
RULES_MAX_RULES = 3  # rules shown per persona, the ones matching most of its customers
# A quarter of the customers is held out: enough to measure the rules on customers they were
# not fitted on, leaving three quarters to find them.
RULES_TEST_SHARE = 0.25
# Below this balanced accuracy on held-out customers (chance is 0.5) the rules misplace one
# customer in five of the segment or of the others: a filter that wrong selects another group,
# so the segment is said to have no simple rule.
RULES_MIN_ACCURACY = 0.80
# A segment needs this many customers for its held-out share to mean anything: a quarter
# of 20 is 5 test customers, the fewest a percentage is worth quoting on.
RULES_MIN_SEGMENT = 20
# Trees learn from at most this many customers (a seeded sample): a depth-3 rule is as
# well placed on 50,000 as on a million, and a million rows per segment would take minutes.
# The counts quoted beside each rule are always over every customer.
RULES_SAMPLE_SIZE = 50_000
# Money thresholds are rounded to this many significant figures (45,123 -> 45,000): a filter
# reads as typed, and the counts quoted are those of the rounded rule.
RULES_MONEY_FIGURES = 2
# Other measures keep one figure more (50.2, 0.123): their values are not prices, and a
# coarser cut would move the rule away from where the tree placed it.
RULES_MEASURE_FIGURES = 3
# Each customer's variables that pull most towards their segment, in the assignments file.
N_TOP_DRIVERS = 2

# --- Other clustering methods beside k-means (cluster/methods.py, cluster/splits.py) ---

DEFAULT_METHOD = "kmeans"  # today's segmentation; the others are offered to compare against
# The methods a run can segment with: k-means, Gaussian mixture, Ward's hierarchical
# clustering, HDBSCAN and k-prototypes (numeric and category variables together).
METHODS = ("kmeans", "gmm", "ward", "hdbscan", "kprototypes")
# A customer whose most likely Gaussian-mixture segment has a probability under this sits
# between segments: two-to-one odds at best against the runner-up (2/3 ≈ 0.67) is no
# confident membership, so 0.7 leaves only customers the model is sure of unflagged.
BETWEEN_SEGMENTS_PROBABILITY = 0.7
GMM_N_INIT = 3  # EM restarts: each is far dearer than a k-means restart, and three settle it
GMM_REG_COVAR = 1e-6  # scikit-learn's default ridge: a flat direction stays invertible
# Ward's tree holds every pairwise distance (n²/2 numbers): 5,000 customers are 100 MB. Above
# it the tree is built on a seeded sample of this many and the rest join the nearest centroid.
WARD_FIT_SIZE = 5_000
# The dendrogram drawn: a tree of a few thousand leaves still reads when cut to its top merges.
DENDROGRAM_SIZE = 2_000
DENDROGRAM_LEAVES = 30  # the top merges shown; below them leaves are folded into counts
# HDBSCAN's smallest segment: 2% of customers (at least 10), in line with never recommending
# a segment under 3%: a denser pocket smaller than that is not a segment to target.
HDBSCAN_MIN_SHARE = 0.02
HDBSCAN_MIN_SIZE = 10  # the floor of that share on small files
# HDBSCAN's neighbourhood search grows faster than linearly: above this many customers the
# segments are found on a seeded sample and the rest scored by the saved rule.
HDBSCAN_FIT_SIZE = 20_000
# k-prototypes weighs a category mismatch against squared numeric distance by gamma. Huang
# (1997) ties it to the numeric spread; here a mismatch costs what two customers differ by,
# on average, in one numeric variable: twice its variance (2 once z-scored). That is what two
# different levels cost k-means in the prepared matrix (1 in each of two level columns), so
# a category weighs the same in both methods. (Huang's half a standard deviation, on z-scored
# variables, let the measures drown the categories: ARI 0.76-0.90 against 0.89-0.95 here on
# planted mixed groups.)
KPROTOTYPES_GAMMA_RATIO = 2.0
KPROTOTYPES_MAX_ITER = 100  # Huang's iterations stop when no customer moves; this is a bound
# How segments split as K grows: K from 2 to 6 as a marketing team reads them.
SPLIT_K_RANGE = (2, 6)
# A segment with no parent at K-1 giving at least this share of its customers did not split
# off one segment: it was assembled from several, and is marked unstable.
SPLIT_PARENT_SHARE = 0.7
# A segment whose customers go to no child at K+1 in a majority (at least half) dissolves.
SPLIT_MAJORITY = 0.5
