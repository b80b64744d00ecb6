from modules.auth.api import AuthenticationFailed, Principal


def principal_for_authorization(authorization: str) -> Principal:
    raise AuthenticationFailed("Invalid credentials.")
