{#- When the build loaded raw table `table_name` by appending a file's new lines to the rows of the last
    build, the source_line of its first new row (`sales-insights build` passes the var
    appended_from_line, {table: line}); none otherwise. Models use it to process only the new rows; without
    it they build in full (or, for sessions, by their lookback window). -#}
{% macro appended_from_line(table_name) %}
    {{ return(var('appended_from_line', {}).get(table_name)) }}
{% endmacro %}
