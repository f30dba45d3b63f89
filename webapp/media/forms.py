from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange


class EmbedOriginsForm(FlaskForm):
    origins = TextAreaField("Sites allowed to embed", validators=[Length(max=4000)])
    submit = SubmitField("Save sites")


class ExpiryForm(FlaskForm):
    days = IntegerField("Keep for (days from now)", validators=[InputRequired(), NumberRange(min=1)])
    submit = SubmitField("Change expiry")


class ItemPasswordForm(FlaskForm):
    password = PasswordField("Password for every link (empty: none)", validators=[Length(max=200)])
    submit = SubmitField("Save password")
