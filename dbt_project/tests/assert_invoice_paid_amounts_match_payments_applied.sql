{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'payments_applied'}}}) }}

-- What has been paid off an invoice (total - open balance) is what payments_applied says was
-- applied to it. A warning, not an error: real books can also reduce an invoice through a
-- deposit on the invoice itself or a journal entry, which no payment line shows.

with

invoices as (

    select * from {{ ref('stg_quickbooks__invoices') }}
    where not is_voided

),

payments_applied_summed as (

    select realm_id, invoice_id, sum(applied_amount) as applied_amount
    from {{ ref('payments_applied') }}
    group by realm_id, invoice_id

)

select
    invoices.realm_id,
    invoices.invoice_id,
    invoices.total_amount,
    invoices.open_balance,
    payments_applied_summed.applied_amount

from invoices
left join payments_applied_summed
    on
        invoices.realm_id = payments_applied_summed.realm_id
        and invoices.invoice_id = payments_applied_summed.invoice_id
where
    invoices.total_amount - invoices.open_balance
    != coalesce(payments_applied_summed.applied_amount, 0)
