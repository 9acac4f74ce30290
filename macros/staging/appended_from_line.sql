{#- When the build loaded raw table `table_name` by appending a file's new lines to the rows of the last
    build, the source_line of its first new row (`sales-insights build` passes the var
    appended_from_line, {table: line}); none otherwise. Models use it to process only the new rows; without
    it they build in full (or, for sessions in a plain dbt build, by their lookback window). -#}
{% macro appended_from_line(table_name) %}
    {{ return(var('appended_from_line', {}).get(table_name)) }}
{% endmacro %}

{#- True when the build loaded the raw files (it passed the var) but reloaded `table_name` whole: the file
    changed other than by appending, so any of its old rows may have changed. -#}
{% macro raw_table_reloaded(table_name) %}
    {{ return(var('appended_from_line', none) is not none and appended_from_line(table_name) is none) }}
{% endmacro %}
