{#- The dates every model anchors on. Vars win; otherwise per-dataset defaults, documented
    in the README: observation_end = the last transaction date, calibration_end = the
    dataset's back-test cut (2021-09-30 for L.Point, 1997-09-30 for CDNOW, as in
    Fader, Hardie & Lee 2005). -#}

{% macro dataset_defaults() -%}
    {%- set defaults = {
        'lpoint': {'period_start': '2021-01-01', 'period_end': '2021-12-31', 'calibration_end': '2021-09-30'},
        'cdnow': {'period_start': '1997-01-01', 'period_end': '1998-06-30', 'calibration_end': '1997-09-30'},
        'cdnow_sample': {'period_start': '1997-01-01', 'period_end': '1998-06-30', 'calibration_end': '1997-09-30'},
    } -%}
    {%- if var('dataset') not in defaults -%}
        {{ exceptions.raise_compiler_error("Unknown dataset '" ~ var('dataset') ~ "': use lpoint, cdnow or cdnow_sample") }}
    {%- endif -%}
    {{ return(defaults[var('dataset')]) }}
{%- endmacro %}

{% macro date_setting(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none or value == '' -%}
        {%- set value = dataset_defaults()[name] -%}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#- SQL expressions for the anchor dates. -#}
{% macro period_start() -%} date '{{ date_setting('period_start') }}' {%- endmacro %}
{% macro period_end() -%} date '{{ date_setting('period_end') }}' {%- endmacro %}
{% macro calibration_end() -%} date '{{ date_setting('calibration_end') }}' {%- endmacro %}

{#- Every model reads observation_end from int_run_parameters, which resolves the var or
    the last transaction date once. -#}
{% macro observation_end() -%}
    (select observation_end from {{ ref('int_run_parameters') }})
{%- endmacro %}
