-- Seed 000's preference score per affiliate × customer × product, from all history up to
-- observation_end (macro preference_scores documents the components and levels).
{{ preference_scores(observation_end()) }}
