{#- A regular expression literal matching a control character other than tab, line feed and carriage
    return (U+0000-U+0008, U+000B, U+000C, U+000E-U+001F, U+007F). Line breaks and tabs are kept: CSV
    quoting carries them in real product titles and notes. Spark unescapes backslashes in string literals,
    DuckDB does not, hence two spellings. -#}
{% macro control_character_pattern() %}
    {{ return(adapter.dispatch('control_character_pattern', 'sales_insights')()) }}
{% endmacro %}

{% macro default__control_character_pattern() -%}
    '[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F]'
{%- endmacro %}

{% macro duckdb__control_character_pattern() -%}
    '[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]'
{%- endmacro %}
