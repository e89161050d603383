with

source as (

    select * from {{ source('quickbooks', 'company_info') }}

),

renamed as (

    select
        -- ids
        realm_id,

        -- company
        company_name,
        legal_name,
        -- Intuit moved Country to ISO alpha-3 in 2025; older companies hold alpha-2 or a name.
        coalesce(nullif(trim(country), ''), company_addr__country) as country,
        nullif(trim(default_time_zone), '') as time_zone,
        fiscal_year_start_month,

        -- metadata
        meta_data__last_updated_time as updated_at,
        read_at

    from source

)

select * from renamed
