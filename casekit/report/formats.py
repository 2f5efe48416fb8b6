"""The formats casekit's notebooks and pages share with the code that reads them back."""

# The findings cell of a report displays Findings.verdicts() under this MIME type, beside its HTML and text,
# for the index of a render to read as data.
FINDINGS_MIME = "application/vnd.casekit.findings+json"
