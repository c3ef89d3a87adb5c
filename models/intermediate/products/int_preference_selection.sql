-- Preference scores computed from history up to selection_end only: what the recommenders
-- fitted for the inner split (int_recommender_selection_models) train on, as
-- int_preference_calibration is for the models fitted up to calibration_end.
{{ preference_scores('(select selection_end from ' ~ ref('int_run_parameters') ~ ')') }}
