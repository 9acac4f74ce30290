{#- Seeds on Spark. dbt-spark's session method has no stable row id and reads a table's files in any
    order, so the mock raw tables (seeds with meta.source_lines) get the CSV line of each row as a column,
    _source_line (the header is line 1), which source_line_number() reads. Every seed's values are written
    as Spark SQL literals: dbt-spark's session method quoted their text as it was, so an empty value became
    the text 'None' and a quote broke the statement. dbt looks these implementations up in the root project
    before dbt-spark's own; they leave out dbt-spark's partition and clustering clauses, which no seed here
    uses.

    One difference from DuckDB remains: dbt reads a seed through agate, which takes the text 'null' (any
    case) and whitespace-only values of a text column for empty, where dbt-duckdb copies the file as it is.
    The committed mock seeds hold no such value (tests/test_spark.py checks), and raw data loaded with
    `sales-insights dbt --data-dir` goes through the DuckDB loader, which keeps them. -#}

{% macro seed_has_source_lines(model) -%}
    {{ return(model['config'].get('meta', {}).get('source_lines', false)) }}
{%- endmacro %}

{#- Each column's type: the seed's column_types, else the type dbt infers from the values. -#}
{% macro seed_column_types(model, agate_table) -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set types = [] -%}
    {%- for col_name in agate_table.column_names -%}
        {%- do types.append(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
    {%- endfor -%}
    {{ return(types) }}
{%- endmacro %}

{% macro spark__create_csv_table(model, agate_table) %}
    {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}
    {%- set types = seed_column_types(model, agate_table) -%}
    {%- set columns = [] -%}
    {%- for col_name in agate_table.column_names -%}
        {%- set name = adapter.quote_seed_column(col_name | string, quote_seed_column) -%}
        {%- do columns.append(name ~ ' ' ~ types[loop.index0]) -%}
    {%- endfor -%}
    {%- if seed_has_source_lines(model) -%}
        {%- do columns.append('_source_line bigint') -%}
    {%- endif -%}

    {% set sql %}
        create table {{ this.render() }} ({{ columns | join(', ') }})
        {{ file_format_clause() }}
        {{ location_clause() }}
        {{ comment_clause() }}
    {% endset %}

    {% call statement('_') -%}
        {{ sql }}
    {%- endcall %}

    {{ return(sql) }}
{% endmacro %}

{#- A CSV value as a Spark SQL literal. dbt-spark's session method binds values by quoting their text as
    it is: an empty value became the text 'None' and a quote broke the statement. -#}
{% macro spark_seed_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is sameas true or value is sameas false -%}
        {{ 'true' if value else 'false' }}
    {%- elif value is number -%}
        {{ value if value == value else "double('NaN')" }}
    {%- else -%}
        '{{ (value.isoformat() if value.isoformat is defined else value | string)
            | replace('\\', '\\\\') | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}

{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set batch_size = get_batch_size() -%}
    {%- set source_lines = seed_has_source_lines(model) -%}
    {%- set types = seed_column_types(model, agate_table) -%}
    {%- set statements = [] -%}

    {%- for chunk in agate_table.rows | batch(batch_size) -%}
        {%- set first_line = loop.index0 * batch_size + 2 -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    cast({{ spark_seed_literal(value) }} as {{ types[loop.index0] }}){{ ', ' if not loop.last }}
                {%- endfor -%}
                {%- if source_lines %}, {{ first_line + loop.index0 }}{% endif -%})
                {{- ',' if not loop.last }}
            {% endfor %}
        {%- endset -%}

        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}

    {{ return(statements[0]) }}
{% endmacro %}
