"""Inputs: an organization's files in, validated tidy tables out.

The lowest layer above the errors: it reads and checks case folders (``casefiles``, ``validation``,
``cautions``), loads them into a :class:`~casekit.inputs.loading.Portfolio` (``loading``, ``kpi_records``,
``periods``, ``catalog``), imports spreadsheets (``spreadsheets``), writes new cases and projects
(``scaffold``, ``project``) and simulates portfolios with a known effect (``simulate``). It imports nothing
from the statistics, the reports or rendering.
"""
