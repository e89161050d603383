with

applications as (

    select * from {{ ref('int_payment_applications_joined_to_payments') }}

),

invoice_applications_summed as (

    select
        realm_id,
        payment_id,
        linked_txn_id as invoice_id,
        customer_id,
        payment_date,
        currency,
        payment_total_amount,
        payment_unapplied_amount,
        cast(sum(applied_amount) as decimal(18, 2)) as applied_amount

    from applications
    where linked_txn_type = 'Invoice'
    group by
        realm_id,
        payment_id,
        linked_txn_id,
        customer_id,
        payment_date,
        currency,
        payment_total_amount,
        payment_unapplied_amount

),

-- Credit memo credit a payment uses belongs to the whole payment, not to one invoice.
credit_memo_applications_summed as (

    select
        realm_id,
        payment_id,
        cast(sum(applied_amount) as decimal(18, 2)) as payment_credit_memo_amount

    from applications
    where linked_txn_type = 'CreditMemo'
    group by realm_id, payment_id

),

final as (

    select
        invoice_applications_summed.realm_id,
        invoice_applications_summed.payment_id,
        invoice_applications_summed.invoice_id,
        invoice_applications_summed.customer_id,
        invoice_applications_summed.payment_date,
        invoice_applications_summed.currency,
        invoice_applications_summed.applied_amount,
        invoice_applications_summed.payment_total_amount,
        coalesce(
            credit_memo_applications_summed.payment_credit_memo_amount, 0
        ) as payment_credit_memo_amount,
        invoice_applications_summed.payment_unapplied_amount

    from invoice_applications_summed
    left join credit_memo_applications_summed
        on
            invoice_applications_summed.realm_id = credit_memo_applications_summed.realm_id
            and invoice_applications_summed.payment_id = credit_memo_applications_summed.payment_id

)

select * from final
