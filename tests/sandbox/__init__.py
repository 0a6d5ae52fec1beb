"""Tests of the local Databasin-compatible sandbox API."""
