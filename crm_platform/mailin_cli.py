"""``crm mail-in``: email-to-case from a mail server (see ``crm_platform.mailin``).

Piped (``crm mail-in < message.eml``, or from Postfix's ``pipe`` or a ``.forward``), it
takes one message and exits as a mail server expects (sysexits.h): 0 taken, 65 not a
message, 67 no such inbound address, 75 a temporary failure (the server tries again),
78 no org configured. With ``--listen HOST:PORT`` it is an SMTP server itself.
"""

from __future__ import annotations

import sys
import threading

import click

from .mailin import Delivered

EX_OK = 0
EX_DATAERR = 65
EX_NOUSER = 67
EX_TEMPFAIL = 75
EX_CONFIG = 78
MAX_INPUT = 30 * 1024 * 1024


@click.command("mail-in")
@click.option(
    "--to",
    "recipients",
    multiple=True,
    metavar="ADDRESS",
    help="The envelope recipient (Postfix: ${recipient}); repeat. "
    "Default: Delivered-To, X-Original-To, To and Cc of the message.",
)
@click.option("--listen", metavar="HOST:PORT", help="Run an SMTP server instead of reading stdin.")
def mail_in(recipients: tuple[str, ...], listen: str | None) -> None:
    """Email-to-case: read one RFC 822 message on standard input (or listen for SMTP);
    a message to an inbound address opens a case, a reply is added to its case."""
    from .cli import _org

    try:
        org = _org()
        ready = org.exists()
    except Exception as exc:  # the database away: the mail server keeps the message
        click.echo(f"mail-in: temporary failure: {exc}", err=True)
        sys.exit(EX_TEMPFAIL)
    if not ready:
        click.echo("mail-in: no org here yet: run `crm init` first", err=True)
        sys.exit(EX_CONFIG)
    if listen:
        _listen(org, listen)
        return
    sys.exit(_take_stdin(org, recipients))


def _take_stdin(org, recipients: tuple[str, ...]) -> int:
    from .mailin import UnknownAddress, Unreadable, deliver

    raw = sys.stdin.buffer.read(MAX_INPUT + 1)
    if len(raw) > MAX_INPUT:
        click.echo(f"mail-in: the message is larger than {MAX_INPUT} bytes", err=True)
        return EX_DATAERR
    try:
        done = deliver(org, raw, recipients)
    except Unreadable as exc:
        click.echo(f"mail-in: {exc}", err=True)
        return EX_DATAERR
    except UnknownAddress as exc:
        click.echo(f"mail-in: {exc.detail}", err=True)
        return EX_NOUSER
    except Exception as exc:  # the database locked or away: try again later
        click.echo(f"mail-in: temporary failure: {type(exc).__name__}: {exc}", err=True)
        return EX_TEMPFAIL
    click.echo(describe(done))
    org.work.run_pending()  # the auto-reply, with no broker (a worker sends it otherwise)
    return EX_OK


def describe(done: Delivered) -> str:
    """One line saying what became of a message."""
    line = f"{done.outcome} case {done.case_id} (message {done.message_id}, to {done.address})"
    if done.auto_reply:
        line += f"; auto-reply {done.auto_reply}"
    elif done.no_reply_because and done.outcome == "created":
        line += f"; no auto-reply: {done.no_reply_because}"
    return line


def _listen(org, listen: str) -> None:
    from .mailin.listen import listener

    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter("give HOST:PORT, e.g. 127.0.0.1:2525", param_hint="--listen")
    _start_background(org)
    controller, _handler = listener(org, host, int(port))
    click.echo(f"mail-in: listening for SMTP on {host}:{port} (Ctrl-C stops)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


def _start_background(org) -> None:
    """With no broker, auto-replies are sent by this process's work runner."""
    from .workflow import automation_of

    automation_of(org).start_scheduler()
