"""Use cases: deliver one mail request, report the counters."""
