"""Progress lines on stderr: a full run takes minutes, and stdout is where the functions'
own logs would go."""

import sys
import time

_STARTED = time.perf_counter()


def progress(message: str) -> None:
    print(f"[bench {time.perf_counter() - _STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)
