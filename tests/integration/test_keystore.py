"""CloudFront keys from Secrets Manager, SSM, a file or the environment (moto's server over HTTP)."""

import pytest

from webapp.aws import signing
from webapp.config import ConfigError
from webapp.aws.keystore import load_signing_keys

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


def _deployed_document() -> str:
    """The secret as the deploy's key command stores it: private keys only, no id."""
    import json

    from cryptography.hazmat.primitives import serialization

    pem = KEYS[0].private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()).decode()
    return json.dumps({"keys": [{"private_key": pem, "created": "2026-12-01"}]})


def test_a_key_stored_without_id_takes_the_stacks_key_id(aws, settings):
    aws.secretsmanager.create_secret(Name="mediahub/dev/cloudfront-keys", SecretString=_deployed_document())
    loaded = load_signing_keys(settings.with_overrides(cloudfront_keys_secret="mediahub/dev/cloudfront-keys",
                                                       cloudfront_key_id="K3FROMSTACK"), aws)
    assert [k.key_id for k in loaded] == ["K3FROMSTACK"]
    assert loaded[0].public_key.public_numbers() == KEYS[0].public_key.public_numbers()


def test_a_key_without_any_id_is_refused_with_the_setting_to_fix(aws, settings):
    aws.secretsmanager.create_secret(Name="mediahub/dev/cloudfront-keys", SecretString=_deployed_document())
    with pytest.raises(ConfigError, match="MEDIAHUB_CLOUDFRONT_KEY_ID"):
        load_signing_keys(settings.with_overrides(cloudfront_keys_secret="mediahub/dev/cloudfront-keys"), aws)


def test_the_key_id_is_read_from_the_environment():
    from webapp.config import Settings

    settings = Settings.from_env({"MEDIAHUB_CLOUDFRONT_KEY_ID": " K3FROMSTACK "})
    assert settings.cloudfront_key_id == "K3FROMSTACK"
