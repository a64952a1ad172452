"""Every Python process the tests start runs on the tests' clock (tests/clock.py).

tests/conftest.py puts this folder first on PYTHONPATH, so Python imports this file at start-up in
servers, `langgraph dev`, notebook kernels and scripts alike. When FINKRAFT_TEST_CLOCK_OFFSET is set
(seconds between the tests' "now" and the real one), the process travels by the same offset with
time-machine, and its clock then ticks on normally. Unset, it does nothing. Self-contained on purpose:
the process may not have the repository on its path.
"""

import os

_offset = os.environ.get("FINKRAFT_TEST_CLOCK_OFFSET")
if _offset:
    import time

    import time_machine

    time_machine.travel(time.time() + float(_offset), tick=True).start()
