-- Preference scores computed from history up to calibration_end only: the input of the
-- reliability back-test and of the recommenders' time-split evaluation.
{{ preference_scores(calibration_end()) }}
