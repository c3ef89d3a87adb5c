{#- The dates every model anchors on. Vars win; otherwise per-dataset defaults, documented
    in the README: observation_end = the last transaction date, calibration_end = the
    dataset's back-test cut (2021-09-30 for L.Point, 1997-09-30 for CDNOW, as in
    Fader, Hardie & Lee 2005). A dataset of the generic contract (source retail) has no
    defaults here: the pipeline passes its dates from the mapping config and the data (the
    period = the data's first..last day, calibration_end = three months before the last day,
    unless the config says otherwise; `dbt_vars` of the ingest report). -#}

{% macro dataset_defaults() -%}
    {%- set defaults = {
        'lpoint': {'period_start': '2021-01-01', 'period_end': '2021-12-31', 'calibration_end': '2021-09-30', 'clv_model': 'bgnbd'},
        'cdnow': {'period_start': '1997-01-01', 'period_end': '1998-06-30', 'calibration_end': '1997-09-30', 'clv_model': 'auto'},
        'cdnow_sample': {'period_start': '1997-01-01', 'period_end': '1998-06-30', 'calibration_end': '1997-09-30', 'clv_model': 'auto'},
    } -%}
    {%- if var('source', 'lpoint') == 'retail' -%}
        {%- if not modules.re.fullmatch('[a-z][a-z0-9_]*', var('dataset') | string) -%}
            {{ exceptions.raise_compiler_error(
                "Unknown dataset '" ~ var('dataset') ~ "': a mapping config's name is lower case letters, digits and _"
            ) }}
        {%- endif -%}
        {{ return({'clv_model': 'bgnbd'}) }}
    {%- endif -%}
    {%- if var('dataset') not in defaults -%}
        {{ exceptions.raise_compiler_error(
            "Unknown dataset '" ~ var('dataset') ~ "': use lpoint, cdnow or cdnow_sample (or a mapping config with source retail)"
        ) }}
    {%- endif -%}
    {{ return(defaults[var('dataset')]) }}
{%- endmacro %}

{% macro date_setting(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none or value == '' -%}
        {%- set value = dataset_defaults().get(name) -%}
    {%- endif -%}
    {%- if value is none -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " is required for dataset " ~ var('dataset') ~ " (source retail): the pipeline sets it "
            ~ "from the mapping config and the data; see dbt_vars in the prepared folder's _ingest_report.json"
        ) }}
    {%- endif -%}
    {{ return(checked_date(name, value)) }}
{%- endmacro %}

{#- What the data records (dbt_project.yml vars has_*; contract.Capabilities): true or false. -#}
{% macro capability(name) -%}
    {%- set known = ['has_products', 'has_categories', 'has_business_units', 'has_payment_flag',
                     'has_customer_attributes', 'has_returns'] -%}
    {%- if name not in known -%}
        {{ exceptions.raise_compiler_error("capability: unknown capability '" ~ name ~ "'") }}
    {%- endif -%}
    {%- set value = var(name) -%}
    {%- if value is string -%}
        {%- set value = value | lower in ['true', '1', 'yes'] -%}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#- The CLV model: the var, else the dataset's default (bgnbd for L.Point and generic data,
    whose customers may buy on hundreds of days, where Pareto/NBD's likelihood overflows). -#}
{% macro clv_model_setting() -%}
    {{ return(var('clv_model', dataset_defaults()['clv_model'])) }}
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

{#- A var that must be one of `choices` (text); compile error naming the var otherwise. -#}
{% macro checked_choice(name, choices, default) -%}
    {%- set value = var(name, default) | string -%}
    {%- if value not in choices -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be one of " ~ (choices | join(', ')) ~ ", got '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#- The largest amount one line may have (var max_line_amount; docs/bad_input.md). Money is
    DECIMAL(18,4) after the checked models, so the bound must stay below 10^14. -#}
{% macro max_line_amount() -%}
    {%- set value = checked_number('max_line_amount', 1000000000) -%}
    {%- if value | float >= 100000000000000 -%}
        {{ exceptions.raise_compiler_error(
            "var max_line_amount must be below 1e14 (money is DECIMAL(18,4)), got '" ~ value ~ "'"
        ) }}
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
