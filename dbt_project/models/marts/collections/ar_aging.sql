with

open_invoices as (

    select * from {{ ref('int_open_invoices_aged') }}

),

customers as (

    select * from {{ ref('stg_quickbooks__customers') }}

),

final as (

    select
        open_invoices.realm_id,
        open_invoices.invoice_id,
        open_invoices.doc_number,
        open_invoices.customer_id,
        -- "Parent:Job" for a sub-customer, so jobs with the same name stay apart.
        coalesce(customers.fully_qualified_name, customers.display_name) as customer_name,
        {{ bill_to_customer_id('customers') }} as bill_to_customer_id,
        open_invoices.txn_date,
        open_invoices.due_date,
        open_invoices.currency,
        open_invoices.total_amount,
        open_invoices.open_balance,
        open_invoices.days_past_due,
        open_invoices.aging_bucket,
        open_invoices.as_of_date

    from open_invoices
    left join customers
        on
            open_invoices.realm_id = customers.realm_id
            and open_invoices.customer_id = customers.customer_id

)

select * from final
