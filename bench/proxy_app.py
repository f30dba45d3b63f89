"""Baseline B: the classic proxy upload. The file comes to the app as a multipart form and the
app puts it to S3 with boto3, as the usual Lambda upload functions do."""

import os
import uuid

import boto3
from botocore.config import Config
from flask import Flask, jsonify, request

app = Flask(__name__)
s3 = boto3.client(
    "s3",
    endpoint_url=os.environ.get("MEDIAHUB_AWS_ENDPOINT_URL"),
    region_name="us-east-1",
    config=Config(s3={"addressing_style": "path"}),
)
BUCKET = os.environ["MEDIAHUB_BUCKET"]


@app.get("/api/health")
def health():
    return jsonify(status="ok")


@app.post("/upload")
def upload():
    uploaded = request.files["file"]
    key = f"uploads/{uuid.uuid4().hex}/{uploaded.filename}"
    s3.upload_fileobj(uploaded.stream, BUCKET, key, ExtraArgs={"ContentType": uploaded.mimetype})
    return jsonify(key=key), 201
