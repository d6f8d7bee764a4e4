"""`python -m audit_log_client`: the `audit-log` command, where no script is on PATH."""

import sys

from audit_log_client.cli import main

sys.exit(main())
