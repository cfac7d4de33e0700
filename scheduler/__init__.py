"""Regroup: group scheduling, return placement and fair waitlists for an IOP."""
