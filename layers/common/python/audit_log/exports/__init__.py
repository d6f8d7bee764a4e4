"""Exports: an organisation's log (any filter, any range) as a CSV or NDJSON file in a
private bucket, built in steps by a worker, the NDJSON form with a proof against the
ledger; each request recorded in the log it exports."""
