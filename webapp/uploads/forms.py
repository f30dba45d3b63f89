from flask_wtf import FlaskForm
from wtforms import FileField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length

from webapp.rules import MAX_CAPTION_CHARS, MAX_NAME_CHARS


class UploadForm(FlaskForm):
    """Rendered for its labels and CSRF token; the file itself goes to S3 from the browser."""

    name = StringField("Name", validators=[Length(max=MAX_NAME_CHARS)])
    caption = TextAreaField("Caption", validators=[Length(max=MAX_CAPTION_CHARS)])
    file = FileField("File")
    submit = SubmitField("Upload")
