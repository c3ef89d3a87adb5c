{#- The quarantine ladder (docs/bad_input.md), written once: the first matching rule names
    the reason, null = a clean row. Each checked model passes the reasons that apply to its
    file; the order below is the same for every file. The model selects the columns the
    rules read: copy_number, customer_id, is_known_customer, is_known_product,
    is_known_affiliate, channel, amount (as read: the bounds are checked before money becomes
    DECIMAL(18,4); a return line passes the amount and quantity it returns), quantity, the date
    column named by `date_column`, is_orphan_payment. -#}
{% macro quarantine_reason(reasons, date_column) -%}
    {%- set ladder = [
        ('duplicate_line', 'copy_number > 1'),
        ('missing_customer', 'customer_id is null'),
        ('unknown_customer', 'not is_known_customer'),
        ('unknown_product', 'not is_known_product'),
        ('unknown_affiliate', 'not is_known_affiliate'),
        ('unknown_channel', 'channel is null'),
        ('non_positive_amount', 'amount <= 0'),
        ('implausible_amount', 'amount > ' ~ max_line_amount()),
        ('non_positive_quantity', 'quantity <= 0'),
        ('implausible_quantity', 'quantity > ' ~ var('max_line_quantity')),
        ('date_outside_period', date_column ~ ' not between ' ~ period_start() ~ ' and ' ~ period_end()),
        ('orphan_payment', 'is_orphan_payment'),
    ] -%}
    {%- set known = ladder | map(attribute=0) | list -%}
    {%- for reason in reasons if reason not in known -%}
        {{ exceptions.raise_compiler_error("quarantine_reason: unknown reason '" ~ reason ~ "'") }}
    {%- endfor -%}
    case
    {%- for reason, condition in ladder if reason in reasons %}
        when {{ condition }} then '{{ reason }}'
    {%- endfor %}
    end
{%- endmacro %}
