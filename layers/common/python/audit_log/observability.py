"""The one logger, tracer and metrics of each function (service name and metrics
namespace come from POWERTOOLS_* variables in template.yaml).

Traces are kept as clean as the logs: Tracer records a function's return value and any
exception it raises as X-Ray metadata by default, which for these functions would be
whole pages of the log (emails, details) and the bodies of error answers. `traced` and
the HTTP entry point (audit_log.http) turn both off; timings and annotations remain.

The tracer patches botocore only, not X-Ray's every library (its default): the others
(sqlite3, requests, database drivers) are not used here, and looking for them at every
cold start is time spent for nothing (make bench measures it).
"""

from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()

_Function = TypeVar("_Function", bound=Callable[..., Any])


def traced(function: _Function) -> _Function:
    """Trace `function` as a subsegment without what it returns or raises as metadata."""
    decorate: Callable[[_Function], _Function] = tracer.capture_method(capture_response=False, capture_error=False)
    return decorate(function)
