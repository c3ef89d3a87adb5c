-- MetricFlow's time spine: one row per day. The range is fixed and wide (1970 through 2099)
-- rather than taken from the data, so every dataset (CDNOW's 1997, L.Point's 2021, the real
-- retail datasets) falls inside it and the model never depends on a build's dates; 47k rows
-- cost nothing to build.
select cast(days.day as date) as date_day
from range(date '1970-01-01', date '2100-01-01', interval 1 day) as days (day)
