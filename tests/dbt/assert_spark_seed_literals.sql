{#- Spark only: the seed loader's literals (spark_seeds.sql) give back the CSV's text exactly: quotes and
    backslashes kept, an empty value null. Returns the values it gets wrong. The literals are Spark SQL,
    which the linter's DuckDB dialect cannot parse. -#}
-- sqlfluff:ignore:parsing,lexing
{{ config(enabled=target.type == 'spark') }}

with cases as (
    -- one value a line -- noqa: disable=AL03,LT09,LT11
    select {{ spark_seed_literal("it's") }} as loaded, concat('it', chr(39), 's') as expected
    union all select {{ spark_seed_literal('C:\\new\\table') }}, concat('C:', chr(92), 'new', chr(92), 'table')
    union all select {{ spark_seed_literal("''") }}, concat(chr(39), chr(39))
    union all select {{ spark_seed_literal('50%') }}, concat('50', chr(37))
    union all select {{ spark_seed_literal(none) }}, null
)  -- noqa: enable=AL03,LT09,LT11

select * from cases
where not {{ null_safe_equals('loaded', 'expected') }}
