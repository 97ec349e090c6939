from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class SigningKeyOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": "sk_01jeq3v5m3f6a9b1c2d3e4f5g6", "created_at": "2026-12-04T10:00:00Z"}
            ]
        }
    )

    id: str
    created_at: datetime


class SigningKeyCreated(SigningKeyOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "sk_01jeq3v5m3f6a9b1c2d3e4f5g6",
                    "created_at": "2026-12-04T10:00:00Z",
                    "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEv...\n"
                    "-----END PRIVATE KEY-----\n",
                }
            ]
        }
    )

    private_key: str = Field(
        description="PEM (PKCS#8) of an RSA 2048 key. Shown only in this response; sign RS256 "
        "playback tokens with it, `kid` = this key's id."
    )
