"""Assignment rules (DESIGN §7): ordered entries whose first match picks a record's owner
— a user, a queue, a group's members in turn, or its least-loaded member — run on
create, on demand and by the ``assign`` action; plus the ``notify`` action.

Modules: ``schema`` (the kind's JSON Schema), ``rules`` (the compiled part), ``kind``
(registration, save-time checks, the on-create handler), ``engine`` (running a rule on a
record), ``actions`` (``assign`` and ``notify``). This package imports nothing on import
so that the action catalog and the kind can each take what they need.
"""
