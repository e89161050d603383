with

payments as (

    select * from {{ ref('stg_quickbooks__payments') }}

),

credit_memos as (

    select * from {{ ref('stg_quickbooks__credit_memos') }}

),

unapplied_payments as (

    select
        realm_id,
        customer_id,
        currency,
        unapplied_amount as unapplied_payment_amount,
        cast(0 as decimal(18, 2)) as unused_credit_memo_amount

    from payments
    where not is_voided and unapplied_amount > 0

),

unused_credit_memos as (

    select
        realm_id,
        customer_id,
        currency,
        cast(0 as decimal(18, 2)) as unapplied_payment_amount,
        -- RemainingCredit is the unused credit; Balance moves with it when it is absent.
        coalesce(remaining_credit, open_balance) as unused_credit_memo_amount

    from credit_memos
    where not is_voided and coalesce(remaining_credit, open_balance) > 0

),

credits_unioned as (

    select * from unapplied_payments
    union all
    select * from unused_credit_memos

),

credits_summed as (

    select
        realm_id,
        customer_id,
        currency,
        cast(sum(unapplied_payment_amount) as decimal(18, 2)) as unapplied_payment_amount,
        cast(sum(unused_credit_memo_amount) as decimal(18, 2)) as unused_credit_memo_amount

    from credits_unioned
    group by realm_id, customer_id, currency

),

final as (

    select
        *,
        unapplied_payment_amount + unused_credit_memo_amount as unapplied_credit_amount

    from credits_summed

)

select * from final
