"""Pipeline stages: read → normalise → canonicalise → validate → source filters → dedup → tag → mix → export.

Row stages are callables over batches (`pl.DataFrame` in, `pl.DataFrame` out, drops marked in `_reason`) so they
run unchanged under Ray Data's ``map_batches``; the local driver calls their ``process_rows`` directly.
"""
