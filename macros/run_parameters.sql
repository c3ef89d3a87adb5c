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
        {{ exceptions.raise_compiler_error(
            "Unknown dataset '" ~ var('dataset') ~ "': use lpoint, cdnow or cdnow_sample"
        ) }}
    {%- endif -%}
    {{ return(defaults[var('dataset')]) }}
{%- endmacro %}

{% macro date_setting(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none or value == '' -%}
        {%- set value = dataset_defaults()[name] -%}
    {%- endif -%}
    {{ return(checked_date(name, value)) }}
{%- endmacro %}

{#- Vars reach SQL only checked or quoted: a date var must look like a date (so it can hold no
    quote), the dataset must be a known one, text goes through sql_string(). -#}
{% macro checked_date(name, value) -%}
    {%- set text = value | string -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])', text) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a date YYYY-MM-DD, got '" ~ text ~ "'") }}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}

{% macro dataset_name() -%}
    {%- do dataset_defaults() -%}
    {{ return(var('dataset')) }}
{%- endmacro %}

{% macro checked_number(name, default) -%}
    {%- set value = var(name, default) -%}
    {%- set number_pattern = '[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?' -%}
    {%- if value is not number and not modules.re.fullmatch(number_pattern, value | string) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a number, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{% macro sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
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
