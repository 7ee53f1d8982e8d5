"""Shared by the designer tests: the shipped diagram (conftest drops versions a test deployed)."""

from pathlib import Path

XML = (Path(__file__).resolve().parents[2] / "processes" / "rectification.bpmn").read_bytes()
