"""What makes rendering fast, private to casekit.reporting: render workers that import the reports' libraries
once (``worker``, ``preloaded``: the fork server's start-up), reports forked from them (``forking``) and run in
an in-process kernel (``inprocess``), and the render server a Dask worker starts (``server``)."""
