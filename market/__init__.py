"""Chợ 4.0 domain: the registry tables, the services that own every rule about them, and the ledger.

Services are plain functions that take a session first and everything else keyword-only; they
never commit (the caller owns the unit of work) and raise `market.errors.DomainError` subclasses.
This package never imports FastAPI or `api/`.
"""
