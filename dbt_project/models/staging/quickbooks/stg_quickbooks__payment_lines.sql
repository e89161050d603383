with

source as (

    {{ current_child_rows('payments__line') }}

),

renamed as (

    select
        -- ids
        _dlt_id as payment_line_dlt_id,
        _dlt_parent_id as payment_dlt_id,
        _dlt_list_idx as line_index,

        -- money
        cast(amount as decimal(18, 2)) as amount

    from source

)

select * from renamed
