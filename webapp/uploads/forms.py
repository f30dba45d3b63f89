from flask_wtf import FlaskForm
from wtforms.fields import SelectChoice
from wtforms import BooleanField, EmailField, FileField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from webapp.rules import MAX_CAPTION_CHARS, MAX_DOWNLOAD_LIMIT, MAX_NAME_CHARS


class UploadForm(FlaskForm):
    """Rendered for its labels and CSRF token; the file itself goes to S3 from the browser."""

    name = StringField("Name", validators=[Length(max=MAX_NAME_CHARS)])
    caption = TextAreaField("Caption", validators=[Length(max=MAX_CAPTION_CHARS)])
    file = FileField("File")
    retention_days = IntegerField("Keep for (days)", validators=[Optional(), NumberRange(min=1)])
    max_downloads = IntegerField(
        "Download limit (empty: no limit)", validators=[Optional(), NumberRange(min=1, max=MAX_DOWNLOAD_LIMIT)]
    )
    public = BooleanField("Show in the public gallery")
    # The share link lasts as long as the files unless a shorter time is chosen here (a choice
    # longer than the files are kept is cut to it, and the result says so).
    link_seconds = SelectField("Share link works", default="", choices=[
        SelectChoice(value, label) for value, label in (
            ("", "as long as the files are kept"), ("3600", "1 hour"), ("86400", "1 day"), ("259200", "3 days"),
            ("604800", "7 days"), ("2592000", "30 days"))])
    email = EmailField("Your e-mail address", validators=[Optional(), Length(max=254)])
    submit = SubmitField("Upload")
