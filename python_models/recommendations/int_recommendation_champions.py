"""The champion of each recommendation kind: the best nDCG@10 on the inner split
(int_recommender_selection_metrics), ties to the simpler model (jobs.evaluation_models order)."""

from loyalty_analytics import dbt_io
from loyalty_analytics.recommenders import jobs


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    metrics = dbt_io.frames(metrics=dbt.ref("int_recommender_selection_metrics"))["metrics"]
    order = [m.name for m in jobs.evaluation_models(settings["random_seed"], settings["recommender_training"])]
    return jobs.choose_champions(metrics, order)
