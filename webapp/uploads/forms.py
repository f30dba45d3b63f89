from flask_wtf import FlaskForm
from wtforms import BooleanField, FileField, IntegerField, StringField, SubmitField, TextAreaField
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
    submit = SubmitField("Upload")
