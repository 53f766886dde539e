"""Pass@k difficulty filter: sample k responses per prompt, score them with the task-routed rewards, keep the rows
the policy solves sometimes but not always (Vero keeps 0 < passes < k).

A sample *passes* when its reward accuracy is >= ``pass_threshold`` (default 1.0: fully correct). Accuracy is the
verifier's answer score with the format gate applied (``compute_score_from_data_source``: accuracy is 0 when the
response lacks ``<think>…</think><answer>…</answer>``), so a model that never follows the format passes nothing.

Rows are processed in fixed chunks of ``batch_size`` rows (by position in the input); each chunk's completions and
scores are committed to a SQLite cache under ``OUT/.passk-cache`` in one transaction, keyed by (row id, model, sampling
parameters, sample index). A killed run resumes chunk by chunk and gives the same result: a chunk is either fully
cached or regenerated with the same composition and seed.

Outputs under ``OUT``: ``data/*.parquet`` (same schema as the input, ``pass_count``/``k`` filled), ``README.md``
(input card + a pass@k section), ``catalog.duckdb`` (input catalog + ``difficulty`` table; see
``sql/difficulty.sql``), ``quarantine.parquet`` (dropped rows with their reason), ``passk_report.json`` and,
with ``save_completions``, ``completions.parquet``.

Modules, one job each: ``config`` (the run's settings), ``inputs`` (finding, checking, reading and chunking the
input shards), ``cache`` (the completion cache), ``scoring`` (rewards, unscorable rows, pass statistics, keep
decision), ``sampling`` (one chunk: requests → k completions → scores), ``run`` (the loop), ``ray_pool``
(``--executor ray``: chunks sampled by a Ray actor pool), ``data_parallel`` (``--data-parallel N`` local workers),
``outputs`` (shards, quarantine, catalog, card), ``result`` and ``demo`` (a generated input, the benchmark).
"""

from vero_train.passk.cache import CompletionCache
from vero_train.passk.config import DEFAULT_MODEL, PassAtKConfig
from vero_train.passk.demo import DEMO_GENERATORS, bench, make_demo_input
from vero_train.passk.inputs import InputShard, input_shards
from vero_train.passk.result import FilterResult
from vero_train.passk.run import filter_pass_at_k
from vero_train.passk.scoring import UNSCORED_REWARD_TYPES, keep_reason, row_problem, score_completion

__all__ = [
    "DEFAULT_MODEL",
    "DEMO_GENERATORS",
    "UNSCORED_REWARD_TYPES",
    "CompletionCache",
    "FilterResult",
    "InputShard",
    "PassAtKConfig",
    "bench",
    "filter_pass_at_k",
    "input_shards",
    "keep_reason",
    "make_demo_input",
    "row_problem",
    "score_completion",
]
