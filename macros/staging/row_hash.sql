{#- A fingerprint of a row's raw text: two rows with the same hash are the same record sent twice.
    A null and an empty string hash differently. -#}
{% macro row_hash(columns) -%}
    {%- set parts -%}
        {%- for column in columns -%}
            coalesce('~' || {{ column }}, ''){{ " || '|' || " if not loop.last }}
        {%- endfor -%}
    {%- endset -%}
    {{ dbt.hash(parts) }}
{%- endmacro %}
