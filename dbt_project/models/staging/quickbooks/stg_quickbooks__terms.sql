with

source as (

    select * from {{ source('quickbooks', 'terms') }}

),

renamed as (

    select
        -- ids
        realm_id,
        id as term_id,

        -- term
        name as term_name,
        type as term_type,
        cast(due_days as integer) as due_days,
        cast(day_of_month_due as integer) as day_of_month_due,
        cast(discount_days as integer) as discount_days,
        cast(discount_percent as decimal(9, 4)) as discount_percent,
        active as is_active,

        -- metadata
        sync_token,
        meta_data__create_time as created_at,
        meta_data__last_updated_time as updated_at

    from source
    -- A deleted object stays in raw as a tombstone (history); it never counts downstream.
    where not coalesce(is_deleted, false)

)

select * from renamed
