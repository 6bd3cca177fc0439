"""orgsim: an agent-based simulation of silo'd versus responsive organisations."""

__version__ = "0.1.0"
