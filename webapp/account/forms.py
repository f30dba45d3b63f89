from wtforms import IntegerField, SelectField, StringField, SubmitField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange

from webapp.forms import PrefixedForm
from webapp.flows.upload_links import MAX_DAYS, MAX_FILES, MAX_LABEL_CHARS, LinkRequest

# What an upload link may take, by family of the types the site accepts.
KINDS = [SelectChoice("any", "Any file this site takes"), SelectChoice("image/", "Images"),
         SelectChoice("video/", "Video"), SelectChoice("audio/", "Audio"), SelectChoice("application/pdf", "PDF documents")]


class UploadLinkForm(PrefixedForm):
    prefix_name = "link"
    label = StringField("Name of the link", validators=[InputRequired(), Length(max=MAX_LABEL_CHARS)],
                        description="For you: what arrives through it is marked with this name.")
    max_files = IntegerField("How many files", default=10,
                             validators=[InputRequired(), NumberRange(min=1, max=MAX_FILES)])
    max_megabytes = IntegerField("How much in all (MB)", default=1000, validators=[InputRequired(), NumberRange(min=1)])
    kind = SelectField("Which files", choices=KINDS, default="any")
    days = IntegerField("Open for (days)", default=7, validators=[InputRequired(), NumberRange(min=1, max=MAX_DAYS)])
    submit = SubmitField("Make an upload link")

    def link_request(self, allowed_types) -> LinkRequest:
        kind = self.kind.data
        types = () if kind == "any" else tuple(t for t in allowed_types if t.startswith(kind))
        if kind != "any" and not types:  # an empty list would mean any type
            types = (kind,)  # refused by upload_links.create as a type the site does not take
        return LinkRequest(label=self.label.data, max_files=self.max_files.data,
                           max_bytes=self.max_megabytes.data * 1_000_000, days=self.days.data, types=types)
