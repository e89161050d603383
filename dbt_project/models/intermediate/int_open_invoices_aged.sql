with

invoices as (

    select * from {{ ref('stg_quickbooks__invoices') }}

),

as_of as (

    select {{ company_today() }} as as_of_date

),

-- Open means money still owed; voided invoices keep a zero balance but are dropped by name
-- too, and invoices dated after the as-of date did not exist yet on that day.
open_invoices_filtered as (

    select
        invoices.*,
        as_of.as_of_date

    from invoices
    cross join as_of
    where
        not invoices.is_voided
        and invoices.open_balance > 0
        and invoices.txn_date <= as_of.as_of_date

),

days_past_due_computed as (

    select
        realm_id,
        invoice_id,
        doc_number,
        customer_id,
        txn_date,
        -- QuickBooks fills DueDate from the term; an invoice without one is due on its date.
        coalesce(due_date, txn_date) as due_date,
        currency,
        total_amount,
        open_balance,
        bill_email,
        cast(
            {{ dbt.datediff('coalesce(due_date, txn_date)', 'as_of_date', 'day') }}
            as integer
        ) as days_past_due,
        as_of_date

    from open_invoices_filtered

),

final as (

    select
        *,
        {{ aging_bucket('days_past_due') }} as aging_bucket

    from days_past_due_computed

)

select * from final
