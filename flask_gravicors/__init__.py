"""flask_gravicors: Gravitee API Management's per-API CORS, plans and flows for Flask."""

from .errors import ConfigError, Problem
from .extension import GraviCORS
from .hookspecs import hookimpl
from .policy import Policy
from .security import SecurityType
from .templates import Failure

__version__ = "0.1.0"

__all__ = ["GraviCORS", "ConfigError", "Problem", "Policy", "SecurityType", "Failure", "hookimpl", "__version__"]
