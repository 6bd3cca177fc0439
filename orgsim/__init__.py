"""orgsim: an agent-based simulation of silo'd versus responsive organisations."""

from orgsim.design import OrgDesign, from_coupling, preset
from orgsim.environment import EnvironmentConfig
from orgsim.errors import OrgsimError
from orgsim.model import OrgModel

__version__ = "0.2.0"
__all__ = ["EnvironmentConfig", "OrgDesign", "OrgModel", "OrgsimError", "from_coupling", "preset", "__version__"]
