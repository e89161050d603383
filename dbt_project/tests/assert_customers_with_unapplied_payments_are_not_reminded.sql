{{ config(meta={'dagster': {'ref': {'name': 'dunning_eligibility'}}}) }}

-- Someone who has paid, but whose payment is not applied yet, must never get a reminder.
-- Checked against the raw payments, not the intermediate model dunning_eligibility uses.

with

eligible_invoices as (

    select * from {{ ref('dunning_eligibility') }}
    where is_eligible

),

unapplied_payments as (

    select * from {{ ref('stg_quickbooks__payments') }}
    where not is_voided and unapplied_amount > 0

)

select
    eligible_invoices.realm_id,
    eligible_invoices.invoice_id,
    unapplied_payments.payment_id

from eligible_invoices
inner join unapplied_payments
    on
        eligible_invoices.realm_id = unapplied_payments.realm_id
        and eligible_invoices.customer_id = unapplied_payments.customer_id
        and eligible_invoices.currency is not distinct from unapplied_payments.currency
