"""OpenID Connect identity-provider simulator (one issuer per partner company).

``create_app()`` builds the Litestar app; ``python -m simulators.idp`` serves it.
"""

from .config import ClientConfig, ConfigError, IdpConfig, TenantConfig, UserConfig

__all__ = ["ClientConfig", "ConfigError", "IdpConfig", "TenantConfig", "UserConfig", "create_app"]


def create_app(config: IdpConfig | None = None):
    """Build the simulator app (see :func:`simulators.idp.app.create_app`)."""
    from .app import create_app as _create_app

    return _create_app(config)
