{#- Seed 003's session rule, written once: a customer's purchase lines at one affiliate form one
    session within the same clock hour offline, or the same day online. The session starts at
    that hour (offline) or day (online). -#}
{% macro session_start(channel, purchased_at) -%}
    case {{ channel }}
        when 'online' then date_trunc('day', {{ purchased_at }})
        else date_trunc('hour', {{ purchased_at }})
    end
{%- endmacro %}
