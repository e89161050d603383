{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_quickbooks__customers'}}}) }}

-- QuickBooks keeps Customer.Balance equal to what the customer owes on its own open invoices
-- less its credits: unapplied payments and the unused part of credit memos (reference §13.1).
-- Sub-customers' transactions count for the sub-customer, not its parent. A difference means
-- a half-synced or misread book. A warning, not an error: an edit that lands between the
-- customer and the transaction pages of one sync shows here until the next sync.

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

credits as (

    select realm_id, customer_id, sum(unapplied_credit_amount) as unapplied_credit_amount
    from {{ ref('int_unapplied_credits_summed_to_customers') }}
    group by realm_id, customer_id

),

balances_compared as (

    select
        customers.realm_id,
        customers.customer_id,
        customers.balance,
        coalesce(open_invoices_summed.open_invoice_balance, 0)
        - coalesce(credits.unapplied_credit_amount, 0) as expected_balance

    from customers
    left join open_invoices_summed
        on
            customers.realm_id = open_invoices_summed.realm_id
            and customers.customer_id = open_invoices_summed.customer_id
    left join credits
        on
            customers.realm_id = credits.realm_id
            and customers.customer_id = credits.customer_id

)

select * from balances_compared
where balance != expected_balance
