"""Statistics: the tests a comparison runs, on the tidy tables the cases layer gives.

Within a case: the segmented regression with AR(1) errors (``timeseries``, ``ar1``, ``within``) and the
process-behaviour chart (``behaviour``); across cases: the meta-analysis (``meta``, ``across``), paired
before/after tests (``paired``), subgroups, categories and dose (``breakdowns``); corrections for many KPIs
(``multiplicity``); goals and ROI (``goals``); the verdicts as data (``findings``). It never imports the
reports or rendering.
"""
