"""Access tokens checked as Twilio checks them when a Voice SDK device registers."""

import time

import jwt

# Twilio's error codes for access tokens.
INVALID_TOKEN = 20101
INVALID_ISSUER = 20103
EXPIRED = 20104
NOT_YET_VALID = 20105
INVALID_GRANTS = 20106
INVALID_SIGNATURE = 20107


class TokenError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def verify_access_token(
    token: str, *, account_sid: str, api_key_sid: str, api_key_secret: str, now: float | None = None
) -> dict:
    """The token's claims if Twilio would accept it for a Voice device, else TokenError.

    Checked: HS256 signature with the API key's secret, issuer (the API key) and subject (the
    account), ``exp``/``nbf``, an identity and a voice grant.
    """
    if not token or not isinstance(token, str):
        raise TokenError(INVALID_TOKEN, "Invalid Access Token")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenError(INVALID_TOKEN, "Invalid Access Token") from None
    if header.get("alg") != "HS256" or header.get("cty") != "twilio-fpa;v=1":
        raise TokenError(INVALID_TOKEN, "Invalid Access Token header")
    if not api_key_sid or not api_key_secret:
        raise TokenError(INVALID_ISSUER, "No API key is configured for this account")
    try:
        claims = jwt.decode(
            token,
            api_key_secret,
            algorithms=["HS256"],
            options={"verify_exp": False, "verify_nbf": False},
        )
    except jwt.InvalidSignatureError:
        raise TokenError(INVALID_SIGNATURE, "Invalid Access Token signature") from None
    except jwt.PyJWTError:
        raise TokenError(INVALID_TOKEN, "Invalid Access Token") from None
    if claims.get("iss") != api_key_sid or claims.get("sub") != account_sid:
        raise TokenError(INVALID_ISSUER, "Invalid Access Token issuer/subject")
    now = time.time() if now is None else now
    if not isinstance(claims.get("exp"), int | float) or claims["exp"] <= now:
        raise TokenError(EXPIRED, "Access Token expired or expiration date invalid")
    if isinstance(claims.get("nbf"), int | float) and claims["nbf"] > now:
        raise TokenError(NOT_YET_VALID, "Access Token not yet valid")
    grants = claims.get("grants") or {}
    if not grants.get("identity"):
        raise TokenError(INVALID_GRANTS, "Access Token has no identity")
    if not isinstance(grants.get("voice"), dict):
        raise TokenError(INVALID_GRANTS, "Access Token has no voice grant")
    return claims
