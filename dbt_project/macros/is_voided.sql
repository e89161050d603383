{#-
    QuickBooks voids a transaction in place: its amounts drop to 0 and its private note
    gains a "Voided" prefix. `amount_columns` are the amounts that must all be 0.
-#}
{% macro is_voided(amount_columns) -%}
    coalesce(
        private_note like 'Voided%'
        {%- for column in amount_columns %}
        and coalesce({{ column }}, 0) = 0
        {%- endfor %},
        false
    )
{%- endmacro %}
