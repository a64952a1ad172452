"""placeholder"""
from __future__ import annotations


def prescan(turn):
    return None


def follow_up(turn):
    return None


def question(turn):
    return None
