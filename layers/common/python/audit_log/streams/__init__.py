"""Log streams: each organisation's log pushed, in ledger order, to its webhook, SIEM or
bucket, at least once and nothing lost."""
