with

source as (

    select * from {{ source('quickbooks', 'invoices') }}

),

renamed as (

    select
        -- ids
        realm_id,
        id as invoice_id,
        _dlt_id as invoice_dlt_id,
        doc_number,
        customer_ref__value as customer_id,
        sales_term_ref__value as sales_term_id,

        -- dates
        cast(txn_date as date) as txn_date,
        cast(due_date as date) as due_date,

        -- money
        currency_ref__value as currency,
        cast(exchange_rate as decimal(18, 8)) as exchange_rate,
        cast(total_amt as decimal(18, 2)) as total_amount,
        cast(balance as decimal(18, 2)) as open_balance,
        cast(home_total_amt as decimal(18, 2)) as home_total_amount,
        cast(home_balance as decimal(18, 2)) as home_open_balance,

        -- delivery
        nullif(trim(bill_email__address), '') as bill_email,
        email_status,
        print_status,

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
