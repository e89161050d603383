with

source as (

    select * from {{ source('quickbooks', 'customers') }}

),

renamed as (

    select
        -- ids
        realm_id,
        id as customer_id,
        parent_ref__value as parent_customer_id,
        sales_term_ref__value as sales_term_id,

        -- names
        display_name,
        fully_qualified_name,
        company_name,
        given_name,
        family_name,

        -- contact
        nullif(trim(primary_email_addr__address), '') as email,
        nullif(trim(primary_phone__free_form_number), '') as phone,
        bill_addr__line1 as bill_line1,
        bill_addr__line2 as bill_line2,
        bill_addr__city as bill_city,
        bill_addr__country_sub_division_code as bill_region,
        bill_addr__postal_code as bill_postal_code,
        bill_addr__country as bill_country,
        preferred_delivery_method,

        -- money
        currency_ref__value as currency,
        cast(balance as decimal(18, 2)) as balance,
        cast(balance_with_jobs as decimal(18, 2)) as balance_with_jobs,

        -- flags
        active as is_active,
        job as is_job,
        bill_with_parent as is_billed_with_parent,
        cast(level as integer) as hierarchy_level,

        -- metadata
        sync_token,
        meta_data__create_time as created_at,
        meta_data__last_updated_time as updated_at

    from source
    -- A deleted object stays in raw as a tombstone (history); it never counts downstream.
    where not coalesce(is_deleted, false)

)

select * from renamed
