"""SES mail with text and HTML bodies."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError


class SendFailed(Exception):
    """The message was not accepted; the text is safe to show (no credentials, no body)."""


class Mailer:
    def __init__(self, ses_client, sender: str):
        self._ses = ses_client
        self.sender = sender

    def send(self, to: str, subject: str, text: str, html: str) -> str:
        try:
            answer = self._ses.send_email(
                Source=self.sender,
                Destination={"ToAddresses": [to]},
                Message={
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": text, "Charset": "UTF-8"}, "Html": {"Data": html, "Charset": "UTF-8"}},
                },
            )
        except ClientError as error:
            details = error.response.get("Error", {})
            raise SendFailed(f"{details.get('Code', 'Error')}: {details.get('Message', 'not sent')}") from None
        except BotoCoreError as error:
            raise SendFailed(f"the mail service could not be reached ({type(error).__name__})") from None
        return answer["MessageId"]
