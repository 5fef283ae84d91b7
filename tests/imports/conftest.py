from .helpers import crm  # noqa: F401  (the fixture)
