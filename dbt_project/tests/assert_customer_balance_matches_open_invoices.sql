{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_quickbooks__customers'}}}) }}

-- QuickBooks keeps Customer.Balance equal to what the customer owes on its own open invoices.
-- A warning, not an error: whether real QuickBooks nets unapplied credit out of it is
-- unconfirmed, and an edit between the customer and invoice pages of one sync shows here too.
--
-- (sub-customers' invoices excluded). A difference means a half-synced or misread book.

with

customers as (

    select * from {{ ref('stg_quickbooks__customers') }}
    where balance is not null

),

open_invoices_summed as (

    select realm_id, customer_id, sum(open_balance) as open_invoice_balance
    from {{ ref('stg_quickbooks__invoices') }}
    where not is_voided and open_balance > 0
    group by realm_id, customer_id

),

balances_compared as (

    select
        customers.realm_id,
        customers.customer_id,
        customers.balance,
        coalesce(open_invoices_summed.open_invoice_balance, 0) as open_invoice_balance

    from customers
    left join open_invoices_summed
        on
            customers.realm_id = open_invoices_summed.realm_id
            and customers.customer_id = open_invoices_summed.customer_id

)

select * from balances_compared
where balance != open_invoice_balance
