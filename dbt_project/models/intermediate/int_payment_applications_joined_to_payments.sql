with

payments as (

    select * from {{ ref('stg_quickbooks__payments') }}

),

payment_lines as (

    select * from {{ ref('stg_quickbooks__payment_lines') }}

),

payment_line_links as (

    select * from {{ ref('stg_quickbooks__payment_line_links') }}

),

-- Lines and links carry no realm or payment id: they reach their payment through dlt's keys.
links_joined_to_payments as (

    select
        payment_line_links.payment_line_link_dlt_id,
        payments.realm_id,
        payments.payment_id,
        payments.customer_id,
        payments.txn_date as payment_date,
        payments.currency,
        payments.total_amount as payment_total_amount,
        payments.unapplied_amount as payment_unapplied_amount,
        payment_line_links.linked_txn_type,
        payment_line_links.linked_txn_id,
        payment_lines.amount as applied_amount

    from payment_line_links
    inner join payment_lines
        on payment_line_links.payment_line_dlt_id = payment_lines.payment_line_dlt_id
    inner join payments
        on payment_lines.payment_dlt_id = payments.payment_dlt_id

)

select * from links_joined_to_payments
