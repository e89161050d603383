{#-
    The company's local calendar date: var `as_of_date` when set (a pinned, reproducible run),
    else today in var `company_timezone`. "Overdue" is decided by the company's calendar, not UTC.
-#}
{% macro company_today() -%}
    {%- set as_of_date = var('as_of_date', none) -%}
    {%- if as_of_date -%}
        {%- set as_of_date = modules.datetime.date.fromisoformat(as_of_date | string) -%}
        cast({{ dbt.string_literal(as_of_date.isoformat()) }} as date)
    {%- else -%}
        cast((current_timestamp at time zone {{ dbt.string_literal(var('company_timezone')) }}) as date)
    {%- endif -%}
{%- endmacro %}
