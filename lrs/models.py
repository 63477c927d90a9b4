"""Import every model module of both packages so that Base.metadata knows every table.

Alembic's autogenerate and the tests' schema comparison need the full metadata. Each area lists
its model modules here; a module that does not exist yet is skipped.
"""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "lrs.staff.models",
    "lrs.storage.credentials",
    "lrs.cache",
    "lrs.storage.models",
    "lrs.storage.documents",
    "lrs.outbox.models",
    "lrs.certification.models",
    "lti_tool.lti.models",
    "lti_tool.catalog.models",
    "lti_tool.learning.models",
)


def import_all_models() -> None:
    """Import every model module that exists."""
    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name is None or not name.startswith(err.name):
                raise
