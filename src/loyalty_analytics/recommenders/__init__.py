"""Recommenders: interaction data, baselines, neural models, evaluation and top-K lists.

Submodules are imported lazily by callers (torch / implicit are heavy):
``data`` (InteractionData, build_interaction_data, Recommender protocol), ``base``
(RecommenderBase: parameters, fit record, save / load as versioned artifacts), ``baselines``
(``tifu_knn``), ``evaluation`` (evaluate), ``topk`` (recommend_per_affiliate), ``kinds``
(the three recommendation kinds: candidates, top-N, evaluation splits), ``calibration`` (purchase
probability, reliability), ``oracle``
(OracleRecommender), ``preference_nn`` (network ``preference_net``, training statistics
``preference_data``), ``sequential`` (network and session tokens ``sequential_net``),
``stamp_mission``, and ``jobs`` (what the dbt Python models call: fit → store, load → apply).
"""

from .data import InteractionData, Recommender, build_interaction_data

__all__ = ["InteractionData", "Recommender", "build_interaction_data"]
