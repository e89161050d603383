{#-
    `relationships` for a composite key: every row whose `columns` are all set must find a row
    in `to` whose `to_columns` (default: the same names) hold the same values. QuickBooks ids are
    only unique within a realm, so a foreign key is (realm_id, <entity>_id).
-#}
{% test relationships_on_columns(model, to, columns, to_columns=none) %}

{%- set to_columns = to_columns or columns -%}

with

child as (

    select distinct {{ columns | join(', ') }}
    from {{ model }}
    where
        {% for column in columns -%}
        {{ column }} is not null{% if not loop.last %} and {% endif %}
        {%- endfor %}

),

parent as (

    select distinct {{ to_columns | join(', ') }}
    from {{ to }}

)

select child.*
from child
left join parent
    on
    {%- for column in columns %}
        {% if not loop.first %}and {% endif %}child.{{ column }} = parent.{{ to_columns[loop.index0] }}
    {%- endfor %}
where parent.{{ to_columns[0] }} is null

{% endtest %}
