{% macro current_child_rows(child_table) %}
{#-
    The rows of a raw child table (`invoices__line`, ...) that belong to a version loaded now.
    Each version of an object has its own `_dlt_id` and child rows; qbcollect deletes the rows of
    replaced versions at the end of every sync, and this keeps them out of every model if a sync
    was cut off before it did.
-#}
{%- set root_table = child_table.split('__')[0] -%}
    select child.*
    from {{ source('quickbooks', child_table) }} as child
    where exists (
        select 1 from {{ source('quickbooks', root_table) }} as root
        where root._dlt_id = child._dlt_root_id
    )
{%- endmacro %}
