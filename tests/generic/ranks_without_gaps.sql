{#- Within each group, the rank column holds exactly 1..N. -#}
{% test ranks_without_gaps(model, column_name, group_by) %}
select {{ group_by | join(', ') }}, count(*) as n_rows, min({{ column_name }}) as min_rank,
       max({{ column_name }}) as max_rank, count(distinct {{ column_name }}) as n_distinct
from {{ model }}
group by {{ group_by | join(', ') }}
having min({{ column_name }}) != 1 or max({{ column_name }}) != count(*) or count(distinct {{ column_name }}) != count(*)
{% endtest %}
