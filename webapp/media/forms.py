from wtforms import HiddenField, IntegerField, PasswordField, SubmitField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional

from webapp.rules import VISIBILITIES

from webapp.forms import PrefixedForm
from webapp.flows.shares import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS
from webapp.sharing.forms import PASSWORD_LENGTH


class EmbedOriginsForm(PrefixedForm):
    prefix_name = "embed"
    origins = TextAreaField(
        "Sites allowed to embed", validators=[Length(max=4000)],
        description="One per line, with the scheme: https://blog.example.com, or https://*.example.org for its subdomains.",
    )
    submit = SubmitField("Save sites")


class ExpiryForm(PrefixedForm):
    prefix_name = "expiry"
    days = IntegerField("Keep for (days from now)", validators=[InputRequired(), NumberRange(min=1)])
    submit = SubmitField("Change expiry")


class ItemPasswordForm(PrefixedForm):
    prefix_name = "item"
    password = PasswordField(
        "Password for every link (empty: none)",
        description=f"At least {MIN_PASSWORD_CHARS} characters. Leave empty and save to remove the password.",
        validators=[Optional(), Length(min=MIN_PASSWORD_CHARS, max=MAX_PASSWORD_CHARS, message=PASSWORD_LENGTH)],
    )
    submit = SubmitField("Save password")


class VisibilityForm(PrefixedForm):
    prefix_name = "gallery"
    visibility = HiddenField(validators=[InputRequired(), AnyOf(VISIBILITIES)])
