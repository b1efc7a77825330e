"""The Spark engine: the saved preparation, nearest-centre scoring and the profiles of every
customer, run as Spark SQL over tens of millions of rows.

Nothing here is imported by the rest of the engine: pyspark is an optional extra
(``requirements-spark.txt``) loaded only when a command is given ``--engine spark``.
"""
