-- Seed 000's preference score per affiliate × customer × product from all history up to
-- observation_end (macro preference_scores documents the components and levels): what the
-- customer_product_preference mart publishes and the published recommenders fit on.
-- int_preference_calibration is the same score as of calibration_end.
{{ preference_scores(observation_end()) }}
