with

source as (

    {{ current_child_rows('credit_memos__line') }}

),

renamed as (

    select
        -- ids: the line id is only unique within its credit memo and is null on subtotal lines
        _dlt_id as credit_memo_line_dlt_id,
        _dlt_parent_id as credit_memo_dlt_id,
        _dlt_list_idx as line_index,
        id as line_id,
        cast(line_num as integer) as line_num,

        -- line
        detail_type,
        description,
        sales_item_line_detail__item_ref__value as item_id,
        sales_item_line_detail__item_ref__name as item_name,
        cast(sales_item_line_detail__qty as decimal(18, 5)) as quantity,
        cast(sales_item_line_detail__unit_price as decimal(18, 5)) as unit_price,
        cast(amount as decimal(18, 2)) as amount

    from source

)

select * from renamed
