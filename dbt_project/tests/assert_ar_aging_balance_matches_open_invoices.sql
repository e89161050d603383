{{ config(meta={'dagster': {'ref': {'name': 'ar_aging'}}}) }}

-- Per realm and currency, ar_aging owes exactly what the open invoices in staging owe: no open
-- invoice is lost or counted twice on the way through the joins.

with

ar_aging_summed as (

    select realm_id, currency, sum(open_balance) as open_balance
    from {{ ref('ar_aging') }}
    group by realm_id, currency

),

open_invoices_summed as (

    select realm_id, currency, sum(open_balance) as open_balance
    from {{ ref('stg_quickbooks__invoices') }}
    where
        not is_voided
        and open_balance > 0
        and txn_date <= {{ company_today() }}
    group by realm_id, currency

)

select
    coalesce(ar_aging_summed.realm_id, open_invoices_summed.realm_id) as realm_id,
    coalesce(ar_aging_summed.currency, open_invoices_summed.currency) as currency,
    ar_aging_summed.open_balance as ar_aging_open_balance,
    open_invoices_summed.open_balance as open_invoices_open_balance

from ar_aging_summed
full outer join open_invoices_summed
    on
        ar_aging_summed.realm_id = open_invoices_summed.realm_id
        and ar_aging_summed.currency is not distinct from open_invoices_summed.currency
where ar_aging_summed.open_balance is distinct from open_invoices_summed.open_balance
