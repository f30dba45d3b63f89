"""CloudFront keys from Secrets Manager, SSM, a file or the environment (moto's server over HTTP)."""

import pytest

from webapp import signing
from webapp.config import ConfigError
from webapp.keystore import load_signing_keys

KEYS = [signing.new_signing_key("K2STORED")]
DOCUMENT = signing.signing_keys_document(KEYS)


def test_from_secrets_manager(aws, settings):
    aws.secretsmanager.create_secret(Name="mediahub/cloudfront", SecretString=DOCUMENT)
    loaded = load_signing_keys(settings.with_overrides(cloudfront_keys_secret="mediahub/cloudfront"), aws)
    assert [k.key_id for k in loaded] == ["K2STORED"]


def test_from_ssm_securestring(aws, settings):
    aws.ssm.put_parameter(Name="/mediahub/cloudfront", Value=DOCUMENT, Type="SecureString")
    loaded = load_signing_keys(settings.with_overrides(cloudfront_keys_secret="ssm:/mediahub/cloudfront"), aws)
    assert loaded[0].public_key.public_numbers() == KEYS[0].public_key.public_numbers()


def test_from_a_file(aws, settings, tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(DOCUMENT)
    assert load_signing_keys(settings.with_overrides(cloudfront_keys_file=str(path)), aws)[0].key_id == "K2STORED"


def test_missing_secret_is_named_without_content(aws, settings):
    with pytest.raises(ConfigError, match="could not be read from mediahub/none"):
        load_signing_keys(settings.with_overrides(cloudfront_keys_secret="mediahub/none"), aws)


def test_malformed_secret_names_the_source_only(aws, settings):
    aws.secretsmanager.create_secret(Name="mediahub/bad", SecretString='[{"id": "K", "private_key": "SECRET-ISH"}]')
    with pytest.raises(ConfigError) as error:
        load_signing_keys(settings.with_overrides(cloudfront_keys_secret="mediahub/bad"), aws)
    assert "secret mediahub/bad" in str(error.value) and "SECRET-ISH" not in str(error.value)


def test_app_signs_with_the_stored_key(make_app, aws, settings):
    aws.secretsmanager.create_secret(Name="mediahub/cloudfront", SecretString=DOCUMENT)
    app = make_app(cdn_url="https://d111111abcdef8.cloudfront.net", cloudfront_keys_secret="mediahub/cloudfront")
    links = app.extensions["mediahub"].links
    assert links.key.key_id == "K2STORED" and links.origin == "https://d111111abcdef8.cloudfront.net"
