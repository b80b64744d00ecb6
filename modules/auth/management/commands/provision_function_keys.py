"""`manage.py provision_function_keys --parameter-prefix /majestic --gateway-url https://…/graphql/`

Writes the SSM parameters infra/template.yaml reads at deploy and run time: `<prefix>/gateway-url`
(String) and, per function that calls the gateway, a new API key with exactly its scope as the
SecureString `<prefix>/api-keys/<function>`. Run it against the production database before
`sam deploy`, and again to rotate: `--revoke-replaced` then revokes the key each parameter held,
and the functions pick up the new one at their next 401 (infra/functions/shared/gateway.py).
The keys are never printed. AWS credentials and region come from the usual boto3 environment.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from modules.auth.api import authenticate
from modules.auth.principals import AuthenticationFailed
from modules.auth.services import api_key_create, api_key_revoke

# Function -> the scopes its key carries (the template's *ApiKeyParameterName parameters).
FUNCTION_SCOPES = {"distribution": ["DISTRIBUTION"], "heartbeat": ["HEARTBEAT"]}
PARAMETER_PREFIX = re.compile(r"^(/[A-Za-z0-9_.-]+)+$")  # as the template's AllowedPattern


class Command(BaseCommand):
    help = "Create the functions' API keys and write them, and the gateway URL, to SSM."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--parameter-prefix",
            default="/majestic",
            help="Parameter path prefix: /majestic (prod, the template's defaults), /majestic-dev.",
        )
        parser.add_argument(
            "--gateway-url", help="The gateway's GraphQL URL, https://…/graphql/ (else kept)."
        )
        parser.add_argument(
            "--kms-key-id", help="KMS key for the SecureStrings (default: aws/ssm)."
        )
        parser.add_argument(
            "--revoke-replaced",
            action="store_true",
            help="Revoke the key each parameter held before (a rotation).",
        )

    def handle(
        self,
        *args: Any,
        parameter_prefix: str,
        gateway_url: str | None,
        kms_key_id: str | None,
        revoke_replaced: bool,
        **options: Any,
    ) -> None:
        prefix = parameter_prefix.rstrip("/")
        if not PARAMETER_PREFIX.match(prefix):
            raise CommandError("--parameter-prefix must look like /majestic or /majestic-dev.")
        if gateway_url is not None and not re.match(r"^https://[^/\s]+/\S*$", gateway_url):
            raise CommandError(
                "--gateway-url must be an https:// URL, e.g. https://api.example.com/graphql/."
            )
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        ssm = boto3.client("ssm")
        try:
            if gateway_url is not None:
                ssm.put_parameter(
                    Name=f"{prefix}/gateway-url", Value=gateway_url, Type="String", Overwrite=True
                )
                self.stdout.write(f"{prefix}/gateway-url = {gateway_url}")
            for function, scopes in FUNCTION_SCOPES.items():
                self._provision(ssm, prefix, function, scopes, kms_key_id, revoke_replaced)
        except (BotoCoreError, ClientError) as exc:
            # The error names the call and the parameter, never a key value.
            raise CommandError(f"SSM refused: {exc}") from None

    def _provision(
        self,
        ssm: Any,
        prefix: str,
        function: str,
        scopes: list[str],
        kms_key_id: str | None,
        revoke_replaced: bool,
    ) -> None:
        parameter = f"{prefix}/api-keys/{function}"
        name_prefix = f"{prefix.strip('/').replace('/', '-')}-{function}-"
        replaced = self._current_key_name(ssm, parameter, name_prefix) if revoke_replaced else None
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        created = api_key_create(name=f"{name_prefix}{stamp}", scopes=scopes)
        arguments: dict[str, Any] = {
            "Name": parameter,
            "Value": created.key,
            "Type": "SecureString",
            "Overwrite": True,
        }
        if kms_key_id:
            arguments["KeyId"] = kms_key_id
        try:
            ssm.put_parameter(**arguments)
        except Exception:
            api_key_revoke(name=created.name)  # a key nobody holds must not stay valid
            raise
        self.stdout.write(f"{parameter} = API key {created.name!r} ({', '.join(created.scopes)})")
        if replaced is not None:
            api_key_revoke(name=replaced)
            self.stdout.write(f"  revoked the replaced key {replaced!r}")

    def _current_key_name(self, ssm: Any, parameter: str, name_prefix: str) -> str | None:
        """The name of the key the parameter holds, if this command made it (never another)."""
        try:
            value = ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
        except ssm.exceptions.ParameterNotFound:
            return None
        try:
            name = authenticate(f"Api-Key {value}").api_key_name  # a valid key of ours, by digest
        except AuthenticationFailed:
            return None  # already revoked, or not a key of this database
        return name if name and name.startswith(name_prefix) else None
