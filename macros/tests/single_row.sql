{#- Generic test: the model has exactly one row (a model that states one fact about the whole data, such
    as the funnel steps a store sends). Fails with the row count otherwise. -#}
{% test single_row(model) %}
    select rows_in_model
    from (select count(*) as rows_in_model from {{ model }}) as counted
    where rows_in_model <> 1
{% endtest %}
