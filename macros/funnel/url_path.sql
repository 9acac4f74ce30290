{#- The path of a URL for reporting: no scheme or host, no query string or fragment, and no trailing
    slash except for the root '/'. Null stays null. -#}
{% macro url_path(column) -%}
    case
        when {{ column }} is not null then coalesce(
            nullif(
                regexp_replace(
                    regexp_extract({{ column }}, '^(?:[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*)?([^?#]*)', 1),
                    '/+$', ''
                ),
                ''
            ),
            '/'
        )
    end
{%- endmacro %}
