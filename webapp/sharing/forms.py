from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from webapp.forms import PrefixedForm
from webapp.flows.shares import MAX_MESSAGE_CHARS, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS

PASSWORD_LENGTH = f"A password needs at least {MIN_PASSWORD_CHARS} characters (and at most {MAX_PASSWORD_CHARS})."
PASSWORD_HINT = f"At least {MIN_PASSWORD_CHARS} characters. Tell it to the recipients yourself: it is not in the mail."



def within_share_days(form, field):
    """The configured longest link, checked here so the message sits beside the days field
    (the flow checks it again, for every other caller)."""
    limit = current_app.config["MEDIAHUB"].max_share_days
    if field.data is not None and not 1 <= field.data <= limit:
        raise ValidationError(f"A link can last from 1 to {limit} days.")


class ShareForm(PrefixedForm):
    prefix_name = "share"
    recipients = TextAreaField("Recipients (one email address per line)", validators=[InputRequired(), Length(max=6000)])
    message = TextAreaField("Message (optional)", validators=[Length(max=MAX_MESSAGE_CHARS)])
    days = IntegerField("Link works for (days)", default=7, validators=[InputRequired(), within_share_days])
    max_downloads = IntegerField("Downloads per recipient (empty: no limit)", validators=[Optional(), NumberRange(min=1)])
    password = PasswordField(
        "Password (optional)", description=PASSWORD_HINT,
        validators=[Optional(), Length(min=MIN_PASSWORD_CHARS, max=MAX_PASSWORD_CHARS, message=PASSWORD_LENGTH)],
    )
    verify = BooleanField(
        "Recipients must confirm their address", default=False,
        description="Before the link opens, we e-mail a one-time code to the recipient's address and ask for "
                    "it, so a forwarded link does not open for someone else.",
    )
    submit = SubmitField("Send links")


class AnyoneLinkForm(PrefixedForm):
    prefix_name = "anyone"
    days = IntegerField("New link works for (days)", default=7, validators=[InputRequired(), within_share_days])
    submit = SubmitField("Make a new link for anyone")


class VerifyCodeForm(FlaskForm):
    """The code from the mail; the request to mail one is a bare button with the CSRF token."""

    code = StringField("Code from the e-mail (6 digits)", validators=[InputRequired(), Length(max=20)])
    submit = SubmitField("Confirm")


class UnlockForm(FlaskForm):
    password = PasswordField("Password", validators=[InputRequired(), Length(max=MAX_PASSWORD_CHARS)])
    submit = SubmitField("Open")


class TransferExpiryForm(PrefixedForm):
    """Days beyond the site's longest are kept at the longest, and the page says so."""

    prefix_name = "expiry"
    days = IntegerField("Keep the files for (days from now)", validators=[InputRequired(), NumberRange(min=1)])
    submit = SubmitField("Change expiry")
