from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length


class EmbedOriginsForm(FlaskForm):
    origins = TextAreaField("Sites allowed to embed", validators=[Length(max=4000)])
    submit = SubmitField("Save sites")
