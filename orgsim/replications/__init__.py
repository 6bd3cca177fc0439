"""Replications of published models, used as validation anchors for orgsim."""
