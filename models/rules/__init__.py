"""The goal rules: the domain model's logic as plain functions over plain values.

No clock reads, no I/O, no SQLAlchemy: ``now``/``today``, thresholds and tiers
are passed in, so every rule is tested directly and fast. Money, signups and
percentages are ``Decimal``; comparisons against thresholds use ``Fraction``
so they are exact (the SQL functions in the migrations implement the same
rules and are compared against these).

Modules: ``periods`` (calendar helpers), ``deadlines`` (goal-setting deadline,
deadline status, reminders), ``progress`` (percent, completion), ``pace``
(expected share, pace indicator, yearly pace), ``tiers`` (bonus tiers),
``achievements`` (streaks and the seven achievement types), ``ranking``
(competition ranks), ``sparkline`` (text trend).
"""
