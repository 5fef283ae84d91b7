"""Approval processes (DESIGN §7): a record submitted for approval goes through ordered
steps, each with its criteria and approvers; it is locked while pending; the outcome
runs the process's actions.

The modules: ``definition`` (the kind's schema and compiled view), ``checks`` (what is
refused when a process is saved), ``store`` (the platform tables), ``approvers`` (who
approves a step), ``engine`` (submit, approve, reject, recall, reassign, history),
``lock`` (the record lock), ``escalation`` (the outbox job), ``action`` (the
``submit_for_approval`` action) and ``kind`` (how it all joins an org). Nothing is
imported here, so that the action catalog can import ``action`` without a cycle.
"""
