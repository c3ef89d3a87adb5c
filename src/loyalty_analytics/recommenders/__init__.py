"""Recommenders: interaction data, baselines, neural models, evaluation and top-K lists.

Submodules are imported lazily by callers (torch / implicit are heavy):
``data`` (InteractionData, build_interaction_data, Recommender protocol), ``baselines``,
``evaluation`` (evaluate), ``topk`` (recommend_per_affiliate), ``oracle``
(OracleRecommender), ``preference_nn``, ``sequential``.
"""

from .data import InteractionData, Recommender, build_interaction_data

__all__ = ["InteractionData", "Recommender", "build_interaction_data"]
