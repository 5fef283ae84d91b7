"""crm-platform: a low-code CRM platform whose objects, fields and rules are metadata.

Packages, lowest layer first: ``core`` (settings, database, value types, ids),
``metadata`` (definitions, store, DDL), ``expressions`` (the formula language),
``runtime`` (compiled org model, users and tokens, record service), ``api``
(HTTP blueprints) and the ``cli``. Dependencies point one way, down this list.
"""

__version__ = "0.1.0"
