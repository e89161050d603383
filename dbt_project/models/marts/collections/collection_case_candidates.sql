with

open_invoices as (

    select * from {{ ref('int_open_invoices_aged') }}

),

customers as (

    select * from {{ ref('stg_quickbooks__customers') }}

),

unapplied_credits as (

    select * from {{ ref('int_unapplied_credits_summed_to_customers') }}

),

-- The debtor is who pays: a job billed with its parent is its parent's debt.
long_overdue_invoices_filtered as (

    select
        open_invoices.*,
        coalesce({{ bill_to_customer_id('customers') }}, open_invoices.customer_id) as debtor_id

    from open_invoices
    left join customers
        on
            open_invoices.realm_id = customers.realm_id
            and open_invoices.customer_id = customers.customer_id
    where open_invoices.days_past_due >= {{ var('collection_case_min_days_past_due') }}

),

overdue_invoices_summed_to_customers as (

    select
        realm_id,
        debtor_id as customer_id,
        currency,
        cast(count(*) as integer) as invoice_count,
        {{ dbt.listagg('doc_number', "', '", 'order by due_date, doc_number') }}
            as invoice_doc_numbers,
        min(due_date) as oldest_due_date,
        max(days_past_due) as max_days_past_due,
        cast(sum(open_balance) as decimal(18, 2)) as overdue_balance,
        as_of_date

    from long_overdue_invoices_filtered
    group by realm_id, debtor_id, currency, as_of_date

),

-- Someone holding unapplied money or credit may already have paid: no case until it is applied.
candidates_filtered as (

    select overdue.*
    from overdue_invoices_summed_to_customers as overdue
    left join unapplied_credits
        on
            overdue.realm_id = unapplied_credits.realm_id
            and overdue.customer_id = unapplied_credits.customer_id
            and overdue.currency is not distinct from unapplied_credits.currency
    where
        overdue.overdue_balance
        >= cast({{ var('collection_case_min_balance') }} as decimal(18, 2))
        and unapplied_credits.customer_id is null

),

final as (

    select
        candidates_filtered.realm_id,
        candidates_filtered.customer_id,
        customers.display_name as customer_name,
        customers.email as customer_email,
        customers.phone as customer_phone,
        customers.bill_line1,
        customers.bill_city,
        customers.bill_region,
        customers.bill_postal_code,
        customers.bill_country,
        candidates_filtered.currency,
        candidates_filtered.invoice_count,
        candidates_filtered.invoice_doc_numbers,
        candidates_filtered.oldest_due_date,
        candidates_filtered.max_days_past_due,
        candidates_filtered.overdue_balance,
        candidates_filtered.as_of_date

    from candidates_filtered
    left join customers
        on
            candidates_filtered.realm_id = customers.realm_id
            and candidates_filtered.customer_id = customers.customer_id

)

select * from final
