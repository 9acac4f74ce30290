{#- Generic test: `column_name` is unique. When the build appended to raw table `raw_table` (see
    appended_from_line), only keys found on a new row can repeat (the keys already built were unique
    when tested and cannot have changed), so only those are counted, over the whole model. The new rows
    are the model's own rows from the first appended line on, or, for a model without source lines
    (one row per session, say), the keys found on those rows of `keys_from`. -#}
{% test unique_appended(model, column_name, raw_table, keys_from=none) %}
    {%- set from_line = appended_from_line(raw_table) %}
    select
        {{ column_name }},
        count(*) as rows_with_key
    from {{ model }}
    where {{ column_name }} is not null
    {%- if from_line %}
        and {{ column_name }} in (
            select {{ column_name }} from {{ keys_from if keys_from is not none else model }}
            where source_line >= {{ from_line }}
        )
    {%- endif %}
    group by {{ column_name }}
    having count(*) > 1
{% endtest %}
