"""The one logger, tracer and metrics of each function (service name and metrics
namespace come from POWERTOOLS_* variables in template.yaml)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
