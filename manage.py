#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    if os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() not in ("", "none"):
        import django

        django.setup()
        from config.tracing import configure_tracing

        configure_tracing()  # before the command's first query (relay_events: its PutEvents spans)

    execute_from_command_line(sys.argv)
