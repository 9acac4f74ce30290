{#- Every session of a build is counted by one closed funnel: the steps the store sends (see
    closed_funnel_steps). An incremental build after the data started sending a skipped step would mix two;
    it fails here instead (a full refresh mends it). Returns the definitions when there is more than one. -#}
select
    closed_funnel_steps,
    count(*) as sessions
from {{ ref('fct_sessions') }}
group by closed_funnel_steps
having (select count(distinct closed_funnel_steps) from {{ ref('fct_sessions') }}) > 1
