with

source as (

    select * from {{ source('quickbooks', 'preferences') }}

),

renamed as (

    select
        -- ids
        realm_id,

        -- money
        currency_prefs__home_currency__value as home_currency,
        coalesce(currency_prefs__multi_currency_enabled, false) as is_multicurrency,

        -- sales forms and reports
        sales_forms_prefs__default_terms__value as default_term_id,
        coalesce(report_prefs__calc_aging_report_from_txn_date, false) as ages_from_txn_date,
        report_prefs__report_basis as report_basis,

        -- metadata
        meta_data__last_updated_time as updated_at,
        read_at

    from source

)

select * from renamed
