"""One web process for tests/core/test_sessions.py: Django with the development settings (sessions
in the database through Redis, as on every web machine), driven line by line on stdin; each
command answers one line on stdout.

    login <user id>   -> the new session key     cookie <key> -> ok
    get <path>        -> the status code         logout       -> the status code
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    cookie = settings.SESSION_COOKIE_NAME
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "login":
            client.force_login(get_user_model().objects.get(pk=int(argument)))
            answer = client.cookies[cookie].value
        elif command == "cookie":
            client.cookies[cookie] = argument
            answer = "ok"
        elif command == "get":
            answer = str(client.get(argument).status_code)
        elif command == "logout":
            answer = str(client.post("/accounts/logout/").status_code)
        else:
            answer = f"unknown command {command!r}"
        print(answer, flush=True)


if __name__ == "__main__":
    main()
