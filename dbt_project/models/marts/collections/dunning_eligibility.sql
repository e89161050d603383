with

open_invoices as (

    select * from {{ ref('int_open_invoices_aged') }}

),

customers as (

    select * from {{ ref('stg_quickbooks__customers') }}

),

unapplied_credits as (

    select * from {{ ref('int_unapplied_credits_summed_to_customers') }}

),

invoices_joined_to_customers as (

    select
        open_invoices.*,
        -- "Parent:Job" for a sub-customer, so jobs with the same name stay apart.
        coalesce(customers.fully_qualified_name, customers.display_name) as customer_name,
        customers.email as own_email,
        customers.is_active as is_own_active,
        {{ bill_to_customer_id('customers') }} as bill_to_customer_id

    from open_invoices
    left join customers
        on
            open_invoices.realm_id = customers.realm_id
            and open_invoices.customer_id = customers.customer_id

),

-- A job billed with its parent is dunned through the parent: its email, its standing, and
-- any money either of them holds on account.
invoices_joined_to_payers as (

    select
        invoices.*,
        coalesce(invoices.bill_email, invoices.own_email, payers.email) as customer_email,
        -- Unknown is treated as inactive: a reminder is only sent when we are sure.
        coalesce(invoices.is_own_active and payers.is_active, false) as is_customer_active,
        (own_credits.customer_id is not null or payer_credits.customer_id is not null) as has_unapplied_credit

    from invoices_joined_to_customers as invoices
    left join customers as payers
        on
            invoices.realm_id = payers.realm_id
            and invoices.bill_to_customer_id = payers.customer_id
    left join unapplied_credits as own_credits
        on
            invoices.realm_id = own_credits.realm_id
            and invoices.customer_id = own_credits.customer_id
            and invoices.currency is not distinct from own_credits.currency
    left join unapplied_credits as payer_credits
        on
            invoices.realm_id = payer_credits.realm_id
            and invoices.bill_to_customer_id = payer_credits.customer_id
            and invoices.currency is not distinct from payer_credits.currency

),

-- The first reason that applies wins, so each ineligible invoice carries exactly one.
eligibility_decided as (

    select
        *,
        case
            when days_past_due <= 0 then 'not_yet_due'
            when not is_customer_active then 'customer_inactive'
            when open_balance < cast({{ var('dunning_minimum_balance') }} as decimal(18, 2))
                then 'below_minimum_balance'
            when has_unapplied_credit then 'customer_has_unapplied_credit'
            when customer_email is null then 'no_email'
        end as ineligible_reason,
        case
            when days_past_due <= 0 then null
            when days_past_due <= 30 then 'first_reminder'
            when days_past_due <= 60 then 'second_reminder'
            else 'final_notice'
        end as dunning_stage

    from invoices_joined_to_payers

),

final as (

    select
        realm_id,
        invoice_id,
        doc_number,
        customer_id,
        customer_name,
        bill_to_customer_id,
        customer_email,
        currency,
        open_balance,
        due_date,
        days_past_due,
        aging_bucket,
        ineligible_reason is null as is_eligible,
        dunning_stage,
        ineligible_reason,
        as_of_date

    from eligibility_decided

)

select * from final
