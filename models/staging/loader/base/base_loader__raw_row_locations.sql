{#- Where the loader read each row of a raw table it loaded from another layout than the contract's CSV
    (see has_loader_record), for stg_rejected_rows to name a rejected row by its file and line there. Empty
    when the build has no such record: a build of the mock seeds, or of the flat CSVs. -#}
-- depends_on: {{ source('loader', 'raw_row_locations') }}

with row_locations as (
    {%- if has_loader_record('raw_row_locations') %}
    select
        table_name,
        record_line,
        source_location
    from {{ source('loader', 'raw_row_locations') }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as table_name,
        cast(null as {{ dbt.type_bigint() }}) as record_line,
        cast(null as {{ dbt.type_string() }}) as source_location
    where 1 = 0
    {%- endif %}
)

select * from row_locations
