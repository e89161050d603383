with

source as (

    select * from {{ source('quickbooks', 'credit_memos') }}

),

renamed as (

    select
        -- ids
        realm_id,
        id as credit_memo_id,
        _dlt_id as credit_memo_dlt_id,
        doc_number,
        customer_ref__value as customer_id,

        -- dates
        cast(txn_date as date) as txn_date,

        -- money
        currency_ref__value as currency,
        cast(exchange_rate as decimal(18, 8)) as exchange_rate,
        cast(total_amt as decimal(18, 2)) as total_amount,
        cast(balance as decimal(18, 2)) as open_balance,
        cast(remaining_credit as decimal(18, 2)) as remaining_credit,

        -- QuickBooks voids in place (amounts 0, note "Voided..."); the extraction flags it.
        coalesce(is_voided, false) as is_voided,
        private_note,

        -- metadata
        sync_token,
        meta_data__create_time as created_at,
        meta_data__last_updated_time as updated_at

    from source
    -- A deleted object stays in raw as a tombstone (history); it never counts downstream.
    where not coalesce(is_deleted, false)

)

select * from renamed
