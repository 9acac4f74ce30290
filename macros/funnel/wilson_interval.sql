{#- Bounds of the Wilson score interval for a proportion of `successes` out of `trials` (Wilson 1927),
    at the normal quantile z (1.959964 for 95%). Unlike p +/- z*se it stays inside [0, 1] and behaves
    for small counts and for 0% or 100%. Null when there are no trials.
      centre = (p + z^2/2n) / (1 + z^2/n),  half width = z * sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n)
    At 0% the lower bound is exactly 0 and at 100% the upper bound exactly 1; the formula misses both by
    about 1e-16 in floating point (a negative rate, an interval that leaves out its own 100%), so they
    are set, and every bound is clamped to [0, 1]. -#}
{% macro wilson_bound(successes, trials, side, z=1.959964) -%}
    {%- set p = '(cast(' ~ successes ~ ' as ' ~ type_double() ~ ') / ' ~ trials ~ ')' -%}
    {%- set n = trials -%}
    case
        when {{ n }} is null or {{ n }} = 0 then null
        {%- if side == 'lower' %}
        when {{ successes }} = 0 then 0.0
        {%- else %}
        when {{ successes }} = {{ n }} then 1.0
        {%- endif %}
        else least(1.0, greatest(0.0, (
            {{ p }} + {{ z * z }} / (2.0 * {{ n }})
            {{ '-' if side == 'lower' else '+' }} {{ z }} * sqrt(
                {{ p }} * (1 - {{ p }}) / {{ n }} + {{ z * z }} / (4.0 * {{ n }} * {{ n }})
            )
        ) / (1 + {{ z * z }} / {{ n }})))
    end
{%- endmacro %}
