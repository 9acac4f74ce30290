{#- The loader's record of where rows start further down their file than their record line (see
    has_loader_record), for stg_rejected_rows to name a rejected row by the line of its file. Empty when
    the build has no such record: a build of the mock seeds, or a raw schema written by another tool. -#}
-- depends_on: {{ source('loader', 'raw_line_offsets') }}

with line_offsets as (
    {%- if has_loader_record('raw_line_offsets') %}
    select
        table_name,
        from_line,
        to_line,
        extra_lines
    from {{ source('loader', 'raw_line_offsets') }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as table_name,
        cast(null as {{ dbt.type_bigint() }}) as from_line,
        cast(null as {{ dbt.type_bigint() }}) as to_line,
        cast(null as {{ dbt.type_bigint() }}) as extra_lines
    where 1 = 0
    {%- endif %}
)

select * from line_offsets
