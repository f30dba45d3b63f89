from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional


class ShareForm(FlaskForm):
    recipients = TextAreaField("Recipients (one email address per line)", validators=[InputRequired(), Length(max=6000)])
    message = TextAreaField("Message (optional)", validators=[Length(max=2000)])
    days = IntegerField("Link works for (days)", default=7, validators=[InputRequired(), NumberRange(min=1)])
    max_downloads = IntegerField("Downloads per recipient (empty: no limit)", validators=[Optional(), NumberRange(min=1)])
    password = PasswordField("Password (optional)", validators=[Length(max=200)])
    submit = SubmitField("Send links")


class UnlockForm(FlaskForm):
    password = PasswordField("Password", validators=[InputRequired(), Length(max=200)])
    submit = SubmitField("Open")
