{{ config(meta={'dagster': {'ref': {'name': 'stg_quickbooks__payments'}}}) }}

-- QuickBooks' payment arithmetic: TotalAmt = what the lines apply to invoices - the credit memo
-- credit the lines use up + UnappliedAmt. A difference means lines were lost between the
-- payment and its dlt child tables. Payments with lines linked to other transaction types
-- (journal entries, checks, ...) follow other rules and are left out.

with

payments as (

    select * from {{ ref('stg_quickbooks__payments') }}

),

applications as (

    select * from {{ ref('int_payment_applications_joined_to_payments') }}

),

applications_summed as (

    select
        realm_id,
        payment_id,
        sum(case when linked_txn_type = 'Invoice' then applied_amount else 0 end)
            as invoice_amount,
        sum(case when linked_txn_type = 'CreditMemo' then applied_amount else 0 end)
            as credit_memo_amount,
        sum(case when linked_txn_type not in ('Invoice', 'CreditMemo') then 1 else 0 end)
            as other_link_count

    from applications
    group by realm_id, payment_id

)

select
    payments.realm_id,
    payments.payment_id,
    payments.total_amount,
    applications_summed.invoice_amount,
    applications_summed.credit_memo_amount,
    payments.unapplied_amount

from payments
left join applications_summed
    on
        payments.realm_id = applications_summed.realm_id
        and payments.payment_id = applications_summed.payment_id
where
    coalesce(applications_summed.other_link_count, 0) = 0
    and coalesce(payments.total_amount, 0)
    != coalesce(applications_summed.invoice_amount, 0)
    - coalesce(applications_summed.credit_memo_amount, 0)
    + coalesce(payments.unapplied_amount, 0)
