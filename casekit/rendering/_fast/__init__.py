"""What makes rendering fast, private to casekit.rendering: render servers (``server``) that import the
reports' libraries once and warm up (``worker``), reports forked from them (``forking``) and run in an
in-process kernel (``inprocess``)."""
