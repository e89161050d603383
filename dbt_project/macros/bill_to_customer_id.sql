{#-
    Who pays a customer's invoices: a sub-customer (job) set to "bill with parent" is
    billed to its parent, anyone else to themselves. QuickBooks keeps BillWithParent and
    ParentRef on the job's own row, so no join is needed. One level: a job of a job that
    bills with its parent is billed to the level above it, not to the top.
-#}
{% macro bill_to_customer_id(customers) -%}
    case
        when {{ customers }}.is_billed_with_parent and {{ customers }}.parent_customer_id is not null
            then {{ customers }}.parent_customer_id
        else {{ customers }}.customer_id
    end
{%- endmacro %}
