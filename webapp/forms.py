"""What the blueprints' forms share, in one home below them all.

Forms import this module and the rules they check against, never ``webapp.pages``: the page
helpers import the forms they render, so imports run one way (pages -> forms -> rules).
"""

from __future__ import annotations

from flask_wtf import FlaskForm


class PrefixedForm(FlaskForm):
    """Several forms share the manage page: a prefix per form keeps every id (and label) its own."""

    prefix_name = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", self.prefix_name)
        super().__init__(*args, **kwargs)
