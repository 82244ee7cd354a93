"""The only layer that runs SQL: tables, migrations and one repository per aggregate."""
