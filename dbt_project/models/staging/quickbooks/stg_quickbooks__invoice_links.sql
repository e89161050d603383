with

source as (

    {{ current_child_rows('invoices__linked_txn') }}

),

renamed as (

    select
        -- ids
        _dlt_id as invoice_link_dlt_id,
        _dlt_parent_id as invoice_dlt_id,
        _dlt_list_idx as link_index,

        -- linked transaction
        txn_id as linked_txn_id,
        txn_type as linked_txn_type

    from source

)

select * from renamed
