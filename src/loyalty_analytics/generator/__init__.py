"""Synthetic LPOINT_BIG_COMP data with planted ground truth (see docs/generator.md).

from loyalty_analytics.generator import generate
generate(customers=3000, seed=42, raw_dir="data/raw", truth_dir="data/truth")
"""

from .oracle import oracle_alive, oracle_scores
from .pipeline import generate

__all__ = ["generate", "oracle_scores", "oracle_alive"]
