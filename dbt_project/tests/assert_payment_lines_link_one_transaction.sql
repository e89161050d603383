{{ config(meta={'dagster': {'ref': {'name': 'stg_quickbooks__payment_lines'}}}) }}

-- A payment line applies its amount to the one transaction it links. payments_applied relies on
-- it: a line linking two invoices would be counted in full against each.

with

payment_lines as (

    select * from {{ ref('stg_quickbooks__payment_lines') }}

),

payment_line_links as (

    select * from {{ ref('stg_quickbooks__payment_line_links') }}

)

select
    payment_lines.payment_line_dlt_id,
    count(payment_line_links.payment_line_link_dlt_id) as link_count

from payment_lines
left join payment_line_links
    on payment_lines.payment_line_dlt_id = payment_line_links.payment_line_dlt_id
group by payment_lines.payment_line_dlt_id
having count(payment_line_links.payment_line_link_dlt_id) != 1
