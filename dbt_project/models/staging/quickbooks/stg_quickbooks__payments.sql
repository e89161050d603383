with

source as (

    select * from {{ source('quickbooks', 'payments') }}

),

renamed as (

    select
        -- ids
        realm_id,
        id as payment_id,
        _dlt_id as payment_dlt_id,
        customer_ref__value as customer_id,
        payment_ref_num as reference_number,

        -- dates
        cast(txn_date as date) as txn_date,

        -- money
        currency_ref__value as currency,
        cast(exchange_rate as decimal(18, 8)) as exchange_rate,
        cast(total_amt as decimal(18, 2)) as total_amount,
        cast(unapplied_amt as decimal(18, 2)) as unapplied_amount,

        -- A voided payment keeps its id with both amounts 0, no lines and the note "Voided".
        {{ is_voided(['total_amt', 'unapplied_amt']) }} as is_voided,
        private_note,

        -- metadata
        sync_token,
        meta_data__create_time as created_at,
        meta_data__last_updated_time as updated_at

    from source

)

select * from renamed
