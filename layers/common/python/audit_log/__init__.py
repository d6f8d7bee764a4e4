"""Shared code of the Audit Log functions, shipped to them as a Lambda layer."""
