"""flask_gravicors: Gravitee API Management's per-API CORS and policy chain for Flask."""

from .errors import ConfigError, Problem
from .extension import GraviCORS
from .hookspecs import hookimpl
from .policy import Policy

__version__ = "0.1.0"

__all__ = ["GraviCORS", "ConfigError", "Problem", "Policy", "hookimpl", "__version__"]
